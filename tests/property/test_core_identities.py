r"""Property tests of mdpkit's exact core: the defining identities of the solvers on random models.

Tolerances (float64, ``eps = 2.2e-16``)
---------------------------------------
* Certified error. With ``tol = 1e-10`` every discounted solver returns ``error_bound <= tol``; VI and MPI
  return ``V = v + (min D + max D) / (2 (1 - g))`` with ``D = Tv - v``, which lies within ``error_bound / 2``
  of V* (Puterman 1994, Prop. 6.6.5); PI and LP return ``V = V^pi`` with ``||V^pi - V*|| <= error_bound``.
* Rounding. A backup sums at most S products, so it is off by at most about ``S eps ||v||``; sweep and LU
  errors are amplified by at most ``1 / (1 - g)`` (the condition number of ``I - g P_pi`` is at most
  ``(1 + g) / (1 - g)``). We allow ``fp = 2 S eps (1 + ||V*||) / (1 - g)`` on top of every certified bound.
  For the drawn models (S <= 8, |r| <= ~30, g <= 0.99) this is at most ~1e-9.
* Reference V*. The exact value of PI's policy, certified independently of the solver's own bound by
  ``||V - V*|| <= ||TV - V|| / (1 - g)`` (the Bellman residual, computed here).
* Hence two methods agree to ``b_1 + b_2 + 2 fp`` (``b`` the certified part), which for tol = 1e-10 is far
  below the 1e-8 asked of "VI == PI == MPI == LP"; we assert both.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import mdpkit
from mdpkit import MultichainError, TabularMDP
from mdpkit.core.average import chain_limit
from tests.property.strategies import (
    communicating_mdps,
    feasible_policies,
    multichain_mdps,
    tabular_mdps,
    tiny_finite_horizon_mdps,
)

EPS = np.finfo(np.float64).eps
TOL = 1e-10
METHODS = ("vi", "pi", "mpi", "lp")


def fp(mdp: TabularMDP, V: np.ndarray) -> float:
    """Rounding allowance for a discounted value computed in float64 (see the module docstring)."""
    return 2.0 * mdp.S * EPS * (1.0 + float(np.max(np.abs(V)))) / (1.0 - mdp.gamma)


def certified_part(sol) -> float:
    """The documented distance of Solution.V to V*: error_bound / 2 (VI, MPI) or error_bound (PI, LP)."""
    return sol.error_bound / 2 if sol.method in ("vi", "mpi") else sol.error_bound


def reference(mdp: TabularMDP) -> tuple[np.ndarray, float]:
    """(V_ref, r) with ||V_ref - V*|| <= r certified by the Bellman residual of V_ref."""
    V = mdpkit.evaluate(mdp, mdpkit.policy_iteration(mdp).policy).V
    return V, mdpkit.bellman_residual(mdp, V) / (1.0 - mdp.gamma)


def dense(mdp: TabularMDP) -> np.ndarray:
    return mdp.dense_P()


# ====================================================================================== discounted
@settings(max_examples=25)
@given(tabular_mdps())
def test_four_methods_agree_and_certify(mdp):
    Vref, rref = reference(mdp)
    slack = fp(mdp, Vref)
    assert rref <= slack  # PI's policy is optimal up to rounding
    sols = {m: mdpkit.solve(mdp, m, tol=TOL) for m in METHODS}
    for m, sol in sols.items():
        assert sol.converged, m
        # the certificate meets tol up to its worst-case rounding term (core.discounted.rounding_floor)
        assert sol.error_bound <= TOL + sol.rounding and sol.residual <= TOL, (
            m,
            sol.error_bound,
            sol.residual,
        )
        assert np.max(np.abs(sol.V - Vref)) <= certified_part(sol) + rref + slack, m
        # the returned policy is tol-optimal: V* - V^pi <= error_bound <= tol (and nothing beats V*)
        Vpi = mdpkit.evaluate(mdp, sol.policy).V
        assert np.max(Vref - Vpi) <= sol.error_bound + rref + slack, m
        assert np.max(Vpi - Vref) <= rref + slack, m
    for a, b in ((a, b) for a in METHODS for b in METHODS if a < b):
        gap = np.max(np.abs(sols[a].V - sols[b].V))
        assert gap <= certified_part(sols[a]) + certified_part(sols[b]) + 2 * (rref + slack), (a, b)
        assert gap <= 1e-8, (a, b, gap)


@settings(max_examples=30)
@given(tabular_mdps())
def test_greedy_policy_of_pi_values_is_optimal(mdp):
    """PI stops at a policy that is greedy for its own exact value; re-deriving the greedy policy from
    Q = r + g P V (first maximiser, ties within rounding allowed) must again achieve V*."""
    sol = mdpkit.solve(mdp, "pi")
    slack = fp(mdp, sol.V)
    Q = np.where(mdp.mask, mdp.R_finite + mdp.gamma * dense(mdp) @ sol.V, -np.inf)
    greedy = np.argmax(Q, axis=1)
    Vg = mdpkit.evaluate(mdp, greedy).V
    assert np.max(np.abs(Vg - sol.V)) <= sol.error_bound + slack
    # T V = V for PI's V
    np.testing.assert_allclose(Q.max(axis=1), sol.V, rtol=0, atol=slack * (1 - mdp.gamma) + 1e-300)


@settings(max_examples=30)
@given(tabular_mdps(gamma=st.sampled_from([0.5, 0.9, 0.99])))
def test_policy_iteration_improves_monotonically(mdp):
    """Howard's improvement gives V^{pi_{k+1}} >= V^{pi_k} componentwise (Puterman 1994, Prop. 6.4.1)."""
    seen = []
    mdpkit.policy_iteration(mdp, callback=lambda k, v, pol: seen.append((v.copy(), pol.copy())))
    for (v0, p0), (v1, p1) in zip(seen, seen[1:], strict=False):
        assert np.all(v1 >= v0 - fp(mdp, v1)), np.min(v1 - v0)
        assert not np.array_equal(p0, p1)  # a new policy at every iteration but the last


