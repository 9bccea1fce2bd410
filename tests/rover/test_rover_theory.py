"""Theorems 3.1 and 3.2 of the ROVER paper as properties, and the counterexamples outside their class."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit import rover
from mdpkit.errors import InvalidArgumentError
from mdpkit.rover import exact, strategies
from mdpkit.rover.minimize import minimize_tree, spec_size

EPS = mpmath.mpf(10) ** -40


def test_toy_key_states():
    toy = rover.paper_toy()
    states, nz = rover.key_states(toy)
    assert sorted(toy.path_str(int(s)) for s in states) == sorted(
        ["A", "B", "C", "D", "AC", "BD", "CA", "DB"]
    )
    assert np.all(nz == 3)


@settings(max_examples=40, deadline=None)
@given(t=strategies.trees(max_depth=4, max_branching=3))
def test_theorem_31_on_the_papers_class(t):
    g = exact.greedy_check_exact(t)
    assert g.worst == g.v_star  # every tie-breaking is optimal
    assert rover.greedy_gap(t) <= 1e-12 * max(1.0, float(g.v_star))


@settings(max_examples=40, deadline=None)
@given(t=strategies.dags(max_depth=4, max_width=3))
def test_theorem_31_on_dags(t):
    g = exact.greedy_check_exact(t)
    assert g.worst == g.v_star


@settings(max_examples=25, deadline=None)
@given(t=strategies.trees(max_depth=3, solvable=True), rho=st.sampled_from(["1/50", "1/4", "1", "7"]))
def test_theorem_32_on_the_papers_class(t, rho):
    sb = exact.softmax_bound_mp(t, Fraction(rho), dps=50)
    assert sb.slack >= -EPS
    assert rover.softmax_lower_bound(t, float(Fraction(rho))) == pytest.approx(float(sb.bound), abs=1e-13)
    # the proof's Eqs. (7)-(10) are equalities; its only inequality is sum_{Q>0} e^{Q/rho} >= e^{max Q/rho}:
    # the slack must be exactly R sum_{s in P} Pr(s) [N/(N + e^{max/rho}) - N/(N + sum_{Q>0} e^{Q/rho})]
    q, _ = exact.uniform_q_exact(t)
    with mpmath.workdps(50):
        inv = 1 / mpmath.mpf(Fraction(rho).numerator) * Fraction(rho).denominator
        mp_pi = []
        for n in range(t.n_nodes):
            s_ = t.actions(n)
            w = [
                mpmath.exp(inv * (mpmath.mpf(q[e].numerator) / q[e].denominator))
                for e in range(s_.start, s_.stop)
            ]
            mp_pi += [x / mpmath.fsum(w) for x in w]
        reach = [mpmath.mpf(0)] * t.n_nodes
        reach[0] = mpmath.mpf(1)
        for n in range(t.n_nodes):
            for e in range(t.actions(n).start, t.actions(n).stop):
                reach[int(t.child[e])] += reach[n] * mp_pi[e]
        R = mpmath.mpf(max(t.exact_reward()).numerator) / max(t.exact_reward()).denominator
        gap = mpmath.mpf(0)
        for n in sb.key_states:
            s_ = t.actions(n)
            pos = [
                mpmath.exp(inv * mpmath.mpf(q[e].numerator) / q[e].denominator)
                for e in range(s_.start, s_.stop)
                if q[e] > 0
            ]
            N = (s_.stop - s_.start) - len(pos)
            gap += reach[n] * (N / (N + max(pos)) - N / (N + mpmath.fsum(pos)))
        assert abs(sb.slack - R * gap) <= EPS


@settings(max_examples=25, deadline=None)
@given(t=strategies.dags(max_depth=3, solvable=True))
def test_theorem_32_on_dags(t):
    assert exact.softmax_bound_mp(t, Fraction(1, 3), dps=50).slack >= -EPS


def test_theorem_32_tends_to_optimal_as_rho_vanishes():
    t = rover.random_tree(2, depth=4, p_success=0.1, min_solutions=1)
    b = [rover.softmax_lower_bound(t, r) for r in (1.0, 0.1, 0.01)]
    assert b == sorted(b) and b[-1] == pytest.approx(t.R, abs=1e-9)


def test_known_counterexamples_outside_the_class():
    nonbinary = rover.tree_from_spec({"a": {"x": 0, "y": 3}, "b": 2})
    g = exact.greedy_check_exact(nonbinary)
    assert (g.v_star, g.best) == (3, 2) and g.q_uniform[:2] == [Fraction(3, 2), 2]
    stoch = rover.tree_from_spec({"a": {"x": 1, "y": 0}, "b": [("2/3", 1), ("1/3", 0)]})
    g = exact.greedy_check_exact(stoch)
    assert (g.v_star, g.best) == (1, Fraction(2, 3))
    sb = exact.softmax_bound_mp(rover.tree_from_spec({"a": [("1/2", 0), ("1/2", 1)]}), 1)
    assert sb.key_states == () and sb.bound == 1 and sb.value == mpmath.mpf("0.5")
    none = exact.softmax_bound_mp(rover.tree_from_spec({"a": 0, "b": 0}), 1, R=1)
    assert none.bound == 1 and none.value == 0
    with pytest.raises(InvalidArgumentError, match="binary"):
        exact.softmax_bound_mp(nonbinary, 1)


def test_minimize_tree_reaches_a_small_counterexample():
    big = rover.tree_from_spec(
        {"a": {"x": {"p": 0, "q": 3, "r": 0}, "y": 1}, "b": {"x": 2, "y": {"p": 2, "q": 1}}, "c": 0}
    )

    def fails(t: rover.Tree) -> bool:
        return exact.greedy_check_exact(t).every_greedy_suboptimal

    assert fails(big)
    small = minimize_tree(big, fails)
    assert fails(small) and small.n_nodes <= 5 and spec_size(small.to_spec()) < spec_size(big.to_spec())
    with pytest.raises(InvalidArgumentError):
        minimize_tree(rover.paper_toy(), fails)
