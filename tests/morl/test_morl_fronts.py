"""Exact fronts: OLS CCS, deterministic enumeration, epsilon-constraint stochastic front, CMDP LP."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit.envs.morl_envs import random_momdp
from mdpkit.errors import InvalidArgumentError, InvalidMDPError, InvalidPolicyError
from mdpkit.morl import (
    MultiObjectiveMDP,
    constrained_solve,
    convex_coverage_set,
    dominance_margin,
    evaluate_vector,
    hypervolume,
    hypervolume_2d_polyline,
    pareto_filter,
    pareto_front,
    policy_returns,
    scalarized_solve,
)

SEEDS = range(6)


def _tiny(seed: int, k: int = 2) -> MultiObjectiveMDP:
    return random_momdp(3, 3, k, gamma=0.8, seed=seed, branching=2)


def test_model_validation() -> None:
    P = np.zeros((2, 1, 2))
    P[:, 0, 0] = 1.0
    with pytest.raises(InvalidMDPError, match="k = 1"):
        MultiObjectiveMDP(P, np.zeros((2, 1, 1)), 0.9)
    with pytest.raises(InvalidMDPError, match="k = 10"):
        MultiObjectiveMDP(P, np.zeros((2, 1, 10)), 0.9)
    with pytest.raises(InvalidMDPError, match="gamma = 1"):
        MultiObjectiveMDP(P, np.zeros((2, 1, 2)), 1.0)
    R = np.zeros((2, 1, 2))
    R[0, 0, 1] = 1.0
    with pytest.raises(InvalidMDPError, match=r"terminal state 0 has reward R\[0, 0, 1\]"):
        MultiObjectiveMDP(P, R, 1.0, initial=[0.0, 1.0], terminal=[True, False])
    with pytest.raises(InvalidMDPError, match="not absorbing"):
        MultiObjectiveMDP(P, np.zeros((2, 1, 2)), 1.0, initial=[1.0, 0.0], terminal=[False, True])
    Pbad = P.copy()
    Pbad[1, 0, 0] = 0.5
    with pytest.raises(InvalidMDPError, match=r"P\[1, 0"):
        MultiObjectiveMDP(Pbad, np.zeros((2, 1, 2)), 0.9)


def test_evaluate_vector_matches_scalar_core() -> None:
    import mdpkit

    m = random_momdp(5, 3, 3, gamma=0.9, seed=3)
    rng = np.random.default_rng(0)
    pi = rng.dirichlet(np.ones(3), size=5)
    ev = evaluate_vector(m, pi)
    w = np.array([0.2, 0.5, 0.3])
    core = mdpkit.evaluate(m.scalarize(w), pi)
    np.testing.assert_allclose(ev.V @ w, core.V, atol=1e-10)
    np.testing.assert_allclose(ev.J @ w, m.initial @ core.V, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3])
def test_ccs_matches_enumeration(seed: int, k: int) -> None:
    """Every deterministic return is weakly below the CCS's upper envelope, and each CCS point is
    attained by its policy; the CCS points are deterministic-front points."""
    m = _tiny(seed, k)
    det = pareto_front(m, policies="deterministic")
    ccs = convex_coverage_set(m)
    W = np.random.default_rng(seed).dirichlet(np.ones(k), size=200)
    env_ccs = np.max(W @ ccs.values.T, axis=1)
    env_det = np.max(W @ det.values.T, axis=1)
    np.testing.assert_allclose(env_ccs, env_det, atol=1e-9)
    for v, pi in zip(ccs.values, ccs.policies, strict=True):
        np.testing.assert_allclose(evaluate_vector(m, pi).J, v, atol=1e-10)
        assert np.min(np.max(np.abs(det.values - v), axis=1)) < 1e-8


@pytest.mark.parametrize("seed", SEEDS)
def test_deterministic_front_by_enumeration(seed: int) -> None:
    m = _tiny(seed, 2)
    det = pareto_front(m, policies="deterministic")
    # brute force over all 3**3 policies
    import itertools

    pols = np.array(list(itertools.product(range(3), repeat=3)))
    J = policy_returns(m, pols)
    np.testing.assert_allclose(
        pareto_filter(J)[np.lexsort(pareto_filter(J).T)], det.values[np.lexsort(det.values.T)], atol=1e-12
    )
    for v, pi in zip(det.values, det.policies, strict=True):
        np.testing.assert_allclose(evaluate_vector(m, pi).J, v, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_stochastic_front_dominates_deterministic(seed: int) -> None:
    m = _tiny(seed, 2)
    det = pareto_front(m, policies="deterministic")
    sto = pareto_front(m, policies="stochastic", n_points=15)
    ref = np.min(det.values, axis=0) - 1.0
    for v, pi in zip(sto.values, sto.policies, strict=True):
        np.testing.assert_allclose(evaluate_vector(m, pi).J, v, atol=1e-8)
        # a stochastic-front point is not strictly dominated in every objective by any achievable return
        assert dominance_margin(m, v) <= 1e-7
    # every deterministic return is weakly dominated by an achievable point (margin >= 0)
    for v in det.values:
        assert dominance_margin(m, v) >= -1e-9
    hv_poly = hypervolume_2d_polyline(sto.info["vertices"], ref)
    assert hv_poly >= hypervolume(det.values, ref) - 1e-9
    assert hv_poly >= hypervolume(sto.values, ref) - 1e-9


def test_scalarized_and_constrained_solve() -> None:
    import mdpkit

    m = random_momdp(6, 3, 3, gamma=0.9, seed=11)
    w = np.array([0.3, 0.3, 0.4])
    pi, J = scalarized_solve(m, w)
    sol = mdpkit.solve(m.scalarize(w), method="pi")
    assert float(J @ w) == pytest.approx(float(m.initial @ sol.V), abs=1e-9)
    lower = J - 0.05 * np.abs(J)
    out = constrained_solve(m, 0, lower)
    assert out is not None
    _, Jc = out
    assert np.all(Jc[1:] >= lower[1:] - 1e-9)
    assert Jc[0] >= J[0] - 1e-9
    assert constrained_solve(m, 0, np.array([0.0, 1e6, 0.0])) is None
    with pytest.raises(InvalidArgumentError):
        pareto_front(m, policies="mixed")


def test_improper_policy_raises() -> None:
    from mdpkit.envs.morl_envs import deep_sea_treasure

    m = deep_sea_treasure()
    stay = np.zeros((m.S, m.A))
    stay[:, 0] = 1.0  # always "up": the submarine never leaves the surface
    with pytest.raises(InvalidPolicyError, match="improper"):
        evaluate_vector(m, stay)


@pytest.mark.parametrize("seed", range(8))
def test_label_correcting_matches_enumeration(seed: int) -> None:
    """Deterministic total-reward models with a -1 step cost and treasure only on stopping (as in DST,
    so every cycle is dominated): path front == enumerated front."""
    from mdpkit.morl.fronts import _path_front, deterministic_front

    rng = np.random.default_rng(seed)
    S, A = 6, 3
    P = np.zeros((S, A, S))
    R = np.zeros((S, A, 2))
    for s in range(S - 1):
        for a in range(A):
            P[s, a, rng.integers(0, S)] = 1.0
            R[s, a] = (rng.integers(0, 5) if P[s, a, S - 1] else 0.0, -1.0)
        P[s, 0, :] = 0.0
        P[s, 0, S - 1] = 1.0  # every state can stop
        R[s, 0, 0] = rng.integers(0, 5)
    P[S - 1, :, S - 1] = 1.0
    R[S - 1] = 0.0
    term = np.zeros(S, dtype=bool)
    term[-1] = True
    mu = np.zeros(S)
    mu[0] = 1.0
    m = MultiObjectiveMDP(P, R, 1.0, initial=mu, terminal=term)
    enum = deterministic_front(m)
    path = _path_front(m)
    key = lambda V: V[np.lexsort(V.T[::-1])]  # noqa: E731
    np.testing.assert_allclose(key(path.values), key(enum.values))
    for v, pi in zip(path.values, path.policies, strict=True):
        np.testing.assert_allclose(evaluate_vector(m, pi).J, v)