@settings(max_examples=20)
@given(tabular_mdps(sparse=False))
def test_dense_and_csr_agree(mdp):
    sparse = mdp.to_sparse()
    slack = fp(mdp, mdpkit.solve(mdp, "pi").V)
    for m in METHODS:
        a, b = mdpkit.solve(mdp, m), mdpkit.solve(sparse, m)
        assert np.max(np.abs(a.V - b.V)) <= certified_part(a) + certified_part(b) + 2 * slack, m
        Va, Vb = mdpkit.evaluate(mdp, a.policy).V, mdpkit.evaluate(sparse, b.policy).V
        assert np.max(np.abs(Va - Vb)) <= a.error_bound + b.error_bound + 2 * slack, m
    pol = mdpkit.solve(mdp, "pi").policy
    ea, eb = mdpkit.evaluate(mdp, pol), mdpkit.evaluate(sparse, pol)
    np.testing.assert_allclose(ea.V, eb.V, rtol=0, atol=slack)
    np.testing.assert_allclose(mdpkit.occupancy(mdp, pol), mdpkit.occupancy(sparse, pol), rtol=0, atol=1e-12)


def value_scale(mdp: TabularMDP) -> float:
    """||r||_inf / (1 - g): the natural size of values, used to make absolute errors relative."""
    return max(float(np.max(np.abs(mdp.R_finite))), 1e-300) / (1.0 - mdp.gamma)


@settings(max_examples=40)
@given(st.data())
def test_performance_difference_lemma(data):
    r"""J(pi') - J(pi) = E_{d^{pi'}}[A^pi] / (1 - g) (Kakade & Langford 2002, Lemma 6.1), to 1e-10 relative
    to the value scale ||r|| / (1 - g) (both sides are exact linear algebra; their rounding is
    O(S eps cond) = O(S eps / (1 - g)) relative, ~1e-13 here)."""
    mdp = data.draw(tabular_mdps())
    new = data.draw(feasible_policies(mdp.mask))
    old = data.draw(feasible_policies(mdp.mask))
    lhs, rhs = mdpkit.performance_difference(mdp, new, old)
    assert abs(lhs - rhs) <= 1e-10 * value_scale(mdp)
    # and the left side is what it claims to be
    J = lambda pi: float(mdp.initial @ mdpkit.evaluate(mdp, pi).V)  # noqa: E731
    assert lhs == pytest.approx(J(new) - J(old), rel=0, abs=1e-12 * value_scale(mdp))


@settings(max_examples=40)
@given(st.data())
def test_occupancy_measure(data):
    r"""d = (1-g) mu^T (I - g P_pi)^{-1} diag(pi): a distribution on feasible pairs, with
    J = <d, r> / (1-g) and the flow constraint
    sum_a d(s', a) = (1-g) mu(s') + g sum_{s,a} P(s'|s,a) d(s,a) (the dual LP of Puterman 1994, 6.9)."""
    mdp = data.draw(tabular_mdps(gamma=st.sampled_from([0.0, 0.5, 0.9, 0.99])))
    pi = data.draw(feasible_policies(mdp.mask))
    if data.draw(st.booleans()):
        mu = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).dirichlet(np.ones(mdp.S))
    else:
        mu = None
    d = mdpkit.occupancy(mdp, pi, initial=mu)
    mu = mdp.initial if mu is None else mu
    assert d.shape == (mdp.S, mdp.A)
    assert np.all(d >= -1e-15)
    assert np.all(d[~mdp.mask] == 0)
    assert d.sum() == pytest.approx(1.0, abs=1e-12)
    J = float(mu @ mdpkit.evaluate(mdp, pi).V)
    assert float(np.sum(d * mdp.R_finite)) / (1 - mdp.gamma) == pytest.approx(J, abs=1e-10 * value_scale(mdp))
    inflow = (1 - mdp.gamma) * mu + mdp.gamma * np.einsum("sa,sat->t", d, dense(mdp))
    np.testing.assert_allclose(d.sum(axis=1), inflow, rtol=0, atol=1e-12)


