"""DR-RPO (mdpkit.linear.drrpo), its torch twin and its experiment cells."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit import backward_induction
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments.store import ResultsStore
from mdpkit.experiments.sweep import Sweep, load_sweep, run_sweep
from mdpkit.linear import (
    evaluate_under,
    random_linear_mdp,
    robust_dp,
    robust_evaluate,
    simulated_linear_mdp,
    worst_case_factors,
)
from mdpkit.linear.drrpo import (
    draw_uniforms,
    drrpo,
    drrpo_batched,
    regularized_oppo,
    robust_expectation,
)
from mdpkit.linear.experiments import regret, robustness

SWEEPS = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples" / "sweeps"

models = st.builds(
    random_linear_mdp,
    seed=st.integers(0, 2**31),
    S=st.integers(2, 5),
    A=st.integers(1, 3),
    d=st.integers(1, 4),
    H=st.integers(1, 3),
    sparse=st.booleans(),
)
divergences = st.sampled_from([("tv", 0.0), ("tv", 0.2), ("tv", 0.7), ("kl", 0.1), ("kl", 1.5)])
# lam = 0 or >= 1e-3: robust_dp overflows Q / lam for subnormal lam (reported to its owner)
lams = st.one_of(st.just(0.0), st.floats(1e-3, 0.5))


# ----------------------------------------------------------------------------- inner problem
@settings(max_examples=40, deadline=None)
@given(models, divergences, st.integers(0, 2**31))
def test_robust_expectation_equals_exact_dual_on_distributions(m, div_rho, seed):
    """On true factor rows the learner's dual equals mdpkit.linear.robust's exact inner problem."""
    div, rho = div_rho
    v = np.random.default_rng(seed).normal(size=m.S) * 3
    ours = robust_expectation(m.mu[0], v, div, rho)
    ref = worst_case_factors(m.mu[0], v, div, rho)[0] if rho > 0 else m.mu[0] @ v
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10 * (1 + np.abs(v).max()))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 4), st.integers(2, 6), st.floats(0.01, 1.0))
def test_tv_breakpoints_maximise_over_the_whole_interval(seed, d, S, rho):
    """For an estimated row (any signs) the max over alpha in {V(s)} is the max over [min V, max V]."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(d, S))
    v = rng.normal(size=S)
    ours = robust_expectation(M, v, "tv", rho)
    alphas = np.linspace(v.min(), v.max(), 2001)
    dense = (M @ np.minimum(v[:, None], alphas[None, :])) - rho * (alphas - v.min())[None, :]
    assert np.all(ours >= dense.max(axis=1) - 1e-12)
    # and it is attained: some alpha on the grid of breakpoints gives it
    at = (M @ np.minimum(v[:, None], v[None, :])) - rho * (v - v.min())[None, :]
    np.testing.assert_allclose(ours, at.max(axis=1), rtol=0, atol=1e-13)


# ----------------------------------------------------------------------------- the learner
@settings(max_examples=20, deadline=None)
@given(models, divergences, lams, st.floats(0.0, 2.0), st.integers(0, 1000))
def test_values_are_exact_robust_evaluations_and_below_the_optimum(m, div_rho, lam, eta, seed):
    """values[k] is robust_evaluate(pi_k) (checked for pi_0 = pi_ref and the last policy); gaps >= 0."""
    div, rho = div_rho
    K = 6
    kw = dict(
        rho=rho, divergence=div, lam=lam, eta=eta, beta=0.5, seed=seed
    )  # beta fixed: default depends on K
    r = drrpo(m, K, **kw)
    longer = drrpo(m, K + 1, **kw)  # same uniforms for the first K episodes
    np.testing.assert_array_equal(longer.values[:K], r.values)
    uniform = np.full((m.H, m.S, m.A), 1.0 / m.A)
    tol = 1e-9 * (1 + m.H)
    ev0 = robust_evaluate(m, uniform, div, rho, lam=lam).value
    evK = robust_evaluate(m, r.policy, div, rho, lam=lam).value
    assert abs(r.values[0] - ev0) <= tol
    assert abs(longer.values[K] - evK) <= tol
    assert abs(r.v_star - robust_dp(m, div, rho, lam=lam).value) <= tol
    assert np.all(longer.gaps >= -tol)
    assert r.visits.sum() == K * m.H


