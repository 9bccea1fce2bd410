"""Exact rational certificates: evaluation, occupancy, PDL, exact PI, rationalisation, JSON form."""

from __future__ import annotations

import json
from fractions import Fraction as F

import numpy as np
import pytest

import mdpkit
from mdpkit.claims.exact import (
    RationalMDP,
    as_fraction,
    certify,
    counterexample_dict,
    exact_evaluate,
    exact_occupancy,
    exact_optimal,
    exact_performance_difference,
    fraction_str,
    mdp_from_counterexample,
    rational_distribution,
    rational_policy,
    rationalize,
    solve_exact,
)
from mdpkit.claims.instances import dyadic_mdp, random_mdp, random_policy
from mdpkit.errors import InvalidArgumentError, InvalidMDPError, InvalidPolicyError


@pytest.fixture
def two_state() -> RationalMDP:
    """Action 0: P = [[1/2, 1/2], [1/4, 3/4]], r = [1, 2]; action 1 in state 0 jumps to state 1 with r = 0."""
    P = [[[F(1, 2), F(1, 2)], [0, 1]], [[F(1, 4), F(3, 4)], [F(1, 4), F(3, 4)]]]
    R = [[1, 0], [2, "-inf"]]
    return RationalMDP(P, R, "9/10", mask=[[True, True], [True, False]])


def test_hand_computed_two_state_example(two_state):
    # V = r + 0.9 P V  <=>  11 V0 - 9 V1 = 20 and -9 V0 + 13 V1 = 80  =>  V = (490/31, 530/31)
    ev = exact_evaluate(two_state, [0, 0])
    assert list(ev.V) == [F(490, 31), F(530, 31)]
    assert ev.J == F(510, 31)  # uniform initial distribution
    assert ev.Q[0, 1] == F(9, 10) * F(530, 31) == F(477, 31)
    assert ev.advantage[0, 1] == F(-13, 31) and ev.advantage[0, 0] == 0
    assert ev.Q[1, 1] is None and ev.advantage[1, 1] is None  # infeasible pair
    # d = (1 - gamma) mu^T (I - gamma P)^{-1}: solve 11 x0 - 9 x1/... exactly and check the balance equation
    d = exact_occupancy(two_state, [0, 0])
    assert sum(d.ravel()) == 1
    ds = d.sum(axis=1)
    P0 = np.array([[F(1, 2), F(1, 2)], [F(1, 4), F(3, 4)]], dtype=object)
    for t in range(2):  # d = (1-gamma) mu + gamma P^T d
        assert ds[t] == F(1, 10) * F(1, 2) + F(9, 10) * sum(ds[s] * P0[s, t] for s in range(2))
    opt = exact_optimal(two_state)
    assert list(opt.policy) == [0, 0] and list(opt.V) == [F(490, 31), F(530, 31)]


def test_exact_evaluation_equals_float_evaluation():
    rng = np.random.default_rng(0)
    for i in range(12):
        S, A = int(rng.integers(1, 7)), int(rng.integers(1, 4))
        gamma = (0.0, 0.5, 0.9, 0.99)[i % 4]
        mdp = random_mdp(
            rng, S, A, gamma, infeasible=bool(i % 2), random_initial=True, sparse=bool(i % 3 == 0)
        )
        pi = random_policy(rng, mdp, deterministic=bool(i % 2))
        ev = exact_evaluate(rationalize(mdp, None), pi)
        ref = mdpkit.evaluate(mdp, pi)
        np.testing.assert_allclose(
            [float(v) for v in ev.V], ref.V, rtol=0, atol=1e-12 * (1 + np.abs(ref.V).max())
        )
        assert abs(float(ev.J) - ref.J) <= 1e-12 * (1 + abs(ref.J))
        occ = exact_occupancy(rationalize(mdp, None), pi)
        np.testing.assert_allclose(occ.astype(float), mdpkit.occupancy(mdp, pi), rtol=0, atol=1e-12)
        assert sum(occ.ravel()) == 1


def test_exact_solution_is_optimal_and_matches_solvers():
    rng = np.random.default_rng(1)
    for i in range(6):
        mdp = dyadic_mdp(rng, 5, 3, 0.9, infeasible=bool(i % 2))
        rm = rationalize(mdp, None)
        opt = exact_optimal(rm)
        for s, a in np.ndindex(rm.S, rm.A):
            if rm.mask[s, a]:
                assert opt.Q[s, a] <= opt.V[s]
        np.testing.assert_allclose(opt.V.astype(float), mdpkit.solve(mdp, "pi").V, rtol=0, atol=1e-12)


def test_performance_difference_is_exact(two_state):
    lhs, rhs = exact_performance_difference(two_state, [[F(1, 3), F(2, 3)], [1, 0]], [1, 0])
    assert lhs == rhs and isinstance(lhs, F)


def test_solve_exact_matrix_rhs_and_singular():
    X = solve_exact([[2, 1], [1, 3]], [[1, 0], [0, 1]])
    assert X.tolist() == [[F(3, 5), F(-1, 5)], [F(-1, 5), F(2, 5)]]
    with pytest.raises(InvalidArgumentError, match="no pivot in column 1"):
        solve_exact([[1, 2], [2, 4]], [1, 1])


