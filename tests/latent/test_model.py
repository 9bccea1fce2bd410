"""Validation and basic behaviour of :class:`mdpkit.latent.LatentMDP`."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit.errors import InvalidMDPError, InvalidPolicyError, MdpkitError
from mdpkit.latent import History, LatentMDP
from mdpkit.latent.instances import hard_instance, hard_instance_horizon, random_lmdp


def _toy(H: int = 3, **kw):
    P = np.zeros((2, 2, 2, 2))
    P[0, :, 0, 0] = 1.0  # context 0: action 0 stays/moves to 0
    P[0, :, 1, 1] = 1.0
    P[1, :, :, :] = 0.5
    R = np.zeros((2, 2, 2))
    R[0, 1, :] = 1.0 / H
    R[1, 0, 1] = 0.5 / H
    return LatentMDP(P, R, H, [0.25, 0.75], [1.0, 0.0], **kw)


def test_shapes_gamma_and_context():
    L = _toy()
    assert (L.M, L.S, L.A, L.H) == (2, 2, 2, 3)
    assert L.P.shape == (2, 3, 2, 2, 2) and L.R.shape == (2, 3, 2, 2)
    assert L.gamma_degree == 2
    ctx = L.context(1)
    assert ctx.H == 3 and np.allclose(ctx.initial, [1.0, 0.0])
    assert L.max_total_reward == pytest.approx(2.0 / 3.0)  # s0 = 0 pays nothing; then 1/H twice


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda a: a.__setitem__("P", a["P"] * 0.9), r"P\[0, 0, 0, :\] sums to 0.9"),
        (lambda a: a.__setitem__("weights", [0.5, 0.6]), "weights sum to 1.1"),
        (lambda a: a.__setitem__("weights", [0.0, 1.0]), r"weights\[0\] = 0.0 must be > 0"),
        (lambda a: a.__setitem__("initial", [0.5, 0.4]), r"initial\[0, :\] sums to 0.9"),
        (lambda a: a.__setitem__("R", a["R"] - 0.5), r"R\[0, 0, 0\] = -0.5 is negative"),
        (
            lambda a: a.__setitem__("R", np.full((2, 2, 2), 0.5)),
            "context m=0: trajectory .* total reward 1.5",
        ),
        (lambda a: a.__setitem__("H", 0), "H = 0 must be a positive integer"),
        (lambda a: a.__setitem__("R", np.zeros((2, 2))), r"R has shape \(2, 2\)"),
    ],
)
def test_validation_names_index_and_value(change, match):
    args = {
        "P": np.full((2, 2, 2, 2), 0.5),
        "R": np.zeros((2, 2, 2)),
        "H": 3,
        "weights": [0.5, 0.5],
        "initial": [1.0, 0.0],
    }
    change(args)
    with pytest.raises(InvalidMDPError, match=match) as info:
        LatentMDP(args["P"], args["R"], args["H"], args["weights"], args["initial"])
    assert isinstance(info.value, MdpkitError)


def test_total_reward_check_only_counts_reachable_trajectories():
    # state 1 pays 1 per step but is unreachable from the start state 0: valid
    P = np.zeros((1, 2, 1, 2))
    P[0, 0, 0, 0] = 1.0
    P[0, 1, 0, 1] = 1.0
    R = np.zeros((1, 2, 1))
    R[0, 1, 0] = 1.0
    LatentMDP(P, R, 4, [1.0], [1.0, 0.0])
    with pytest.raises(InvalidMDPError, match="total reward 4"):
        LatentMDP(P, R, 4, [1.0], [0.0, 1.0])
    assert LatentMDP(P, R, 4, [1.0], [0.0, 1.0], reward_bound=None).max_total_reward == 4.0


def test_time_indexed_model_matches_stationary():
    L = random_lmdp(3, 2, 2, 4, seed=3)
    Lt = LatentMDP(np.asarray(L.P), np.asarray(L.R), L.H, L.weights, L.initial)
    assert L.stationary and not Lt.stationary
    assert np.array_equal(Lt.P, L.P) and np.array_equal(Lt.R, L.R)


def test_belief_uses_rewards_and_transitions():
    L = _toy()
    # context 0 from state 0 under action 1 moves to state 1 surely; context 1 w.p. 1/2
    h = History((0, 1), (1,), (0.0,))
    # reward at (0, 1) is 0 in context 0 but 0.5/H in context 1: a 0 reward rules context 1 out
    assert np.allclose(L.belief(h), [1.0, 0.0])
    L2 = _toy(reward_observed=False)
    b = L2.belief(h)
    assert np.allclose(b, np.array([0.25, 0.75 * 0.5]) / (0.25 + 0.375))
    with pytest.raises(InvalidPolicyError, match="probability 0"):
        L.belief(History((0, 1), (1,), (0.123,)))


def test_sample_episode_frequencies_match_model():
    L = random_lmdp(3, 2, 3, 3, seed=1, initial="random", weights="random")
    rng = np.random.default_rng(0)
    n = 4000
    eps = [L.sample_episode(np.zeros((3, 3), dtype=int), rng) for _ in range(n)]
    ctx = np.bincount([e.context for e in eps], minlength=3) / n
    assert np.all(np.abs(ctx - L.weights) < 4 * np.sqrt(L.weights * (1 - L.weights) / n))
    e = eps[0]
    assert e.states.shape == (4,) and e.actions.shape == (3,) and e.rewards.shape == (3,)
    assert np.allclose(e.rewards, L.R[e.context, np.arange(3), e.states[:3], e.actions])


def test_sample_episode_rejects_bad_policy():
    L = _toy()
    with pytest.raises(InvalidPolicyError, match=r"policy\[0, 1\] = 5"):
        L.sample_episode(np.array([[0, 5], [0, 0], [0, 0]]), 0)
    with pytest.raises(InvalidPolicyError, match="shape"):
        L.sample_episode(np.zeros((2, 2), dtype=int), 0)


def test_random_instances_keep_total_reward_below_one_for_any_H():
    for H in (1, 5, 40):
        L = random_lmdp(4, 3, 2, H, seed=H, stationary=False)
        assert L.max_total_reward <= 1.0
    det = random_lmdp(4, 3, 2, 5, seed=0, noise=0.0)
    noisy = random_lmdp(4, 3, 2, 5, seed=0)
    near = random_lmdp(4, 3, 2, 5, seed=0, noise=0.05, support=2)
    assert det.gamma_degree == 1 and noisy.gamma_degree == 4 and near.gamma_degree == 2


def test_hard_instance_structure():
    hi = hard_instance(3, 4, 3, eps=0.2, scale=0.5, seed=0)
    L = hi.lmdp
    assert L.gamma_degree == 2
    assert L.H == hard_instance_horizon(3, 4) == 2 + 1 + 2 + 2
    assert L.max_total_reward == pytest.approx(0.5)
    assert hi.good_arms.shape == (3, 4)
    for m in range(3):
        for ell, s in enumerate(hi.leaves):
            row = L.P[m, 0, s]
            assert np.isclose(row.max(), 0.7) and np.argmax(row.max(axis=1)) == hi.good_arms[m, ell]


def test_stack_contexts_round_trips_through_context():
    from mdpkit.latent import stack_contexts

    L = random_lmdp(3, 2, 3, 4, seed=7, initial="random", stationary=False)
    back = stack_contexts([L.context(m) for m in range(L.M)], L.weights)
    assert np.array_equal(back.P, L.P) and np.array_equal(back.R, L.R)
    assert np.array_equal(back.initial, L.initial)
    with pytest.raises(InvalidMDPError, match="context m = 3"):
        L.context(3)
