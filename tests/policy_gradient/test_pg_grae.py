"""Group-relative advantages: conventions, zero-std groups, exactness, and the exact moment tables."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdpkit.errors import InvalidArgumentError
from mdpkit.policy_gradient import GroupAdvantage, GroupMomentTable, NotExactError
from mdpkit.policy_gradient.grae import check_exact_possible


def test_conventions_by_hand():
    r = [0.0, 1.0, 1.0, 2.0]
    s = math.sqrt(0.5)  # population std
    np.testing.assert_allclose(GroupAdvantage(4).advantages(r), [-1 / s, 0, 0, 1 / s])
    su = math.sqrt(2 / 3)  # ddof 1
    np.testing.assert_allclose(GroupAdvantage(4, scale="std_unbiased").advantages(r), [-1 / su, 0, 0, 1 / su])
    np.testing.assert_allclose(GroupAdvantage(4, scale="none").advantages(r), [-1, 0, 0, 1])
    np.testing.assert_allclose(
        GroupAdvantage(4, baseline="loo", scale="none").advantages(r), [-4 / 3, 0, 0, 4 / 3]
    )
    np.testing.assert_allclose(
        GroupAdvantage(4, eps=0.5).advantages(r), [-1 / (s + 0.5), 0, 0, 1 / (s + 0.5)]
    )


def test_zero_std_groups_give_zero_even_for_inexact_floats():
    # 0.1 is not representable: a rounded std would be ~1e-17 and the ratio garbage
    assert GroupAdvantage(3).advantages([0.1, 0.1, 0.1]) == [0.0, 0.0, 0.0]
    assert GroupAdvantage(3, baseline="loo").advantages([F(1, 3)] * 3) == [F(0)] * 3


def test_group_of_two_is_an_exact_sign():
    assert GroupAdvantage(2).advantages([F(3), F(7, 2)]) == [F(-1), F(1)]
    assert GroupAdvantage(2).advantages([F(3), F(3)]) == [F(0), F(0)]


def test_irrational_std_raises_not_exact():
    with pytest.raises(NotExactError):
        GroupAdvantage(3).advantages([F(0), F(1), F(3)])
    assert not check_exact_possible(GroupAdvantage(3), [0, 1, 3])
    assert check_exact_possible(GroupAdvantage(3, scale="none"), [0, 1, 3])


@pytest.mark.parametrize("kwargs", [{"G": 1}, {"baseline": "median"}, {"scale": "mad"}, {"eps": -1.0}])
def test_invalid_conventions(kwargs):
    with pytest.raises(InvalidArgumentError):
        GroupAdvantage(**kwargs)


def test_wrong_group_size():
    with pytest.raises(InvalidArgumentError, match="expected G = 4"):
        GroupAdvantage(4).advantages([1.0, 2.0])


def _brute_force(spec: GroupAdvantage, support, probs):
    """Moments by summing over *ordered* tuples of the other members (independent of the multiset code)."""
    K = len(support)
    out = np.zeros((3, K))
    for j, x in enumerate(support):
        for tup in itertools.product(range(K), repeat=spec.G - 1):
            w = math.prod(probs[k] for k in tup)
            a = spec.advantages([x, *(support[k] for k in tup)])[0]
            out[:, j] += w * np.array([a, max(a, 0.0), max(-a, 0.0)])
    return out


@given(
    st.integers(1, 3),
    st.integers(2, 4),
    st.sampled_from(["mean", "loo"]),
    st.sampled_from(["std", "std_unbiased", "none"]),
    st.integers(0, 10_000),
)
def test_moment_table_matches_brute_force(K, G, baseline, scale, seed):
    rng = np.random.default_rng(seed)
    support = sorted(rng.choice(np.arange(10), size=K, replace=False).astype(float))
    probs = rng.dirichlet(np.ones(K))
    spec = GroupAdvantage(G, baseline, scale)
    got = np.array(GroupMomentTable(spec, tuple(support)).moments(list(probs)))
    np.testing.assert_allclose(got, _brute_force(spec, support, probs), atol=1e-12)
    # exchangeability: a group's advantages sum to 0, so E[A_1] = sum_x p(x) m(x) = 0
    assert abs(float(np.dot(probs, got[0]))) < 1e-12


def test_exact_table_is_rational_and_matches_floats():
    support = (F(0), F(1), F(5))
    probs = [F(1, 2), F(1, 3), F(1, 6)]
    for spec in (GroupAdvantage(2), GroupAdvantage(4, scale="none"), GroupAdvantage(3, "loo", "none")):
        m, mp, mn = GroupMomentTable(spec, support).moments(probs)
        assert all(isinstance(x, F) for x in (*m, *mp, *mn))
        assert sum(p * x for p, x in zip(probs, m, strict=True)) == 0
        assert all(mp[j] - mn[j] == m[j] for j in range(3))
        fl = GroupMomentTable(spec, tuple(float(v) for v in support)).moments([float(p) for p in probs])
        np.testing.assert_allclose(np.array(fl), np.array([[float(x) for x in row] for row in (m, mp, mn)]))


def test_mean_only_closed_form():
    support = (0.0, 2.0, 3.0)
    probs = [0.2, 0.5, 0.3]
    mu = float(np.dot(support, probs))
    for G in (2, 3, 5):
        m, _, _ = GroupMomentTable(GroupAdvantage(G, scale="none"), support).moments(probs)
        np.testing.assert_allclose(m, (G - 1) / G * (np.array(support) - mu), atol=1e-12)
        m, _, _ = GroupMomentTable(GroupAdvantage(G, "loo", "none"), support).moments(probs)
        np.testing.assert_allclose(m, np.array(support) - mu, atol=1e-12)


def test_exact_table_is_lazy_on_zero_probability_multisets():
    # at a vertex the others are all equal: only rational stds occur even though G - 1 = 4 others
    tab = GroupMomentTable(GroupAdvantage(5), (F(0), F(1), F(10)))
    m, _, _ = tab.moments([F(0), F(1), F(0)])
    assert m[0] == -2 and m[2] == 2  # sqrt(G - 1) * sign(x - 1)


def test_table_guards():
    with pytest.raises(InvalidArgumentError):
        GroupMomentTable(GroupAdvantage(2), ())
    with pytest.raises(InvalidArgumentError):
        GroupMomentTable(GroupAdvantage(2), (1.0, 1.0))
    with pytest.raises(InvalidArgumentError, match="probabilities"):
        GroupMomentTable(GroupAdvantage(2), (0.0, 1.0)).moments([1.0])