@settings(max_examples=12, deadline=None)
@given(models, divergences, lams, st.integers(0, 1000))
def test_torch_twin_agrees_with_numba(m, div_rho, lam, seed):
    """Same seeds -> same trajectories (visit counts equal) and values/policies equal to 1e-9."""
    div, rho = div_rho
    K = 6
    kw = dict(rho=rho, divergence=div, lam=lam, eta=0.7, bonus_scale=0.1)
    batch = drrpo_batched(m, K, [seed, seed + 1], device="cpu", **kw)
    for b, s in enumerate((seed, seed + 1)):
        ref = drrpo(m, K, seed=s, **kw)
        np.testing.assert_array_equal(batch.visits[b], ref.visits)
        np.testing.assert_allclose(batch.values[b], ref.values, rtol=0, atol=1e-9)
        np.testing.assert_allclose(batch.returns[b], ref.returns, rtol=0, atol=1e-12)
        np.testing.assert_allclose(batch.policy[b], ref.policy, rtol=0, atol=1e-9)
        assert batch.v_star[b] == ref.v_star


def test_torch_backend_of_drrpo_and_batches_of_models():
    m1, m2 = random_linear_mdp(1, S=4, A=2, d=3, H=2), random_linear_mdp(2, S=4, A=2, d=3, H=2)
    one = drrpo(m1, 10, rho=0.2, seed=3, backend="torch", device="cpu")
    ref = drrpo(m1, 10, rho=0.2, seed=3)
    np.testing.assert_allclose(one.values, ref.values, rtol=0, atol=1e-9)
    both = drrpo_batched([m1, m2], 10, [3, 4], rho=0.2, device="cpu")
    np.testing.assert_allclose(both.values[1], drrpo(m2, 10, rho=0.2, seed=4).values, rtol=0, atol=1e-9)


def test_reproducible_bits():
    m = simulated_linear_mdp()
    a = drrpo(m, 300, rho=0.2, bonus_scale=0.1, seed=7)
    b = drrpo(m, 300, rho=0.2, bonus_scale=0.1, seed=np.random.default_rng(7))
    c = drrpo(m, 300, rho=0.2, bonus_scale=0.1, seed=8)
    for f in ("values", "returns", "policy", "visits"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.returns, c.returns)
    np.testing.assert_array_equal(draw_uniforms(7, 300, 3)[:10], draw_uniforms(7, 10, 3))


def test_non_robust_counterpart_is_scored_against_the_nominal_optimum():
    m = random_linear_mdp(5, S=4, A=3, d=3, H=3)
    r = regularized_oppo(m, 20, lam=0.0, seed=1, bonus_scale=0.1)
    fh = backward_induction(m.to_finite_horizon())
    assert abs(r.v_star - float(m.initial @ fh.V[0])) < 1e-12
    same = drrpo(m, 20, rho=0.0, lam=0.0, seed=1, bonus_scale=0.1)
    np.testing.assert_array_equal(r.values, same.values)
    with pytest.raises(InvalidArgumentError, match="rho"):
        regularized_oppo(m, 5, rho=0.1)


def test_mirror_descent_step_closed_form_with_known_q():
    """One state, one step, no bonus: Q is the known reward, so pi_1 follows the closed-form MD step."""
    theta = np.array([[0.2, 0.9]])
    phi = np.eye(2).reshape(1, 2, 2)  # S = 1, A = 2, d = 2
    m = random_linear_mdp(0, S=1, A=2, d=2, H=1).__class__(phi, np.ones((1, 2, 1)), theta, 1)
    eta, lam = 0.8, 0.3
    r = drrpo(m, 2, rho=0.0, lam=lam, eta=eta, beta=0.0, seed=0)
    ref = np.array([0.5, 0.5])
    logits = (np.log(ref) + eta * lam * np.log(ref) + eta * theta[0]) / (1 + eta * lam)
    pi1 = np.exp(logits) / np.exp(logits).sum()
    v1 = pi1 @ theta[0] - lam * np.sum(pi1 * np.log(pi1 / ref))
    assert abs(r.values[1] - v1) < 1e-14


