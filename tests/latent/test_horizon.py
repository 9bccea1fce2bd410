"""The genuinely latent horizon-free family (mdpkit.latent.instances.signal_lmdp) and its sweep cell."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit.errors import InvalidArgumentError, MdpkitError
from mdpkit.latent.experiments import (
    REDUCED,
    SWEEPS,
    build_instance,
    horizon_rows,
    latent_regret,
    validate_latent_regret,
)
from mdpkit.latent.instances import signal_lmdp
from mdpkit.latent.learning import belief_plan
from mdpkit.latent.planning import plan

HORIZONS = (2, 3, 5, 10, 20, 40)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"W": 1}, "W = 1"),
        ({"A": 1}, "A = 1"),
        ({"M": 0}, "M = 0"),
        ({"H": 1}, "H = 1"),
        ({"H": 2.0}, "H = 2.0"),
        ({"noise": 0.0}, "noise = 0.0"),
        ({"noise": 1.0}, "noise = 1.0"),
        ({"noise": True}, "noise = True"),
        ({"noise": -0.1}, "noise = -0.1"),
    ],
)
def test_validation(kwargs, match):
    args = {"W": 2, "A": 2, "M": 2, "H": 6, "noise": 0.2, "seed": 0} | kwargs
    with pytest.raises(InvalidArgumentError, match=match) as info:
        signal_lmdp(**args)
    assert isinstance(info.value, MdpkitError)


@pytest.mark.parametrize("H", HORIZONS)
@pytest.mark.parametrize("W, A, M", [(2, 2, 2), (3, 3, 3), (2, 3, 4)])
def test_total_reward_at_most_one(H, W, A, M):
    lmdp = signal_lmdp(W, A, M, H, seed=3)
    # exact maximum over trajectories of positive probability, every context
    assert lmdp.max_total_reward <= (H // 2) / H + 1e-12
    assert lmdp.max_total_reward <= 1.0
    assert lmdp.R.min() >= 0.0


@pytest.mark.parametrize("W, A, M", [(2, 2, 2), (3, 2, 3)])
def test_no_single_transition_reveals_the_context(W, A, M):
    lmdp = signal_lmdp(W, A, M, 8, seed=1, noise=0.3)
    support = lmdp.P > 0
    assert np.all(support == support[:1]), "the contexts must share every support"
    assert not lmdp.reward_observed
    # along sampled episodes the posterior never becomes a point mass
    rng = np.random.default_rng(0)
    for _ in range(30):
        ep = lmdp.sample_episode(lambda hist: int(rng.integers(0, A)), rng)
        for t in range(lmdp.H + 1):
            hist = (list(ep.states[: t + 1]), list(ep.actions[:t]), list(ep.rewards[:t]))
            b = lmdp.belief(hist)
            assert np.all(b > 0) and b.max() < 1.0


def test_beliefs_must_be_tracked():
    """At the same step and work state, the optimal action depends on the signals heard before."""
    W, A, M, H = 2, 2, 2, 8
    lmdp = signal_lmdp(W, A, M, H, seed=0, noise=0.2)
    _, pol = belief_plan(lmdp)
    u = lmdp.R[:, 0] * H  # base rewards (stationary)

    def act_after(signals: list[int]) -> int:
        states, actions = [0], []
        for j, w in enumerate(signals):
            actions.append(0)  # listen
            states.append(w)
            if j < len(signals) - 1:
                actions.append(0)  # any work action, back to the signal state
                states.append(0)
        rewards = [float(lmdp.R[0, 0, s, a]) for s, a in zip(states[:-1], actions, strict=True)]
        return pol.act((states, actions, rewards))

    mostly_ctx0 = act_after([1, 1, 1, 2])  # posterior of context 0: 0.94
    mostly_ctx1 = act_after([2, 2, 2, 2])  # posterior of context 0: 0.004
    assert mostly_ctx0 == int(np.argmax(u[0, 2])) and mostly_ctx1 == int(np.argmax(u[1, 2]))
    assert mostly_ctx0 != mostly_ctx1


def test_same_kernels_and_base_rewards_for_every_horizon():
    members = [signal_lmdp(2, 2, 2, H, seed=5) for H in (5, 10, 20, 40)]
    for lm in members[1:]:
        assert np.array_equal(lm.P[:, 0], members[0].P[:, 0])
        np.testing.assert_allclose(lm.R[:, 0] * lm.H, members[0].R[:, 0] * members[0].H, rtol=0, atol=1e-15)
    assert {lm.gamma_degree for lm in members} == {2}


def test_seeded_reproducibility():
    a, b = signal_lmdp(3, 3, 2, 10, seed=11), signal_lmdp(3, 3, 2, 10, seed=11)
    assert a.P.tobytes() == b.P.tobytes() and a.R.tobytes() == b.R.tobytes()
    c = signal_lmdp(3, 3, 2, 10, seed=np.random.default_rng(11))
    assert c.R.tobytes() == a.R.tobytes()
    d = signal_lmdp(3, 3, 2, 10, seed=12)
    assert d.R.tobytes() != a.R.tobytes()


def test_belief_dp_matches_history_enumeration():
    lmdp = signal_lmdp(2, 2, 2, 4, seed=2, noise=0.25)
    v, _ = belief_plan(lmdp)
    assert v == pytest.approx(plan(lmdp).value, abs=1e-12)


def test_sweep_cell_on_the_signal_family():
    cfg = {
        "family": "signal",
        "instance": {"W": 2, "A": 2, "M": 2, "H": 6, "noise": 0.2, "seed": 0},
        "algorithm": "value-optimistic",
        "K": 40,
        "checkpoints": 5,
    }
    validate_latent_regret(cfg)
    r1, r2 = latent_regret(cfg, 3), latent_regret(cfg, 3)
    assert r1["family"] == "signal" and r1["H"] == 6 and r1["S"] == 3 and r1["gamma"] == 2
    assert r1["k"][-1] == 40 and len(r1["regret"]) == len(r1["k"])
    assert r1["regret"] == r2["regret"]
    assert np.all(np.diff(r1["regret"]) >= -1e-12)
    assert r1["optimism_violations"] == 0
    with pytest.raises(InvalidArgumentError, match="noise"):
        validate_latent_regret(cfg | {"instance": dict(cfg["instance"], noise=0.0)})


def test_reduced_and_stored_sweep_configurations():
    assert SWEEPS["horizon_latent"] == ("latent_horizon_latent", 40)
    spec = REDUCED["horizon_latent"]
    for inst in spec["grid"]["instance"]:
        cfg = dict(spec["params"], instance=inst)
        validate_latent_regret(cfg)
        lmdp, known = build_instance(cfg)
        assert known == {} and lmdp.max_total_reward <= 1.0


def test_horizon_rows_on_two_horizons():
    """Ratio and slope of the fit on a tiny two-horizon sweep (the claim's statistics)."""
    recs = []
    for H in (4, 8):
        cfg = {
            "family": "signal",
            "instance": {"W": 2, "A": 2, "M": 2, "H": H, "noise": 0.2, "seed": 0},
            "algorithm": "value-optimistic",
            "K": 20,
            "checkpoints": 4,
        }
        for sd in range(2):
            recs.append({"config": cfg, "seed": sd, "record": latent_regret(cfg, sd)})
    rows, fit = horizon_rows(recs)
    assert [r["H"] for r in rows] == [4, 8]
    means = [r["regret_K"] for r in rows]
    assert fit["ratio"] == pytest.approx(max(means) / min(means))
    assert fit["slope"] == pytest.approx(np.log(means[1] / means[0]) / np.log(2.0))
    assert fit["lo"] <= fit["slope"] <= fit["hi"]
