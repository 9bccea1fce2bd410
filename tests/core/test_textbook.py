"""Textbook models whose answers are derived by hand (derivations in the docstrings), compared with the
solvers in exact arithmetic (``fractions`` / ``sympy``) converted to float64 only at the end.

Tolerances: the reference values are exact; the solver values carry (i) the method's certified error
(``tol / 2`` for VI and MPI; the PI / LP error is rounding only) and (ii) float64 rounding, of order
``S * eps * ||V|| / (1 - gamma)`` (a backup sums S products; errors are amplified by at most 1/(1-gamma)).
With ``tol = 1e-13``, ``||V|| <= 50`` and ``gamma <= 0.9`` both are below 1e-12, the comparison tolerance.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import numpy as np
import pytest
import sympy

import mdpkit
from mdpkit import FiniteHorizonMDP, TabularMDP

METHODS = ["vi", "pi", "mpi", "lp"]


# ====================================================================================== discounted
class TestTwoStateClosedForm:
    r"""Two states, two actions ("stay", "switch"), with a slip probability p on "switch":

    * state 0: stay -> 0, reward a;  switch -> 1 w.p. 1-p (else stay in 0), reward 0;
    * state 1: stay -> 1, reward b;  switch -> 0 w.p. 1-p (else stay in 1), reward 0.

    With a = 1, b = 2 (state 1 is the better place to sit), the optimal policy is (switch, stay) whenever
    switching is worth it. Under that policy V(1) = b / (1 - g) and

        V(0) = g [(1 - p) V(1) + p V(0)]   =>   V(0) = g (1 - p) b / ((1 - g)(1 - g p)).

    Staying in 0 instead gives a / (1 - g); switching is optimal iff g (1-p) b / (1 - g p) >= a. We derive
    V* symbolically with sympy by solving the Bellman equation of every one of the 4 deterministic
    policies (exact rational linear algebra) and taking the componentwise maximum, which is V* because an
    optimal deterministic stationary policy exists and dominates all others (Puterman 1994, Thm 6.2.10).
    """

    @staticmethod
    def model(gamma: Fraction, p: Fraction, a: int = 1, b: int = 2):
        P = [[[1, 0], [p, 1 - p]], [[0, 1], [1 - p, p]]]  # P[s][a][s']
        R = [[a, 0], [b, 0]]
        return P, R

    @classmethod
    def exact_V(cls, gamma: Fraction, p: Fraction) -> list[sympy.Rational]:
        """V* for the binary (float64) values of gamma and p that the solvers see, in exact arithmetic."""
        gamma, p = Fraction(float(gamma)), Fraction(float(p))
        P, R = cls.model(gamma, p)
        g = sympy.Rational(gamma.numerator, gamma.denominator)
        best = None
        for pol in product(range(2), repeat=2):
            Ppi = sympy.Matrix([[sympy.Rational(str(P[s][pol[s]][t])) for t in range(2)] for s in range(2)])
            rpi = sympy.Matrix([R[s][pol[s]] for s in range(2)])
            V = (sympy.eye(2) - g * Ppi).LUsolve(rpi)
            best = list(V) if best is None else [max(x, y) for x, y in zip(best, V, strict=True)]
        return best

    @pytest.mark.parametrize(
        ("gamma", "p"),
        [(Fraction(1, 2), Fraction(1, 10)), (Fraction(9, 10), Fraction(1, 4)), (Fraction(9, 10), 0)],
    )
    def test_values_match_closed_form(self, gamma, p):
        exact = self.exact_V(gamma, p)
        # the hand-derived closed form of the (switch, stay) policy agrees with the enumeration here
        gf, pf = Fraction(float(gamma)), Fraction(float(p))
        g = sympy.Rational(gf.numerator, gf.denominator)
        pr = sympy.Rational(pf.numerator, pf.denominator)
        assert exact[1] == 2 / (1 - g)
        assert exact[0] == max(g * (1 - pr) * 2 / ((1 - g) * (1 - g * pr)), 1 / (1 - g))
        want = np.array([float(x) for x in exact])
        P, R = self.model(gamma, p)
        mdp = TabularMDP(np.array(P, dtype=float), np.array(R, dtype=float), float(gamma))
        for method in METHODS:
            sol = mdpkit.solve(mdp, method, tol=1e-13)
            np.testing.assert_allclose(sol.V, want, rtol=0, atol=1e-12, err_msg=method)
            assert sol.policy[1] == 0

    def test_switch_threshold(self):
        """At gamma = 1/2, p = 1/10: switching gives (1/2)(9/10) 2 / (1 - 1/20) = 18/19 < 1 = a, so the
        optimal action in state 0 is "stay", with V(0) = a / (1 - g) = 2; at gamma = 9/10 switching wins."""
        mdp = TabularMDP(
            np.array(self.model(0.5, 0.1)[0], dtype=float), np.array([[1.0, 0.0], [2.0, 0.0]]), 0.5
        )
        assert mdpkit.solve(mdp, "pi").policy.tolist() == [0, 0]
        mdp9 = mdp.with_gamma(0.9)
        assert mdpkit.solve(mdp9, "pi").policy.tolist() == [1, 0]


class TestDeterministicChain:
    r"""A deterministic chain 0 -> 1 -> ... -> n-1, with n-1 absorbing (reward 0 there).

    Action 0 ("advance") pays 1 and moves one step right; action 1 ("bail out") pays 1/2 and jumps to n-1.
    From state s there are k = n-1-s steps to go; advancing collects the geometric sum

        V*(s) = sum_{t=0}^{k-1} g^t = (1 - g^k) / (1 - g),

    which beats bailing out (1/2) whenever k >= 1, since the first term alone is 1.
    """

    @pytest.mark.parametrize("gamma", [Fraction(1, 2), Fraction(9, 10), Fraction(0)])
    @pytest.mark.parametrize("sparse", [False, True])
    def test_geometric_sum(self, gamma, sparse):
        n = 12
        P = np.zeros((n, 2, n))
        R = np.zeros((n, 2))
        for s in range(n - 1):
            P[s, 0, s + 1] = 1.0
            P[s, 1, n - 1] = 1.0
            R[s] = [1.0, 0.5]
        P[n - 1, :, n - 1] = 1.0
        mdp = TabularMDP(P, R, float(gamma))
        if sparse:
            mdp = mdp.to_sparse()
        g = Fraction(float(gamma))  # the binary value the solver sees
        want = np.array([float(sum(g**t for t in range(n - 1 - s))) for s in range(n)])
        for method in METHODS:
            sol = mdpkit.solve(mdp, method, tol=1e-13)
            np.testing.assert_allclose(sol.V, want, rtol=0, atol=1e-12, err_msg=method)
            np.testing.assert_array_equal(sol.policy[: n - 1], 0)

    def test_single_self_loop(self):
        """One state, one action, reward r: V = r / (1 - g) = 3 / 0.25 = 12 exactly representable."""
        mdp = TabularMDP(np.ones((1, 1, 1)), np.array([[3.0]]), 0.75)
        for method in METHODS:
            assert mdpkit.solve(mdp, method).V[0] == pytest.approx(12.0, abs=1e-13)


# ====================================================================================== average reward
class TestBirthDeathChain:
    r"""A birth-death chain on {0, 1, 2}: up w.p. u, down w.p. d, otherwise stay (reflecting ends).

    Detailed balance pi_i u = pi_{i+1} d gives pi_i proportional to (u/d)^i; with u = 1/4, d = 1/2:
    pi = (4, 2, 1) / 7. The reward r(s) = s then has gain rho = sum_i pi_i i = (0 + 2 + 2) / 7 = 4/7.
    The bias solves rho + h = r + P h with h(0) = 0; by hand, at state 0: rho + h0 = 0 + (3/4) h0 + (1/4) h1,
    so h1 = 4 rho = 16/7; at state 2: rho + h2 = 2 + (1/2) h1 + (1/2) h2, so h2 = 2 (2 - rho) + h1 = 36/7.
    A second action with the same transitions and reward r - 1 is strictly worse and must be ignored.
    """

    def model(self):
        u, d = 0.25, 0.5
        P = np.zeros((3, 2, 3))
        Pc = np.array([[1 - u, u, 0.0], [d, 1 - u - d, u], [0.0, d, 1 - d]])
        P[:, 0, :] = Pc
        P[:, 1, :] = Pc
        R = np.column_stack([np.arange(3.0), np.arange(3.0) - 1.0])
        return TabularMDP(P, R)

    @pytest.mark.parametrize("method", ["rvi", "lp"])
    def test_gain_and_bias(self, method):
        sol = mdpkit.average_reward(self.model(), method, tol=1e-12)
        assert sol.gain == pytest.approx(4 / 7, abs=1e-12)
        np.testing.assert_allclose(sol.h, [0.0, 16 / 7, 36 / 7], atol=1e-10)
        np.testing.assert_array_equal(sol.policy, 0)
        assert sol.span == pytest.approx(36 / 7, abs=1e-10)

    def test_policy_gain_and_stationary_distribution(self):
        from mdpkit.core.average import chain_limit

        mdp = self.model()
        g, h = mdpkit.policy_gain(mdp, np.zeros(3, dtype=int))
        np.testing.assert_allclose(g, 4 / 7, atol=1e-15)
        stationary = np.tile([4.0, 2.0, 1.0], (3, 1)) / 7
        Pstar = chain_limit(mdp.transition_matrix(np.zeros(3, dtype=int)))
        np.testing.assert_allclose(Pstar, stationary, atol=1e-15)
        # policy_gain's bias is normalised by P* h = 0: shift the hand bias (0, 16, 36)/7 by -(pi . h)
        hand = np.array([0.0, 16.0, 36.0]) / 7
        np.testing.assert_allclose(h, hand - np.dot([4 / 7, 2 / 7, 1 / 7], hand), atol=1e-13)

    def test_discounted_values_approach_gain(self):
        """Blackwell: (1 - g) V_g -> rho as g -> 1, with |(1 - g) V_g - rho| <= (1 - g) sp(h) (see the
        derivation in tests/property/test_core_identities.py::test_blackwell_limit)."""
        mdp = self.model()
        for g in (0.9, 0.99, 0.999):
            V = mdpkit.solve(mdp.with_gamma(g), "pi").V
            assert np.max(np.abs((1 - g) * V - 4 / 7)) <= (1 - g) * 36 / 7 + 1e-12


class TestPeriodicCycle:
    r"""The deterministic 2-cycle 0 -> 1 -> 0 with r = (1, 0) (one action): P is periodic, P^t does not
    converge, and plain relative value iteration (tau = 1) oscillates: from v = 0 (reference state 0),
    w = r + P v = (1, 0), Tv - v = (1, 0), v <- w - w(0) = (0, -1); then w = (0, 0), Tv - v = (0, 1),
    v <- (0, 0), and so on: Tv - v alternates between (1, 0) and (0, 1), so the bracket is always [0, 1].
    The gain is rho = 1/2 (half the time in state 0); the bias from rho + h0 = 1 + h1, rho + h1 = 0 + h0
    is h0 - h1 = 1/2, i.e. h = (1/2, 0) after the min-0 shift. The
    aperiodicity transform P~ = tau P + (1 - tau) I (default tau = 1/2) has the same gain and makes RVI
    converge (Puterman 1994, 8.5.4).
    """

    def model(self, r=(1.0, 0.0)):
        P = np.array([[[0.0, 1.0]], [[1.0, 0.0]]])
        return TabularMDP(P, np.array(r)[:, None])

    def test_rvi_converges_with_the_transform(self):
        sol = mdpkit.average_reward(self.model())
        assert sol.converged and sol.iterations < 100
        assert sol.gain == pytest.approx(0.5, abs=1e-12)
        np.testing.assert_allclose(sol.h, [0.5, 0.0], atol=1e-12)

    def test_plain_rvi_oscillates(self):
        from mdpkit.core.average import relative_value_iteration

        sol = relative_value_iteration(self.model(), tau=1.0, max_iter=200)
        assert not sol.converged
        assert (sol.gain_lower, sol.gain_upper) == (0.0, 1.0)  # the bracket never closes

    def test_lp(self):
        sol = mdpkit.average_reward(self.model((3.0, 1.0)), "lp")
        assert sol.gain == pytest.approx(2.0, abs=1e-12)
        np.testing.assert_allclose(sol.h, [1.0, 0.0], atol=1e-10)

    def test_three_cycle_with_choice(self):
        """A 3-cycle whose state 0 may instead self-loop with reward 0.9: cycling yields (1 + 1 + 1)/3 = 1 per
        step vs. 0.9 for the self-loop, so rho* = 1 and the policy cycles."""
        P = np.zeros((3, 2, 3))
        P[np.arange(3), 0, (np.arange(3) + 1) % 3] = 1.0
        P[0, 1, 0] = 1.0
        mask = np.array([[True, True], [True, False], [True, False]])
        R = np.array([[1.0, 0.9], [1.0, 0.0], [1.0, 0.0]])
        sol = mdpkit.average_reward(TabularMDP(P, R, mask=mask))
        assert sol.gain == pytest.approx(1.0, abs=1e-12) and sol.policy[0] == 0


# ====================================================================================== finite horizon
class TestShortestPath:
    r"""Shortest paths as a finite-horizon MDP (Bellman-Ford is backward induction; Bertsekas, DP&OC vol. 1,
    2.1). Nodes 0, 1, 2 and the goal 3 (absorbing, cost 0); edges and costs

        0 -> 1 (1),  0 -> 2 (4),  1 -> 2 (2),  1 -> 3 (6),  2 -> 3 (1),  3 -> 3 (0).

    Action j = "go to node j" (infeasible where there is no edge); reward = -cost; terminal reward 0 at the
    goal and -100 elsewhere (an unreachable goal is worse than any path). By hand:
    shortest paths with at most 3 edges: from 0: 0-1-2-3 = 4 (vs 0-2-3 = 5, 0-1-3 = 7); from 1: 1-2-3 = 3;
    from 2: 2-3 = 1. With only 2 edges left, 0 must take 0-2-3 = 5. With 1 edge left, only 1 and 2 reach the
    goal (6 and 1) and 0 pays 1 + 100 at best (0 -> 1, then stuck at -100).
    """

    def model(self, H: int) -> FiniteHorizonMDP:
        edges = {(0, 1): 1, (0, 2): 4, (1, 2): 2, (1, 3): 6, (2, 3): 1, (3, 3): 0}
        P = np.zeros((4, 4, 4))
        R = np.full((4, 4), -np.inf)
        for s in range(4):
            for j in range(4):
                P[s, j, j] = 1.0
        for (s, j), c in edges.items():
            R[s, j] = -c
        return FiniteHorizonMDP(P, R, H, terminal=np.array([-100.0, -100.0, -100.0, 0.0]))

    def test_three_steps(self):
        sol = mdpkit.backward_induction(self.model(3))
        np.testing.assert_array_equal(sol.V[0], [-4.0, -3.0, -1.0, 0.0])
        np.testing.assert_array_equal(sol.V[1], [-5.0, -3.0, -1.0, 0.0])  # two edges left
        np.testing.assert_array_equal(sol.V[2], [-101.0, -6.0, -1.0, 0.0])  # one edge left
        # the optimal route from 0: 0 -> 1 -> 2 -> 3
        s, route = 0, [0]
        for h in range(3):
            s = int(sol.policy[h, s])
            route.append(s)
        assert route == [0, 1, 2, 3]
        V, _ = mdpkit.evaluate_finite(self.model(3), sol.policy)
        np.testing.assert_array_equal(V, sol.V)

    def test_longer_horizon_waits_at_the_goal(self):
        sol = mdpkit.backward_induction(self.model(6))
        np.testing.assert_array_equal(sol.V[0], [-4.0, -3.0, -1.0, 0.0])
        assert np.all(sol.policy[:, 3] == 3)
