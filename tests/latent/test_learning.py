"""Optimistic learning in latent MDPs (mdpkit.latent.learning) and its sweep cell (.experiments)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from mdpkit.errors import InvalidArgumentError, MdpkitError
from mdpkit.latent.experiments import latent_regret, revealing_lmdp, validate_latent_regret
from mdpkit.latent.instances import hard_instance, random_lmdp
from mdpkit.latent.learning import (
    BeliefPolicy,
    LatentLearningError,
    LatentSpec,
    ModelOptimistic,
    ValueOptimistic,
    _greedy_box_simplex,
    belief_plan,
    evaluate_belief_policy,
    iota,
    make_latent_agent,
    run_latent,
)
from mdpkit.latent.planning import evaluate, plan

AGENT_CLASSES = [ValueOptimistic, ModelOptimistic]


def _instances():
    yield random_lmdp(3, 2, 2, 4, seed=1, support=2, reward_observed=False)
    yield random_lmdp(3, 2, 2, 3, seed=2, noise=0.1, support=2, reward_observed=True)
    yield random_lmdp(2, 2, 3, 3, seed=3, support=2, stationary=False, reward_observed=False)
    yield hard_instance(2, 2, 2, eps=0.2, seed=0).lmdp


@pytest.mark.parametrize("idx", range(4))
def test_belief_plan_matches_exact_planner(idx):
    lmdp = list(_instances())[idx]
    v, pol = belief_plan(lmdp)
    ref = plan(lmdp)
    assert v == pytest.approx(ref.value, abs=1e-12)
    # the merged-belief policy is optimal in the history-enumerating evaluator and in ours
    assert evaluate(lmdp, pol) == pytest.approx(ref.value, abs=1e-12)
    assert evaluate_belief_policy(lmdp, pol) == pytest.approx(ref.value, abs=1e-12)


@pytest.mark.parametrize("cls", AGENT_CLASSES)
def test_learner_policies_evaluated_exactly(cls):
    """The exact evaluator of a learner's policy agrees with planning.evaluate (history enumeration)."""
    lmdp = random_lmdp(3, 2, 2, 4, seed=5, support=2, reward_observed=False)
    agent = cls(LatentSpec.of(lmdp), K=60)
    rng = np.random.default_rng(0)
    checked = 0
    for k in range(60):
        if k % 15 == 0:
            ours = evaluate_belief_policy(lmdp, agent.policy)
            assert ours == pytest.approx(evaluate(lmdp, agent.policy), abs=1e-12)
            checked += 1
        ep = lmdp.sample_episode(agent.policy, rng)
        agent.begin_episode(int(ep.states[0]))
        for h in range(lmdp.H):
            assert agent.act() == int(ep.actions[h])
            agent.observe(int(ep.actions[h]), float(ep.rewards[h]), int(ep.states[h + 1]))
        agent.end_episode(ep.context)
    assert checked == 4


@pytest.mark.parametrize("cls", AGENT_CLASSES)
def test_same_seed_same_bits(cls):
    lmdp = random_lmdp(3, 2, 2, 4, seed=7, support=2, reward_observed=False)
    runs = [run_latent(lmdp, cls(LatentSpec.of(lmdp), K=150), 150, seed=11) for _ in range(2)]
    for name in ("values", "optimistic", "returns", "contexts"):
        a, b = getattr(runs[0], name), getattr(runs[1], name)
        assert a.tobytes() == b.tobytes(), name
    other = run_latent(lmdp, cls(LatentSpec.of(lmdp), K=150), 150, seed=12)
    assert other.contexts.tobytes() != runs[0].contexts.tobytes()


@pytest.mark.parametrize("cls", AGENT_CLASSES)
@pytest.mark.parametrize("idx", range(4))
def test_optimism_and_nonnegative_regret(cls, idx):
    """Every episode: optimistic value >= V* >= V^{pi_k} (V* from the history-enumerating planner)."""
    lmdp = list(_instances())[idx]
    v_star = plan(lmdp).value
    K = 200
    run = run_latent(lmdp, cls(LatentSpec.of(lmdp), K=K), K, seed=idx)
    assert run.v_star == pytest.approx(v_star, abs=1e-12)
    assert np.all(run.optimistic >= v_star - 1e-12), np.min(run.optimistic - v_star)
    per_episode = run.v_star - run.values
    assert np.all(per_episode >= -1e-12), per_episode.min()
    assert np.all(np.diff(run.regret()) >= -1e-12)
    assert run.regret()[-1] > 0  # the learner does pay for exploration here


