"""Ground truth and the span family."""

from __future__ import annotations

import numpy as np
import pytest

import mdpkit
from mdpkit.average.instances import SPAN_FAMILY_P, ground_truth, slow_chain, span_family
from mdpkit.errors import InvalidArgumentError


def test_ground_truth_solves_the_optimality_equation():
    mdp = mdpkit.envs.riverswim(6)
    gt = ground_truth(mdp, tol=1e-12)
    Q = mdp.R + np.einsum("sat,t->sa", mdp.dense_P(), gt.h)
    np.testing.assert_allclose(Q.max(axis=1), gt.rho + gt.h, atol=1e-9)
    assert gt.span == pytest.approx(gt.h.max() - gt.h.min()) and gt.h.min() == 0.0
    g, _ = mdpkit.policy_gain(mdp, gt.policy)
    np.testing.assert_allclose(g, gt.rho, atol=1e-9)


def test_slow_chain_is_communicating_and_its_span_grows_as_p_falls():
    fam = span_family(5)
    assert [p for p, _, _ in fam] == list(SPAN_FAMILY_P)
    spans = [g.span for _, _, g in fam]
    assert all(a < b for a, b in zip(spans, spans[1:], strict=False))
    assert spans[-1] / spans[0] > 5
    for _, mdp, g in fam:
        assert mdpkit.is_communicating(mdp) and (mdp.S, mdp.A) == (5, 2)
        np.testing.assert_array_equal(g.policy, np.ones(5, dtype=int))  # climbing is optimal


def test_slow_chain_exact_two_state_case():
    # S = 2: top pays 1, stays w.p. q; bottom climbs w.p. p.
    # Stationary mass on the top: (1/(1-q)) / (1/(1-q) + 1/p)
    p, q = 0.25, 0.9
    gt = ground_truth(slow_chain(2, p, r_rest=0.0, p_stay_end=q), tol=1e-13)
    assert gt.rho == pytest.approx(10 / (10 + 4), abs=1e-10)
    assert gt.span == pytest.approx(gt.rho / p, abs=1e-8)  # h(1) - h(0) = rho * E[time to climb]


def test_slow_chain_rejects_p_zero():
    with pytest.raises(InvalidArgumentError, match="p = 0.0"):
        slow_chain(4, 0.0)


def test_package_exports_resolve():
    import mdpkit.average as avg

    for name in avg.__all__:
        assert getattr(avg, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        avg.nope  # noqa: B018
