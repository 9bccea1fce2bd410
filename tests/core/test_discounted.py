"""Discounted solvers on hand-made models: dispatch, outputs, options, stopping rules, evaluation helpers.

Random-model identities (agreement of the four methods, performance difference, occupancy...) live in
``tests/property/test_core_identities.py``; closed-form answers in ``tests/core/test_textbook.py``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

import mdpkit
from mdpkit import TabularMDP

METHODS = ["vi", "pi", "mpi", "lp"]
EPS = np.finfo(np.float64).eps


def garnet(S: int = 6, A: int = 3, gamma: float = 0.9, seed: int = 0, mask: bool = False) -> TabularMDP:
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) ** 3
    P /= P.sum(axis=-1, keepdims=True)
    R = rng.normal(size=(S, A))
    m = None
    if mask:
        m = rng.random((S, A)) < 0.7
        m[:, 0] = True
    return TabularMDP(P, R, gamma, mask=m)


def reference_V(mdp: TabularMDP) -> np.ndarray:
    """V* by PI from scratch, re-verified: a policy whose exact value satisfies T V = V to rounding."""
    sol = mdpkit.policy_iteration(mdp)
    ev = mdpkit.evaluate(mdp, sol.policy)
    assert mdpkit.bellman_residual(mdp, ev.V) <= 64 * EPS * (1 + np.abs(ev.V).max())
    return ev.V


def fp_slack(mdp: TabularMDP, V: np.ndarray) -> float:
    """Rounding allowance for values computed in float64.

    A Bellman backup of ``v`` sums at most S products, so it carries an absolute error of at most about
    ``S * eps * ||v||``; the errors of successive sweeps (and of an LU solve of ``I - gamma P_pi``, whose
    condition number is at most ``(1 + gamma) / (1 - gamma)``) are amplified by at most ``1 / (1 - gamma)``.
    """
    return 2.0 * mdp.S * EPS * (1.0 + float(np.abs(V).max())) / (1.0 - mdp.gamma)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_solution_fields(method, sparse, masked):
    mdp = garnet(mask=masked)
    if sparse:
        mdp = mdp.to_sparse()
    Vstar = reference_V(mdp)
    sol = mdpkit.solve(mdp, method)
    assert sol.method == method
    assert sol.converged
    assert sol.V.shape == (mdp.S,) and sol.policy.shape == (mdp.S,)
    assert np.issubdtype(sol.policy.dtype, np.integer)
    assert np.all(mdp.mask[np.arange(mdp.S), sol.policy])  # only feasible actions
    assert sol.iterations >= (0 if method == "lp" else 1)
    assert 0 <= sol.error_bound <= 1e-10 and 0 <= sol.residual <= 1e-10
    np.testing.assert_allclose(sol.V, Vstar, rtol=0, atol=1e-10)
    # Q = R + gamma P V with -inf at infeasible pairs; the policy is greedy for Q
    Q = sol.Q
    want = np.where(
        mdp.mask, mdp.R_finite + mdp.gamma * np.einsum("sat,t->sa", mdp.dense_P(), sol.V), -np.inf
    )
    np.testing.assert_allclose(Q, want, rtol=0, atol=1e-12)
    assert sol.Q is Q  # cached
    np.testing.assert_allclose(Q[np.arange(mdp.S), sol.policy], Q.max(axis=1), rtol=0, atol=1e-9)
    assert mdpkit.bellman_residual(mdp, sol.V) <= sol.residual + fp_slack(mdp, sol.V)


def test_gamma_zero_is_myopic():
    mdp = garnet(gamma=0.0, mask=True)
    want = np.where(mdp.mask, mdp.R, -np.inf).max(axis=1)
    for method in METHODS:
        sol = mdpkit.solve(mdp, method)
        np.testing.assert_allclose(sol.V, want, rtol=0, atol=1e-14)
        np.testing.assert_array_equal(sol.policy, np.argmax(mdp.R, axis=1))


def test_masked_action_with_the_best_reward_is_never_used():
    P = np.full((2, 2, 2), 0.5)
    R = np.array([[0.0, 100.0], [0.0, 100.0]])
    mask = np.array([[True, False], [True, True]])
    mdp = TabularMDP(P, R, 0.5, mask=mask)
    for method in METHODS:
        sol = mdpkit.solve(mdp, method)
        assert sol.policy[0] == 0 and sol.policy[1] == 1
        # with m = (V0 + V1)/2: V0 = 0.5 m, V1 = 100 + 0.5 m  =>  m = (100 + m)/2 = 100, V = (50, 150)
        np.testing.assert_allclose(sol.V, [50.0, 150.0], rtol=1e-13)
        assert np.isneginf(sol.Q[0, 1])


@pytest.mark.parametrize("method", ["vi", "mpi", "pi"])
def test_callback_sees_every_iteration(method):
    mdp = garnet(gamma=0.95)
    seen = []
    sol = mdpkit.solve(mdp, method, callback=lambda k, v, pol: seen.append((k, v.copy(), pol.copy())))
    assert [k for k, _, _ in seen] == list(range(1, sol.iterations + 1))
    assert all(v.shape == (mdp.S,) and p.shape == (mdp.S,) for _, v, p in seen)
    if method == "pi":
        np.testing.assert_array_equal(seen[-1][2], sol.policy)
        np.testing.assert_array_equal(seen[-1][1], sol.V)


@pytest.mark.parametrize("method", ["vi", "mpi"])
def test_budget_exhaustion_is_reported_and_still_certified(method):
    """With max_iter=2 the span rule is not met: converged is False, error_bound > tol, but the bracket
    V* in [v + min(Tv - v)/(1-g), v + max(Tv - v)/(1-g)] still holds (Puterman 1994, Prop. 6.6.5)."""
    mdp = garnet(gamma=0.99)
    Vstar = reference_V(mdp)
    sol = mdpkit.solve(mdp, method, max_iter=2)
    assert not sol.converged and sol.iterations == 2
    assert sol.error_bound > 1e-10
    assert np.max(np.abs(sol.V - Vstar)) <= sol.error_bound / 2 + fp_slack(mdp, Vstar)
    Vpi = mdpkit.evaluate(mdp, sol.policy).V
    assert np.max(Vstar - Vpi) <= sol.error_bound + fp_slack(mdp, Vstar)


def test_policy_iteration_budget_exhaustion():
    mdp = garnet(S=12, A=4, gamma=0.99, seed=3)
    full = mdpkit.policy_iteration(mdp)
    assert full.iterations > 1
    sol = mdpkit.policy_iteration(mdp, max_iter=1)
    assert not sol.converged and sol.iterations == 1
    Vstar = full.V
    assert np.max(np.abs(sol.V - Vstar)) <= sol.error_bound / 2 + fp_slack(mdp, Vstar)


def test_warm_starts():
    mdp = garnet(gamma=0.9)
    Vstar = reference_V(mdp)
    opt = mdpkit.policy_iteration(mdp).policy
    assert mdpkit.value_iteration(mdp, v0=Vstar).iterations == 1
    assert mdpkit.modified_policy_iteration(mdp, v0=Vstar).iterations == 1
    assert mdpkit.policy_iteration(mdp, policy0=opt).iterations == 1
    # a float-typed but integral policy0 is accepted
    assert mdpkit.policy_iteration(mdp, policy0=opt.astype(float)).iterations == 1


def test_mpi_with_m_zero_is_value_iteration_from_the_same_start():
    mdp = garnet(gamma=0.9)
    v0 = np.full(mdp.S, mdp.R.min() / (1 - mdp.gamma))
    a = mdpkit.modified_policy_iteration(mdp, m=0)
    b = mdpkit.value_iteration(mdp, v0=v0)
    assert a.iterations == b.iterations
    np.testing.assert_array_equal(a.V, b.V)


def test_mpi_iterates_increase_from_the_default_start():
    """From v0 = min r / (1 - gamma), T v0 >= v0 and the MPI iterates increase monotonically (Puterman
    1994, Thm 6.5.5); the callback sees T v_k, which must therefore be non-decreasing in k."""
    mdp = garnet(gamma=0.95, seed=4)
    seen = []
    mdpkit.modified_policy_iteration(mdp, m=5, callback=lambda k, v, pol: seen.append(v.copy()))
    for a, b in zip(seen, seen[1:], strict=False):
        assert np.all(b >= a - 1e-12 * (1 + np.abs(a).max()))


def test_evaluate():
    mdp = garnet(mask=True, seed=5)
    pol = np.zeros(mdp.S, dtype=int)
    ev = mdpkit.evaluate(mdp, pol)
    P = mdp.dense_P()
    Ppi, rpi = P[np.arange(mdp.S), pol], mdp.R[np.arange(mdp.S), pol]
    np.testing.assert_allclose(ev.V, np.linalg.solve(np.eye(mdp.S) - mdp.gamma * Ppi, rpi), rtol=1e-13)
    Q = np.where(mdp.mask, mdp.R_finite + mdp.gamma * P @ ev.V, -np.inf)
    np.testing.assert_allclose(ev.Q, Q, rtol=1e-13)
    np.testing.assert_allclose(ev.advantage[np.arange(mdp.S), pol], 0.0, atol=1e-12)
    assert np.all(np.isneginf(ev.advantage[~mdp.mask]))
    assert ev.J == pytest.approx(float(mdp.initial @ ev.V), rel=1e-15)
    # the stochastic one-hot form gives the same evaluation, and so does the CSR model
    ev2 = mdpkit.evaluate(mdp.to_sparse(), mdpkit.deterministic_to_stochastic(pol, mdp.A))
    np.testing.assert_allclose(ev2.V, ev.V, rtol=1e-13)


def test_evaluate_stochastic_policy_is_the_mixture_of_its_bellman_equation():
    mdp = garnet(S=4, A=2, seed=6)
    pi = np.array([[0.25, 0.75], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    ev = mdpkit.evaluate(mdp, pi)
    # V = sum_a pi(a|s) Q(s, a)  (Bellman expectation equation)
    np.testing.assert_allclose(ev.V, np.sum(pi * ev.Q, axis=1), rtol=1e-13)


def test_occupancy_from_a_point_mass():
    """From mu = e_0 under a policy that stays in state 0 forever, d = e_(0, a)."""
    P = np.zeros((2, 2, 2))
    P[:, 0, 0] = 1.0
    P[:, 1, 1] = 1.0
    mdp = TabularMDP(P, np.zeros((2, 2)), 0.7)
    d = mdpkit.occupancy(mdp, np.array([0, 1]), initial=np.array([1.0, 0.0]))
    np.testing.assert_allclose(d, [[1.0, 0.0], [0.0, 0.0]], atol=1e-15)
    # from uniform: half the mass stays in each state
    d = mdpkit.occupancy(mdp, np.array([0, 1]))
    np.testing.assert_allclose(d, [[0.5, 0.0], [0.0, 0.5]], atol=1e-15)


def test_performance_difference_of_a_policy_with_itself_is_zero():
    mdp = garnet(mask=True, seed=7)
    pol = np.zeros(mdp.S, dtype=int)
    lhs, rhs = mdpkit.performance_difference(mdp, pol, pol)
    assert lhs == 0.0 and abs(rhs) <= 1e-12


def test_sparse_large_model_uses_the_krylov_path():
    """Above SPARSE_DIRECT_MAX_S states, PI evaluates policies with GMRES; the result must still be exact
    to rounding: V^pi satisfies T V = V (the Bellman residual certifies it) and VI agrees."""
    from mdpkit.core import _ops

    S, A, k = _ops.SPARSE_DIRECT_MAX_S + 10, 2, 3
    rng = np.random.default_rng(0)
    rows = np.repeat(np.arange(S * A), k)
    P = sp.csr_matrix((rng.random(S * A * k) + 0.1, (rows, rng.integers(0, S, S * A * k))), shape=(S * A, S))
    P = sp.csr_matrix(sp.diags(1.0 / np.asarray(P.sum(axis=1)).ravel()) @ P)
    mdp = TabularMDP(P, rng.normal(size=(S, A)), 0.9)
    sol = mdpkit.solve(mdp, "pi")
    assert sol.converged and sol.error_bound <= 1e-10
    # ||V - V*|| <= ||TV - V|| / (1 - gamma)
    assert mdpkit.bellman_residual(mdp, sol.V) / (1 - mdp.gamma) <= 1e-11
    vi = mdpkit.solve(mdp, "vi")
    np.testing.assert_allclose(vi.V, sol.V, rtol=0, atol=1e-10)


def test_error_bound_is_a_certificate_near_gamma_one():
    """Solution.V is documented to lie within ``error_bound / 2`` of V* (VI, MPI; ``error_bound`` for PI and
    LP, whose V is V^pi), and ``error_bound`` is called *certified*.

    Model: one action, two states that switch with probability q = 1/32 (exact in binary, so the rows
    sum to exactly 1), r = (7, 9), gamma = 0.999. Closed form: the sum and the difference of the two
    Bellman equations give V(0) + V(1) = (r0 + r1) / (1 - g) and V(0) - V(1) = (r0 - r1) / (1 - g (1 - 2q)),
    hence V(s) = [(r0 + r1) / (1 - g) +/- (r0 - r1) / (1 - g (1 - 2q))] / 2 (~8000), evaluated below in
    exact rational arithmetic on the float64 value of g.

    Every method reports converged=True and error_bound = 0.0 at tol = 1e-10, yet misses V* by 1.5e-10 to
    3e-10 (VI 1.5e-10, MPI 3.1e-10, PI and LP 2.9e-10), i.e. by more than tol itself: the bound ignores
    floating-point rounding, whose floor here is ~eps ||V|| / (1 - g) ~ 2e-9 > tol. We allow 4 ulps of
    ||V*|| on top of the documented bound.
    """
    g, q = Fraction(0.999), Fraction(1, 32)
    r0, r1 = Fraction(7), Fraction(9)
    total, diff = (r0 + r1) / (1 - g), (r0 - r1) / (1 - g * (1 - 2 * q))
    exact = np.array([float((total + diff) / 2), float((total - diff) / 2)])
    P = np.array([[[31 / 32, 1 / 32]], [[1 / 32, 31 / 32]]])
    mdp = TabularMDP(P, np.array([[7.0], [9.0]]), 0.999)
    report = {}
    for method in METHODS:
        sol = mdpkit.solve(mdp, method)
        claimed = sol.error_bound / 2 if method in ("vi", "mpi") else sol.error_bound
        err = float(np.max(np.abs(sol.V - exact)))
        if err > claimed + 4 * EPS * float(np.abs(exact).max()):
            report[method] = {"error": err, "error_bound": sol.error_bound, "converged": sol.converged}
    assert not report, report