def test_doubling_rule_refreshes_exactly_at_doublings():
    lmdp = random_lmdp(3, 2, 2, 3, seed=4, support=2, reward_observed=False)
    agent = ValueOptimistic(LatentSpec.of(lmdp), K=400)
    run_latent(lmdp, agent, 400, seed=3)
    last: dict[tuple, int] = {}
    plans_expected = 1
    episodes_with_refresh = set()
    for episode, m, h, s, a, n in agent.refresh_log:
        key = (m, h, s, a)
        assert n >= 2 * last.get(key, 0) and n >= 1
        last[key] = n
        episodes_with_refresh.add(episode)
    plans_expected += len(episodes_with_refresh)
    assert agent.n_plans == plans_expected
    # no doubling was missed: every pair's count is below twice its last refresh count
    N = agent.counts.sum(axis=-1)
    for key, n in last.items():
        assert N[key] < 2 * n
    untouched = [k for k in np.ndindex(N.shape) if k not in last]
    assert all(N[k] == 0 for k in untouched)


def test_doubling_by_hand():
    """Feed one (s, a) pair repeatedly: refreshes happen at counts 1, 2, 4, 8, ..."""
    S, A, M, H = 2, 1, 1, 1
    P = np.zeros((M, S, A, S))
    P[0, :, 0, 1] = 1.0
    R = np.zeros((M, S, A))
    from mdpkit.latent.model import LatentMDP

    lmdp = LatentMDP(P, R, H, np.ones(1), np.eye(S)[0])
    agent = ModelOptimistic(LatentSpec.of(lmdp), K=100)
    for _ in range(40):
        agent.begin_episode(0)
        agent.observe(agent.act(), 0.0, 1)
        agent.end_episode(0)
    assert [n for *_, n in agent.refresh_log] == [1, 2, 4, 8, 16, 32]
    assert [e for e, *_ in agent.refresh_log] == [0, 1, 3, 7, 15, 31]
    assert agent.n_plans == 7


def test_greedy_box_simplex_is_the_lp_optimum():
    rng = np.random.default_rng(0)
    for _ in range(40):
        S = int(rng.integers(2, 7))
        p = rng.dirichlet(np.ones(S))
        r = rng.uniform(0, 0.4, S)
        alpha = rng.uniform(0, 1, S)
        lo, hi = np.maximum(0, p - r), np.minimum(1, p + r)
        lp = linprog(-alpha, A_eq=np.ones((1, S)), b_eq=[1.0], bounds=list(zip(lo, hi, strict=True)))
        assert _greedy_box_simplex(p, r, alpha) == pytest.approx(-lp.fun, abs=1e-9)


def test_iota_and_errors():
    assert iota(2, 3, 2, 5, 100, 0.05) == pytest.approx(2 * np.log(2 * 2 * 3 * 2 * 5 * 100 / 0.05))
    with pytest.raises(InvalidArgumentError, match="delta"):
        iota(2, 3, 2, 5, 100, 1.5)
    lmdp = random_lmdp(3, 2, 2, 3, seed=0)
    spec = LatentSpec.of(lmdp)
    with pytest.raises(InvalidArgumentError, match="unknown latent agent"):
        make_latent_agent("ucbvi", spec, 10)
    with pytest.raises(InvalidArgumentError, match="bonus_scale"):
        make_latent_agent("value-optimistic", spec, 10, bonus_scale=0)
    with pytest.raises(InvalidArgumentError, match="K = 0"):
        ValueOptimistic(spec, 0)
    with pytest.raises(InvalidArgumentError, match="mode"):
        BeliefPolicy(lmdp.P, lmdp.R, lmdp.weights, lmdp.initial, mode="robust")
    with pytest.raises(LatentLearningError, match="budget of 3 nodes"):
        belief_plan(random_lmdp(3, 2, 2, 4, seed=0, reward_observed=False), max_nodes=3)
    assert issubclass(LatentLearningError, MdpkitError)


def test_revealing_family_shares_kernels_across_H():
    a, b = revealing_lmdp(3, 2, 2, 5, seed=1), revealing_lmdp(3, 2, 2, 40, seed=1)
    assert np.array_equal(a.P[:, 0], b.P[:, 0])
    assert np.allclose(a.R[:, 0] * 5, b.R[:, 0] * 40)
    assert b.max_total_reward <= 1.0 + 1e-12
    with pytest.raises(InvalidArgumentError, match="H = 1"):
        revealing_lmdp(3, 2, 2, 1)


