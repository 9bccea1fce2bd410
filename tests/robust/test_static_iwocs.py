"""Static model (exact values, enumeration) and IWOCS (Algorithm 1, Properties 1-2, stall detection)."""

from __future__ import annotations

import numpy as np
import pytest

import mdpkit
from mdpkit.errors import InvalidArgumentError
from mdpkit.robust import (
    FiniteSet,
    KLBall,
    L1Ball,
    RectangularHull,
    iwocs,
    solve,
    static_optimal,
    static_robust_value,
    static_values,
)
from mdpkit.robust.iwocs import static_q
from tests.robust.helpers import random_kernels, small_mdp


def test_static_values_match_core_evaluate():
    m = small_mdp(0, S=4, A=2)
    Ks = random_kernels(3, 3, 4, 2)
    pol = np.array([0, 1, 1, 0])
    V = static_values(m, Ks, pol)
    for k, P in enumerate(Ks):
        ref = mdpkit.evaluate(mdpkit.TabularMDP(P, m.R, m.gamma), pol).V
        assert np.allclose(V[k], ref, atol=1e-12)
    val, k, J = static_robust_value(m, FiniteSet(Ks), pol)
    assert val == J.min() and J[k] == val


@pytest.mark.parametrize("seed", range(4))
def test_static_optimum_dominates_dynamic_and_every_policy(seed):
    m = small_mdp(seed, S=3, A=2)
    F = FiniteSet(random_kernels(seed, 3, 3, 2))
    opt = static_optimal(m, F)
    assert opt.n_policies == 8 and opt.value == opt.values.max()
    dyn = solve(m, F)  # dynamic model = rectangular hull
    assert opt.value >= m.initial @ dyn.V - 1e-9


def test_static_optimal_refuses_huge_enumerations():
    m = mdpkit.envs.windy_walk(0.3)
    with pytest.raises(InvalidArgumentError, match="max_policies"):
        static_optimal(m, FiniteSet([m.P]))


@pytest.mark.parametrize("seed", range(5))
def test_iwocs_properties_on_finite_sets(seed):
    m = small_mdp(seed, S=4, A=2)
    F = FiniteSet(random_kernels(seed + 10, 4, 4, 2))
    res = iwocs(m, F, eps=1e-10)
    robust_q = solve(m, F, tol=1e-12).Q
    pool = [res.kernels[0]]
    for i, step in enumerate(res.steps):
        # Property 1: Q_i >= Q* of the hull of the kernels found >= robust Q*
        hull_q = solve(m, RectangularHull(pool), tol=1e-12).Q
        assert np.all(step.Q >= hull_q - 1e-9)
        assert np.all(hull_q >= robust_q - 1e-9)
        # Q_i is the minimum of the static optimal Q-functions of the pool
        assert np.allclose(step.Q, np.min([static_q(m, P) for P in pool], axis=0), atol=1e-12)
        if i + 1 < len(res.steps):
            assert np.all(res.steps[i + 1].Q <= step.Q)  # Property 2
            pool.append(step.kernel)
    # the upper bound dominates the static optimum; the lower bound is pi_i's exact static value
    opt = static_optimal(m, F)
    last = res.steps[-1]
    assert last.J_upper >= opt.value - 1e-9
    assert last.J_worst == pytest.approx(static_robust_value(m, F, last.policy)[0], abs=1e-12)
    assert res.status in ("converged", "stalled")
    if res.status == "converged":
        assert last.J_worst >= opt.value - 1e-9  # certified static optimum
    else:
        assert last.in_pool and last.gap > 1e-10


@pytest.mark.parametrize("make", [lambda m: L1Ball(m, 0.4), lambda m: KLBall(m, 0.3)])
def test_iwocs_matches_robust_vi_on_balls(make):
    m = small_mdp(11, S=6, A=3)
    U = make(m)
    res = iwocs(m, U, eps=1e-9)
    sol = solve(m, U, tol=1e-11)
    assert res.status == "converged"
    assert res.J_upper == pytest.approx(m.initial @ sol.V, abs=1e-8)
    assert np.all(np.diff([s.J_upper for s in res.steps]) <= 1e-12)


def test_iwocs_reports_a_stall():
    """On a non-rectangular finite set the worst case of pi_i can already be in the pool with a gap left."""
    found = None
    for trial in range(200):
        m = small_mdp(1000 + trial, S=3, A=2)
        F = FiniteSet(random_kernels(2000 + trial, 3, 3, 2))
        res = iwocs(m, F, eps=1e-10)
        if res.status == "stalled":
            found = res
            break
    assert found is not None, "no stall among 200 random finite sets"
    last = found.steps[-1]
    assert last.in_pool and last.gap > 1e-10
    assert found.kernel_indices.count(last.kernel_index) == 1


def test_iwocs_windy_walk_finds_the_windiest_kernel():
    alphas = np.linspace(0.0, 0.5, 6)
    ms = mdpkit.envs.windy_walk_kernels(alphas, 0.95)
    F = FiniteSet(ms)
    res = iwocs(ms[0], F, eps=1e-8)
    assert res.status == "converged"
    assert res.kernel_indices[-1] == 5 or res.steps[-1].kernel_index == 5
    dyn = solve(ms[0], F, tol=1e-10)
    assert res.J_worst == pytest.approx(ms[0].initial @ dyn.V, abs=1e-7)


def test_iwocs_validates():
    m = small_mdp(0, S=3, A=2)
    F = FiniteSet(random_kernels(0, 2, 3, 2))
    with pytest.raises(InvalidArgumentError):
        iwocs(m, F, eps=-1.0)
    with pytest.raises(InvalidArgumentError):
        iwocs(m, F, initial=5)
    with pytest.raises(InvalidArgumentError):
        iwocs(m, F, eps="small")
    with pytest.raises(InvalidArgumentError, match="not in the uncertainty set"):
        iwocs(m, L1Ball(m, 0.01), initial=F.kernels[1])
    res = iwocs(m, F, initial=F.kernels[1])
    assert res.kernel_indices[0] == 1
