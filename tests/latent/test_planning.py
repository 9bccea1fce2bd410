"""Exact LMDP planning: DP vs brute force, evaluators (numba vs torch), limits, Var*."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit.core.finite import backward_induction, evaluate_finite
from mdpkit.errors import InvalidArgumentError, MdpkitError
from mdpkit.latent import LatentMDP
from mdpkit.latent import _torch as T
from mdpkit.latent.instances import hard_instance, random_lmdp
from mdpkit.latent.planning import (
    HistoryPolicy,
    PlanningLimitError,
    _backup,
    brute_force,
    build_tree,
    evaluate,
    plan,
    return_moments,
    tree_policy,
    var_star,
)

TOL = 1e-12  # float64 sums of at most a few hundred products of probabilities


def _tiny(seed: int, reward_observed: bool = True) -> LatentMDP:
    rng = np.random.default_rng(seed)
    M, S, A, H = 2, 2, 2, 2
    P = rng.dirichlet(np.ones(S), size=(M, S, A))
    P[rng.random(P.shape) < 0.2] = 0.0  # sparsify some rows, then renormalise (keep one entry)
    P[..., 0] += P.sum(axis=-1) == 0
    P /= P.sum(axis=-1, keepdims=True)
    R = rng.integers(0, 3, size=(M, S, A)) / (2 * H)  # repeated values: rewards sometimes identify m
    w = rng.dirichlet(np.ones(M))
    return LatentMDP(P, R, H, w, rng.dirichlet(np.ones(S), size=M), reward_observed=reward_observed)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("observed", [True, False])
def test_dp_equals_brute_force_over_all_history_policies(seed, observed):
    L = _tiny(seed, observed)
    sol = plan(L)
    best, acts = brute_force(L, device="cpu")
    assert sol.value == pytest.approx(best, abs=TOL)
    # the brute-force maximiser, turned into a HistoryPolicy, has the same value under numba evaluation
    assert evaluate(L, tree_policy(build_tree(L), acts)) == pytest.approx(best, abs=TOL)


def test_dp_beats_every_markov_policy_and_equals_backward_induction_for_one_context():
    L = random_lmdp(3, 2, 2, 3, seed=5, initial="uniform")
    v = plan(L).value
    best_markov = max(
        evaluate(L, np.array(tab).reshape(3, 3)) for tab in itertools.product(range(2), repeat=9)
    )
    assert v >= best_markov - TOL
    one = random_lmdp(3, 2, 1, 4, seed=2, initial="uniform")
    assert plan(one).value == pytest.approx(backward_induction(one.context(0)).value, abs=TOL)


def test_policy_value_and_context_values_are_consistent():
    L = random_lmdp(3, 2, 3, 3, seed=11, initial="random", weights="random")
    sol = plan(L)
    assert isinstance(sol.policy, HistoryPolicy)
    rm = return_moments(L, sol.policy)
    assert rm.value == pytest.approx(sol.value, abs=TOL)
    assert np.allclose(rm.mean, sol.context_values, atol=TOL)
    # the same policy seen only through act(history) (generic path) has the same value
    assert evaluate(L, lambda h: sol.policy.act(h)) == pytest.approx(sol.value, abs=TOL)
    # Monte Carlo agrees within 5 standard errors
    rng = np.random.default_rng(0)
    returns = np.array([L.sample_episode(sol.policy, rng).rewards.sum() for _ in range(3000)])
    assert abs(returns.mean() - sol.value) < 5 * returns.std() / np.sqrt(returns.size) + 1e-12


def test_markov_evaluation_numba_torch_and_core_agree():
    L = random_lmdp(4, 3, 3, 3, seed=4, initial="random", weights="random", stationary=False)
    rng = np.random.default_rng(1)
    pols = rng.integers(0, 3, size=(8, 3, 4))
    torch_vals = T.markov_values(L.P, L.R, L.weights, L.initial, pols, device="cpu").numpy()
    for k, pi in enumerate(pols):
        core = sum(L.weights[m] * L.initial[m] @ evaluate_finite(L.context(m), pi)[0][0] for m in range(L.M))
        assert evaluate(L, pi) == pytest.approx(core, abs=TOL)
        assert torch_vals[k] == pytest.approx(core, abs=TOL)
    alpha = T.markov_alpha(L.P, L.R, pols[0], device="cpu")
    assert alpha.shape == (3, 4, 4)
    # batch over models too: two LMDPs stacked on a leading axis
    L2 = random_lmdp(4, 3, 3, 3, seed=5, initial="random", weights="random", stationary=False)
    P = np.stack([L.P, L2.P])
    R = np.stack([L.R, L2.R])
    v2 = T.markov_values(P, R, np.stack([L.weights, L2.weights]), np.stack([L.initial, L2.initial]), pols[0])
    assert v2.numpy() == pytest.approx([evaluate(L, pols[0]), evaluate(L2, pols[0])], abs=TOL)


@pytest.mark.parametrize("seed", range(3))
def test_torch_tree_evaluation_matches_numba_on_random_history_policies(seed):
    L = random_lmdp(2, 2, 2, 4, seed=seed, initial="uniform", weights="random")
    tree = build_tree(L)
    rng = np.random.default_rng(seed)
    acts = rng.integers(0, 2, size=(16, tree.n_histories))
    tv = T.tree_policy_values(tree, torch.as_tensor(acts), device="cpu", chunk=5).numpy()
    nv = np.array([evaluate(L, tree_policy(tree, a)) for a in acts])
    assert np.max(np.abs(tv - nv)) <= TOL


def test_off_tree_histories_use_the_fallback():
    # plan in a model that misses a transition of the true model
    true = random_lmdp(3, 2, 2, 3, seed=8, initial="uniform")
    P = np.array(true.P[:, 0])
    P[:, :, :, 2] = 0.0
    P /= P.sum(axis=-1, keepdims=True)
    est = LatentMDP(P, np.asarray(true.R[:, 0]), 3, true.weights, true.initial)
    pol = plan(est).policy
    v_fast = evaluate(true, pol)
    v_generic = evaluate(true, lambda h: pol.act(h))
    assert v_fast == pytest.approx(v_generic, abs=TOL)
    assert v_fast <= plan(true).value + TOL


def test_observing_rewards_never_hurts():
    for seed in range(4):
        assert plan(_tiny(seed, True)).value >= plan(_tiny(seed, False)).value - TOL


def test_limit_is_a_named_error_raised_before_allocation():
    L = random_lmdp(4, 3, 2, 6, seed=0)
    with pytest.raises(
        PlanningLimitError, match=r"level t=\d+ would hold \d+ histories .* max_histories=50"
    ) as e:
        plan(L, max_histories=50)
    assert isinstance(e.value, MdpkitError)
    with pytest.raises(PlanningLimitError):
        evaluate(L, lambda h: 0, max_histories=3)
    # Markov policies are evaluated without histories: no limit applies, and H = 60 is instant
    long = random_lmdp(4, 3, 2, 60, seed=0)
    assert 0.0 <= evaluate(long, np.zeros((60, 4), dtype=int), max_histories=1) <= 1.0
    with pytest.raises(InvalidArgumentError, match="backend"):
        evaluate(L, np.zeros((6, 4), dtype=int), backend="jax")
    with pytest.raises(PlanningLimitError, match="brute force"):
        brute_force(random_lmdp(2, 2, 2, 3, seed=0), max_policies=10)


def test_var_star_properties():
    det = random_lmdp(3, 2, 2, 4, seed=0, noise=0.0)
    assert var_star(det).value == pytest.approx(0.0, abs=TOL)
    noisy = random_lmdp(3, 2, 2, 4, seed=0)
    near = random_lmdp(3, 2, 2, 4, seed=0, noise=0.05)
    vn, vd = var_star(noisy), var_star(near)
    assert vn.value > vd.value > 0
    for v in (vn, vd):
        assert v.value >= v.optimal_within - TOL
    hi = hard_instance(2, 2, 2, eps=0.1, scale=0.6, seed=0)
    assert hi.lmdp.var_star == pytest.approx(hi.var_star, abs=1e-12)
    assert plan(hi.lmdp).value == pytest.approx(hi.optimal_value, abs=TOL)


def test_var_star_equals_within_variance_for_a_single_deterministic_choice():
    # one context, one action: the only policy is optimal, so Var* = Var(Z) exactly (law of total variance)
    L = random_lmdp(3, 1, 1, 4, seed=3, initial="random")
    v = var_star(L)
    assert v.value == pytest.approx(v.optimal_within, abs=TOL)
    assert v.value == pytest.approx(return_moments(L, np.zeros((4, 3), dtype=int)).total, abs=TOL)
    # the Markov (per-context recursion) and history (tree) paths give the same moments
    rm_markov = return_moments(L, np.zeros((4, 3), dtype=int))
    rm_tree = return_moments(L, lambda h: 0)
    assert rm_tree.n_histories > 0 == rm_markov.n_histories
    assert np.allclose(rm_markov.mean, rm_tree.mean, atol=TOL)
    assert np.allclose(rm_markov.second, rm_tree.second, atol=TOL)


@settings(max_examples=20, deadline=None)
@given(
    M=st.integers(1, 3),
    S=st.integers(1, 3),
    A=st.integers(1, 3),
    H=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
    observed=st.booleans(),
    noise=st.sampled_from([None, 0.0, 0.1]),
)
def test_property_planner_identities_and_backends_agree(M, S, A, H, seed, observed, noise):
    L = random_lmdp(
        S,
        A,
        M,
        H,
        seed=seed,
        noise=noise,
        initial="random",
        weights="random",
        stationary=seed % 2 == 0,
        reward_observed=observed,
    )
    tree = build_tree(L)
    value, best = _backup(tree, 0, np.zeros(M))
    flat = np.concatenate(best)
    sol = plan(L)
    # defining identity: the DP value is attained by its own policy (numba forward evaluation) ...
    assert sol.value == pytest.approx(value, abs=TOL)
    assert evaluate(L, sol.policy) == pytest.approx(value, abs=TOL)
    # ... the torch twin evaluates the same per-node actions to the same value, and no random history
    # policy does better
    rng = np.random.default_rng(seed)
    acts = np.vstack([flat, rng.integers(0, A, size=(8, flat.size))])
    tv = T.tree_policy_values(tree, acts, device="cpu").numpy()
    assert tv[0] == pytest.approx(value, abs=TOL)
    assert np.all(tv[1:] <= value + TOL)
    nv = np.array([evaluate(L, tree_policy(tree, a)) for a in acts[1:4]])
    assert np.max(np.abs(nv - tv[1:4])) <= TOL
    # Markov policies: per-context recursion == history tree == torch
    pi = rng.integers(0, A, size=(H, S))
    rm_markov, rm_tree = return_moments(L, pi), return_moments(L, lambda h: int(pi[len(h[1]), h[0][-1]]))
    assert rm_markov.value == pytest.approx(rm_tree.value, abs=TOL)
    assert np.allclose(rm_markov.second, rm_tree.second, atol=TOL)
    tm = T.markov_values(L.P, L.R, L.weights, L.initial, pi, device="cpu").item()
    assert tm == pytest.approx(rm_markov.value, abs=TOL)
    # one API, two backends: evaluate(..., backend="torch") on history, callable and Markov policies
    assert evaluate(L, sol.policy, backend="torch", device="cpu") == pytest.approx(value, abs=TOL)
    assert evaluate(L, pi, backend="torch", device="cpu") == pytest.approx(rm_markov.value, abs=TOL)
    other = tree_policy(tree, acts[1])
    assert evaluate(L, lambda h: other.act(h), backend="torch", device="cpu") == pytest.approx(tv[1], abs=TOL)


@pytest.mark.parametrize(("M", "L", "A"), [(1, 2, 3), (3, 4, 2), (4, 2, 2)])
def test_hard_instance_values_are_the_analytic_ones(M, L, A):
    hi = hard_instance(M, L, A, eps=0.15, scale=0.7, seed=M)
    sol = plan(hi.lmdp)
    assert sol.value == pytest.approx(hi.optimal_value, abs=TOL)
    assert var_star(hi.lmdp).value == pytest.approx(hi.var_star, abs=1e-12)
    # the optimal policy identifies the context from the bit states and plays the good arm at each leaf
    rng = np.random.default_rng(0)
    for _ in range(20):
        ep = hi.lmdp.sample_episode(sol.policy, rng)
        leaf_t = int(np.flatnonzero(np.isin(ep.states[:-1], hi.leaves))[0])
        ell = int(np.flatnonzero(hi.leaves == ep.states[leaf_t])[0])
        assert ep.actions[leaf_t] == hi.good_arms[ep.context, ell]