def test_regret_is_sublinear_on_the_simulated_mdp():
    """Cumulative regret of the second half of 4000 episodes is far below the first half's."""
    r = drrpo(simulated_linear_mdp(), 4000, rho=0.1, lam=0.05, bonus_scale=0.1, seed=0)
    first, second = r.gaps[:2000].sum(), r.gaps[2000:].sum()
    assert second < 0.25 * first


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(rho=1.5), "rho"),
        (dict(rho=-0.1), "rho"),
        (dict(divergence="chi2"), "divergence"),
        (dict(lam=-1.0), "lam"),
        (dict(ridge=0.0), "ridge"),
        (dict(eta=float("nan")), "eta"),
        (dict(backend="jax"), "backend"),
        (dict(pi_ref=np.array([[1.0, 0.0]] * 4)), r"pi_ref\[0, 0, 1\]"),
        (dict(pi_ref=np.full((4, 2), 0.3)), "sums to"),
    ],
)
def test_invalid_arguments_are_named(kw, match):
    m = random_linear_mdp(0, S=4, A=2, d=3, H=2)
    with pytest.raises(InvalidArgumentError, match=match):
        drrpo(m, 5, **kw)


def test_invalid_K_and_batches():
    m = random_linear_mdp(0, S=4, A=2, d=3, H=2)
    with pytest.raises(InvalidArgumentError, match="K"):
        drrpo(m, 0)
    with pytest.raises(InvalidArgumentError, match="one shape"):
        drrpo_batched([m, random_linear_mdp(0, S=3, A=2, d=3, H=2)], 3, [0, 1], device="cpu")
    with pytest.raises(InvalidArgumentError, match="one per seed"):
        drrpo_batched([m], 3, [0, 1], device="cpu")


# ----------------------------------------------------------------------------- experiments
def test_regret_and_robustness_cells():
    cfg = {
        "instance": "simulated",
        "K": 200,
        "checkpoints": 10,
        "algorithm": {"name": "drrpo", "label": "x", "rho": 0.1, "lam": 0.05, "bonus_scale": 0.1},
    }
    rec = regret(cfg, 0)
    assert rec["t"][-1] == 200 and len(rec["regret"]) == len(rec["t"])
    assert np.all(np.diff(rec["regret"]) >= -1e-9)
    full = drrpo(simulated_linear_mdp(), 200, rho=0.1, lam=0.05, bonus_scale=0.1, seed=0)
    assert rec["regret"][-1] == pytest.approx(full.regret[-1], abs=1e-12)
    rob = {
        "instance": "simulated",
        "K": 50,
        "perturb": {"param": "q", "values": [0.0, 0.5]},
        "algorithm": {"name": "exact", "rho": 0.3, "lam": 0.05},
    }
    out = robustness(rob, 0)
    sol = robust_dp(simulated_linear_mdp(), "tv", 0.3, lam=0.05)
    nominal = evaluate_under(simulated_linear_mdp(), sol.policy, lam=0.05).value
    assert out["value"][0] == pytest.approx(nominal, abs=1e-12)  # q = 0 is the nominal model
    assert sol.value <= nominal + 1e-12  # the robust value is a worst case over a set holding it
    assert out["value"][1] < out["value"][0]
    with pytest.raises(InvalidArgumentError, match="learner"):
        regret({**cfg, "algorithm": {"name": "exact"}}, 0)
    with pytest.raises(InvalidArgumentError, match="unknown key"):
        regret({**cfg, "T": 3}, 0)
    with pytest.raises(InvalidArgumentError, match="rho = 0"):
        regret({**cfg, "algorithm": {"name": "oppo", "rho": 0.2}}, 0)


@pytest.mark.parametrize("name", ["drrpo_regret.toml", "drrpo_robustness.toml", "drrpo_kl.toml"])
def test_example_sweeps_validate(name):
    sweep = load_sweep(SWEEPS / name)
    assert len(sweep.validate()) >= 10 * 3  # >= 10 seeds


def test_tiny_sweep_runs_and_stores(tmp_path):
    sweep = Sweep(
        name="drrpo-tiny",
        experiment="mdpkit.linear.experiments:regret",
        grid={"algorithm": [{"name": "drrpo", "rho": 0.1, "bonus_scale": 0.1}, {"name": "oppo"}]},
        params={"instance": "simulated", "K": 30, "checkpoints": 5},
        seeds=2,
    )
    rep = run_sweep(sweep, tmp_path / "r.sqlite", backend="serial", progress=False)
    assert rep.complete and rep.ran == 4
    with ResultsStore(tmp_path / "r.sqlite", readonly=True) as store:
        assert len(list(store.records())) == 4