def test_latent_regret_cell():
    cfg = {
        "family": "random",
        "instance": {"S": 3, "A": 2, "M": 2, "H": 3, "support": 2, "reward_observed": False, "seed": 0},
        "algorithm": {"name": "model-optimistic", "label": "MO", "bonus_scale": 0.5},
        "K": 50,
        "checkpoints": 5,
    }
    rec = latent_regret(cfg, 3)
    assert rec["algorithm"] == "MO" and rec["k"][-1] == 50
    assert len(rec["regret"]) == len(rec["k"]) == len(rec["scale"])
    assert rec["optimism_violations"] == 0 and rec["min_episode_regret"] >= -1e-12
    assert rec["var_star"] == pytest.approx(random_lmdp(**cfg["instance"]).var_star)
    assert latent_regret(cfg, 3)["regret"] == rec["regret"]
    with pytest.raises(InvalidArgumentError, match="unknown key"):
        validate_latent_regret({**cfg, "T": 3})
    with pytest.raises(InvalidArgumentError, match="family"):
        validate_latent_regret({**cfg, "family": "garnet"})
    with pytest.raises(InvalidArgumentError, match="unknown parameter"):
        validate_latent_regret({**cfg, "algorithm": {"name": "value-optimistic", "gamma": 1}})


def _fake(k, Y, config, extra):
    return [
        {"config": config, "seed": i, "record": {"k": list(k), "regret": list(y), **extra}}
        for i, y in enumerate(Y)
    ]


def test_fits_recover_known_exponents():
    from mdpkit.latent.experiments import hard_rows, horizon_rows, slope_rows, variance_rows

    rng = np.random.default_rng(0)
    k = np.unique(np.geomspace(1, 1000, 20).astype(int))
    noise = 1 + 0.01 * rng.standard_normal((5, 1))
    recs = _fake(k, 3.0 * np.sqrt(k) * noise, {}, {"algorithm": "A", "optimism_violations": 0})
    (row,) = slope_rows(recs)
    assert row["slope"] == pytest.approx(0.5, abs=1e-9) and row["lo"] <= 0.5 <= row["hi"]
    recs = []
    for H in (5, 10, 20, 40):
        recs += _fake(k, 2.0 * H**0.25 * np.sqrt(k) * noise, {}, {"H": H})
    rows, fit = horizon_rows(recs)
    assert [r["H"] for r in rows] == [5, 10, 20, 40]
    assert fit["slope"] == pytest.approx(0.25, abs=1e-9) and fit["ratio"] == pytest.approx(8**0.25)
    recs = []
    for eps, v in ((0.0, 0.0), (0.5, 0.01)):
        cfg = {"instance": {"noise": eps}}
        recs += _fake(k, (1 + 100 * v) * np.sqrt(k) * noise, cfg, {"algorithm": "A", "var_star": v})
    rows = variance_rows(recs)
    assert [r["noise"] for r in rows] == [0.0, 0.5] and rows[0]["regret_K"] < rows[1]["regret_K"]
    recs = []
    for M, sc in ((2, 0.25), (4, 1.0), (8, 0.5)):
        x = np.sqrt(sc**2 / 4 * M * 9 * 2 * k)
        cfg = {"instance": {"M": M, "L": 2, "A": 2, "scale": sc}}
        extra = {"M": M, "A": 2, "S": 9, "var_star": sc**2 / 4, "scale": list(x)}
        recs += _fake(k, 0.7 * x * noise, cfg, extra)
    rows, fit = hard_rows(recs)
    assert fit["slope"] == pytest.approx(1.0, abs=1e-9)
    assert fit["ratio_min"] == pytest.approx(fit["ratio_max"])


def test_records_for_needs_stored_sweep_or_quick(monkeypatch, tmp_path):
    import mdpkit.latent.experiments as E

    monkeypatch.setattr(E, "SWEEP_RESULTS", tmp_path)
    assert E.load_records("hard") == []
    with pytest.raises(InvalidArgumentError, match="latent_hard"):
        E.records_for("hard", quick=False)
    with pytest.raises(InvalidArgumentError, match="not one of"):
        E.load_records("garnet")