# ====================================================================================== finite horizon
def brute_force_finite(fh: mdpkit.FiniteHorizonMDP) -> np.ndarray:
    """V_0 of every deterministic Markov policy (rows), by enumeration over the feasible actions."""
    H, S = fh.H, fh.S
    choices = [np.flatnonzero(fh.mask[h, s]) for h in range(H) for s in range(S)]
    pols = np.array(list(product(*choices)), dtype=np.int64).reshape(-1, H, S)
    Ps = []
    for h in range(H):
        Ph = fh.P_rows_at(h)
        Ph = Ph.toarray() if sp.issparse(Ph) else np.asarray(Ph)
        Ps.append(Ph.reshape(S, fh.A, S))
    V = np.broadcast_to(fh.terminal, (len(pols), S))
    rows = np.arange(S)
    for h in range(H - 1, -1, -1):
        a = pols[:, h, :]
        V = fh.R[h][rows, a] + np.einsum("nst,nt->ns", Ps[h][rows, a], V)
    return V


@settings(max_examples=40)
@given(tiny_finite_horizon_mdps())
def test_backward_induction_equals_brute_force(fh):
    """An optimal deterministic Markov policy exists and is optimal from every state simultaneously
    (Puterman 1994, Thm 4.4.2), so V_0* is the componentwise max over all of them."""
    sol = mdpkit.backward_induction(fh)
    allV = brute_force_finite(fh)
    scale = 1.0 + np.max(np.abs(allV))
    np.testing.assert_allclose(sol.V[0], allV.max(axis=0), rtol=0, atol=1e-13 * scale)
    assert sol.value == pytest.approx(float(np.max(allV @ fh.initial)), abs=1e-13 * scale)


@settings(max_examples=40)
@given(tiny_finite_horizon_mdps())
def test_evaluate_finite_of_the_optimal_policy(fh):
    sol = mdpkit.backward_induction(fh)
    V, Q = mdpkit.evaluate_finite(fh, sol.policy)
    scale = 1.0 + np.max(np.abs(sol.V))
    np.testing.assert_allclose(V, sol.V, rtol=0, atol=1e-14 * scale)
    np.testing.assert_allclose(
        np.where(fh.mask, Q, 0), np.where(fh.mask, sol.Q, 0), rtol=0, atol=1e-14 * scale
    )


@settings(max_examples=40)
@given(st.data())
def test_occupancy_finite_identity(data):
    r"""mu^T V_0^pi = sum_{h,s,a} d_h(s,a) r_h(s,a) + sum_s d_H(s) v_term(s), with d_H the state distribution
    after the last decision; every d_h is a distribution on feasible pairs."""
    fh = data.draw(tiny_finite_horizon_mdps(max_S=5, max_A=3, max_H=5))
    pi = data.draw(feasible_policies(fh.mask))
    d = mdpkit.occupancy_finite(fh, pi)
    np.testing.assert_allclose(d.sum(axis=(1, 2)), 1.0, rtol=0, atol=1e-13)
    assert np.all(d >= -1e-16) and np.all(d[~fh.mask] == 0)
    PH = fh.P_rows_at(fh.H - 1)
    PH = (PH.toarray() if sp.issparse(PH) else PH).reshape(fh.S, fh.A, fh.S)
    dH = np.einsum("sa,sat->t", d[-1], PH)
    V, _ = mdpkit.evaluate_finite(fh, pi)
    rhs = float(np.sum(d * np.where(fh.mask, fh.R, 0.0)) + dH @ fh.terminal)
    assert float(fh.initial @ V[0]) == pytest.approx(rhs, abs=1e-12 * (1 + np.max(np.abs(V))))


# ====================================================================================== average reward
def avg_fp(mdp: TabularMDP, h: np.ndarray) -> float:
    """Rounding allowance for quantities like r + P h computed in float64: a few S eps (1 + ||h||)."""
    return 4.0 * mdp.S * EPS * (1.0 + float(np.max(np.abs(h))))