def test_rationalize_gives_nice_rows_summing_to_one():
    rng = np.random.default_rng(2)
    mdp = random_mdp(rng, 4, 2, 0.9, infeasible=True, random_initial=True)
    rm = rationalize(mdp, 10)
    for s, a in np.ndindex(4, 2):
        assert sum(rm.P[s, a]) == 1
        assert all(v.denominator <= 10 for v in rm.P[s, a]) or not rm.mask[s, a]
    assert sum(rm.initial) == 1 and rm.gamma == F(9, 10)
    assert (rm.mask == mdp.mask).all()
    back = rm.to_tabular()
    assert np.abs(back.dense_P() - mdp.dense_P()).max() <= 0.2
    with pytest.raises(InvalidMDPError, match="gamma"):
        rationalize(mdp.with_gamma(0.99), 1)  # 0.99 rounds to 1


def test_rational_distribution_repairs_rounding_and_rejects_negatives():
    q = rational_distribution([1 / 3, 1 / 3, 1 / 3], 10)
    assert sum(q) == 1 and all(v.denominator <= 10 for v in q)
    assert list(rational_distribution([0.5, 0.25, 0.25])) == [F(1, 2), F(1, 4), F(1, 4)]
    with pytest.raises(InvalidMDPError, match=r"p\[1\] = -0.1 is negative"):
        rational_distribution([1.1, -0.1])


def test_rational_mdp_validation_names_the_offender():
    with pytest.raises(InvalidMDPError, match=r"P\[0, 0, :\] sums to 9/10"):
        RationalMDP([[["1/2", "2/5"]], [[0, 1]]], [[0], [0]], "1/2")
    with pytest.raises(InvalidMDPError, match="gamma = 1"):
        RationalMDP([[[1]]], [[0]], 1)
    with pytest.raises(InvalidMDPError, match="no feasible action"):
        RationalMDP([[[1]]], [["-inf"]], 0)
    with pytest.raises(InvalidPolicyError, match="infeasible action 1 in state 0"):
        rational_policy([[F(1, 2), F(1, 2)]], 1, 2, mask=np.array([[True, False]]))
    with pytest.raises(InvalidPolicyError, match=r"policy\[0\] = 5"):
        rational_policy([5], 1, 2)


def test_as_fraction_and_fraction_str():
    assert as_fraction("3/4") == F(3, 4) and as_fraction(0.1) == F(0.1)
    assert as_fraction(0.1, 100) == F(1, 10) and as_fraction(np.int64(3)) == 3
    with pytest.raises(InvalidArgumentError):
        as_fraction(float("nan"))
    assert fraction_str(0.1) == "1/10" and fraction_str(1 / 3) == "1/3" and fraction_str(2.0) == "2"
    assert fraction_str(0.123456789123) == "0.123456789123"
    assert fraction_str(float("-inf")) == "-inf" and fraction_str(F(-2, 6)) == "-1/3"


def test_counterexample_dict_round_trip(two_state):
    d = counterexample_dict(two_state, policy=np.array([0, 0]), gap=F(-13, 31))
    json.dumps(d)
    assert d["gamma"] == "9/10" and d["P"][0][0] == ["1/2", "1/2"] and d["R"][1][1] == "-inf"
    assert d["mask"] == [[True, True], [True, False]] and d["exact"] is True
    assert d["policy"] == [0, 0] and d["gap"] == "-13/31"
    back = mdp_from_counterexample(json.loads(json.dumps(d)))
    assert back.P.tolist() == two_state.P.tolist() and back.R.tolist() == two_state.R.tolist()
    assert back.gamma == two_state.gamma and back.mask.tolist() == two_state.mask.tolist()
    assert exact_evaluate(back, [0, 0]).J == F(510, 31)
    float_model = counterexample_dict(two_state.to_tabular())
    assert float_model["exact"] is False and float_model["P"] == d["P"]
    with pytest.raises(InvalidArgumentError, match="clashes"):
        counterexample_dict(two_state, P=1)


def test_certify_finds_the_nicest_violating_model():
    # policy "stay" (action 0) beats "move" (action 1) by a margin of about 0.1 per step;
    # the claim "J(move) >= J(stay)" is false on every rationalisation
    P = np.array([[[0.7, 0.3], [0.3, 0.7]], [[0.3, 0.7], [0.7, 0.3]]])
    R = np.array([[1.01, 0.0], [0.0, 0.98]])
    mdp = mdpkit.TabularMDP(P, R, 0.9, initial=np.array([0.6, 0.4]))

    def margin(model: RationalMDP, d: int | None):
        return exact_evaluate(model, [1, 1]).J - exact_evaluate(model, [0, 0]).J

    cert = certify(margin, mdp)
    assert cert.violated and cert.margin < 0
    assert cert.max_denominator is not None and cert.max_denominator <= 10
    d = cert.as_dict()
    assert d["violated"] is True and d["exact"] is True
    assert F(d["margin"]) == margin(mdp_from_counterexample(d), None)

    never = certify(lambda model, d: F(0), mdp, max_denominators=(2, None))
    assert not never.violated and never.max_denominator is None and len(never.tried) == 2
