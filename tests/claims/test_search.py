"""Hypothesis search inside checks: finds, shrinks, is reproducible, propagates crashes."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings

from mdpkit.claims import Budget
from mdpkit.claims.exact import RationalMDP, exact_evaluate, exact_performance_difference
from mdpkit.claims.search import rational_instances, rational_mdps, search_counterexample


def _big_value(inst) -> bool:
    mdp, (pi,) = inst
    return mdp.S >= 2 and exact_evaluate(mdp, pi).J >= 2


def test_finds_and_shrinks_a_minimal_violation():
    res = search_counterexample(rational_instances(n_policies=1), _big_value, Budget("quick", 20, 0), key="t")
    assert res.found and res.calls >= 1 and res.max_examples == 20
    mdp, (pi,) = res.example
    assert mdp.S == 2 and mdp.gamma == 0  # shrunk to the smallest size and first gamma the predicate allows
    assert exact_evaluate(mdp, pi).J >= 2
    again = search_counterexample(
        rational_instances(n_policies=1), _big_value, Budget.named("quick"), key="t"
    )
    assert again.seed == res.seed
    assert again.example[0].P.tolist() == mdp.P.tolist() and again.example[0].R.tolist() == mdp.R.tolist()


def test_reports_no_violation_for_an_identity():
    res = search_counterexample(
        rational_instances(n_policies=2),
        lambda inst: (lambda lhs, rhs: lhs != rhs)(*exact_performance_difference(inst[0], *inst[1])),
        Budget("quick", 20, 1),
        key="pdl",
    )
    assert not res.found and res.example is None and 1 <= res.calls <= 20
    assert "found no violation" in res.summary()


def test_seed_and_key_change_the_search():
    a = search_counterexample(rational_mdps(), lambda m: False, Budget("quick", 5, 0), key="a")
    b = search_counterexample(rational_mdps(), lambda m: False, Budget("quick", 5, 1), key="a")
    c = search_counterexample(rational_mdps(), lambda m: False, Budget("quick", 5, 0), key="b")
    assert len({a.seed, b.seed, c.seed}) == 3


def test_exceptions_in_the_predicate_propagate():
    def boom(mdp):
        raise ZeroDivisionError("bug in the check")

    with pytest.raises(ZeroDivisionError, match="bug in the check"):
        search_counterexample(rational_mdps(), boom, Budget("quick", 5, 0))


@settings(max_examples=25, deadline=None)
@given(rational_mdps(max_S=4, max_A=3, gammas=("0", "1/2", "99/100")))
def test_rational_mdps_are_valid(mdp):
    assert isinstance(mdp, RationalMDP) and 1 <= mdp.S <= 4 and 1 <= mdp.A <= 3
    assert mdp.gamma in (0, F(1, 2), F(99, 100))
    for s in range(mdp.S):
        for a in range(mdp.A):
            assert sum(mdp.P[s, a]) == 1
    assert sum(mdp.initial) == 1