@settings(max_examples=30)
@given(communicating_mdps())
def test_average_reward_optimality_equation(mdp):
    sol = mdpkit.average_reward(mdp, "rvi", tol=TOL)
    assert sol.converged and sol.gain_upper - sol.gain_lower <= TOL
    slack = avg_fp(mdp, sol.h)
    Th = np.where(mdp.mask, mdp.R_finite + dense(mdp) @ sol.h, -np.inf).max(axis=1)
    # rho + h = max_a (r + P h) to tol / 2 (the residual), and the bracket is min/max of Th - h
    assert np.max(np.abs(sol.gain + sol.h - Th)) <= sol.residual + slack <= TOL / 2 + slack
    assert sol.gain_lower - slack <= np.min(Th - sol.h) and np.max(Th - sol.h) <= sol.gain_upper + slack
    lp = mdpkit.average_reward(mdp, "lp", tol=TOL)
    assert abs(lp.gain - sol.gain) <= TOL + slack  # both within tol/2 of rho*
    # the returned policy's exact gain (every component) lies in the certified bracket
    g, _ = mdpkit.policy_gain(mdp, sol.policy)
    assert np.all(g >= sol.gain_lower - slack) and np.all(g <= sol.gain_upper + slack), (g, sol)


@settings(max_examples=30)
@given(st.data())
def test_policy_gain_identities(data):
    r"""g = P* r, h = (I - P + P*)^{-1}(I - P*) r satisfy g = P g, g + h = r + P h and P* h = 0 (Puterman
    1994, 8.2), for any policy (multichain ones included) of any model."""
    mdp = data.draw(st.one_of(communicating_mdps(), tabular_mdps(max_S=6), multichain_mdps()))
    pi = data.draw(feasible_policies(mdp.mask))
    g, h = mdpkit.policy_gain(mdp, pi)
    Ppi = mdp.transition_matrix(pi)
    Ppi = Ppi.toarray() if sp.issparse(Ppi) else Ppi
    r = mdp.reward_vector(pi)
    Pstar = chain_limit(Ppi)
    tol = 1e-10 * (1.0 + np.max(np.abs(h)) + np.max(np.abs(r)))
    np.testing.assert_allclose(Ppi @ g, g, rtol=0, atol=tol)
    np.testing.assert_allclose(g + h, r + Ppi @ h, rtol=0, atol=tol)
    np.testing.assert_allclose(Pstar @ h, 0.0, rtol=0, atol=tol)
    np.testing.assert_allclose(Pstar.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@settings(max_examples=12)
@given(multichain_mdps(), st.sampled_from(["rvi", "lp"]))
def test_multichain_models_raise(mdp, method):
    assert not mdpkit.is_communicating(mdp)
    with pytest.raises(MultichainError, match="not constant"):
        mdpkit.average_reward(mdp, method)


@settings(max_examples=25)
@given(communicating_mdps())
def test_blackwell_limit(mdp):
    r"""(1 - g) V*_g -> rho* as g -> 1, at rate (1 - g) sp(h).

    Derivation. Let (rho, h) come from RVI with bracket lo <= Th - h <= hi (T the undiscounted operator) and
    put u = rho / (1 - g) + h. Since r + g P h = r + P h - (1 - g) P h and min h <= P h <= max h,

        T_g u - u in [lo - rho - (1 - g) max h,  hi - rho - (1 - g) min h].

    T_g is a monotone g-contraction, so V*_g - u lies in that interval divided by (1 - g); multiplying by
    (1 - g), rho cancels:

        lo + (1 - g)(h - max h)  <=  (1 - g) V*_g  <=  hi + (1 - g)(h - min h)     (every state).

    Hence |(1 - g) V*_g - rho*| <= (1 - g) sp(h) + (hi - lo) -> 0. Rounding: V*_g from PI carries
    fp = 2 S eps (1 + ||V||) / (1 - g), i.e. 2 S eps (1 + ||V||) after the factor (1 - g).
    """
    sol = mdpkit.average_reward(mdp, tol=TOL)
    lo, hi, h = sol.gain_lower, sol.gain_upper, sol.h
    devs = []
    for g in (0.9, 0.99, 0.999):
        m = mdp.with_gamma(g)
        V = mdpkit.solve(m, "pi").V
        slack = (1 - g) * fp(m, V) + avg_fp(mdp, h)
        x = (1 - g) * V
        assert np.all(x >= lo + (1 - g) * (h - h.max()) - slack), g
        assert np.all(x <= hi + (1 - g) * (h - h.min()) + slack), g
        devs.append(float(np.max(np.abs(x - sol.gain))))
        assert devs[-1] <= (1 - g) * sol.span + (hi - lo) + slack
    # the trend: the bound shrinks tenfold per step, so must the deviation's envelope
    assert devs[-1] <= 1e-3 * sol.span + 2e-10
