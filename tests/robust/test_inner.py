"""Exact inner problems against direct cvxpy / linprog formulations (1e-7), and radius validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit.errors import InvalidArgumentError, InvalidMDPError, MdpkitError
from mdpkit.robust import L1Ball, SL1Ball, worst_case_kl, worst_case_l1, worst_case_linf, worst_case_s_l1
from mdpkit.robust import reference as ref

TOL = 1e-7


@st.composite
def problems(draw, max_S: int = 7):
    S = draw(st.integers(2, max_S))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(S, draw(st.sampled_from([0.3, 1.0, 5.0]))))
    if draw(st.booleans()):  # exact zeros in the nominal distribution
        p[rng.integers(S)] = 0.0
        p /= p.sum()
    v = rng.normal(size=S) * draw(st.sampled_from([1.0, 10.0]))
    if draw(st.booleans()):  # ties in v
        v[rng.integers(S)] = v[rng.integers(S)]
    return p, v


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


@settings(max_examples=25, deadline=None)
@given(problems(), st.floats(0.0, 2.0))
def test_l1_matches_cvxpy_and_linprog(pv, radius):
    p, v = pv
    val, q = worst_case_l1(p, v, radius)
    assert abs(val - _quiet(ref.cvxpy_l1, p, v, radius)) <= TOL * (1 + np.abs(v).max())
    assert abs(val - ref.linprog_l1(p, v, radius)) <= TOL * (1 + np.abs(v).max())
    # the returned q is feasible and attains the value
    assert q.min() >= 0 and abs(q.sum() - 1) <= 1e-12
    assert np.abs(q - p).sum() <= radius + 1e-12
    assert abs(q @ v - val) <= 1e-12 * (1 + np.abs(v).max())


@settings(max_examples=25, deadline=None)
@given(problems(), st.floats(0.0, 1.0))
def test_linf_matches_cvxpy(pv, radius):
    p, v = pv
    val, q = worst_case_linf(p, v, radius)
    assert abs(val - _quiet(ref.cvxpy_linf, p, v, radius)) <= TOL * (1 + np.abs(v).max())
    assert q.min() >= 0 and abs(q.sum() - 1) <= 1e-12 and np.abs(q - p).max() <= radius + 1e-12


@settings(max_examples=25, deadline=None)
@given(problems(), st.floats(1e-3, 3.0))
def test_kl_matches_cvxpy(pv, delta):
    # delta >= 1e-3: at delta -> 0 the value moves like sqrt(delta), so the reference's 1e-11 feasibility
    # slack alone shifts it by ~1e-6 (delta = 0 is checked exactly in test_l1_edge_cases)
    p, v = pv
    val, q = worst_case_kl(p, v, delta)
    assert abs(val - _quiet(ref.cvxpy_kl, p, v, delta)) <= TOL * (1 + np.abs(v).max())
    sup = q > 0
    assert np.all(p[sup] > 0)
    kl = float(np.sum(q[sup] * np.log(q[sup] / p[sup])))
    assert kl <= delta + 1e-12 and abs(q.sum() - 1) <= 1e-12
    assert abs(q @ v - val) <= 1e-12 * (1 + np.abs(v).max())


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 5), st.integers(1, 4), st.floats(0.0, 1.0), st.booleans())
def test_s_l1_matches_cvxpy_minmax_and_policy(seed, S, A, frac, infeasible):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(S, 0.5), size=A)
    r = rng.normal(size=A)
    if infeasible and A > 1:
        r[rng.integers(A)] = -np.inf
    v = rng.normal(size=S) * 3
    gamma, kappa = 0.9, frac * 2 * A
    val, d, Q = worst_case_s_l1(P, r, v, gamma, kappa)
    scale = 1 + np.abs(v).max() + np.abs(r[np.isfinite(r)]).max()
    assert abs(val - _quiet(ref.cvxpy_s_l1, P, r, v, gamma, kappa)) <= TOL * scale
    # the randomised action attains the value against its best response (a saddle point)
    assert abs(val - _quiet(ref.cvxpy_s_l1_policy, P, r, v, gamma, kappa, d)) <= TOL * scale
    assert abs(d.sum() - 1) <= 1e-12 and d.min() >= 0 and np.all(d[~np.isfinite(r)] == 0)
    assert np.abs(Q - P).sum() <= kappa + 1e-9 and Q.min() >= 0


def test_l1_edge_cases():
    p, v = np.array([0.2, 0.3, 0.5]), np.array([3.0, -1.0, 2.0])
    assert worst_case_l1(p, v, 0.0)[0] == pytest.approx(p @ v, abs=1e-15)
    assert worst_case_l1(p, v, 2.0)[0] == pytest.approx(-1.0, abs=1e-15)  # whole simplex
    val, q = worst_case_l1(p, v, 0.4)  # 0.2 moved from v=3 onto v=-1
    assert np.allclose(q, [0.0, 0.5, 0.5]) and val == pytest.approx(-0.5 + 1.0)
    assert worst_case_kl(p, v, 50.0)[0] == pytest.approx(-1.0)  # delta >= -log p(argmin)
    val, q = worst_case_kl(p, v, 0.0)
    assert np.array_equal(q, p) and val == pytest.approx(p @ v, abs=1e-15)


@pytest.mark.parametrize("bad", [-0.1, np.nan, np.inf, 2.5, "x"])
def test_bad_l1_radius_rejected(bad):
    with pytest.raises(InvalidArgumentError, match="radius"):
        worst_case_l1([0.5, 0.5], [0.0, 1.0], bad)


def test_bad_radii_named_by_index():
    P = np.full((2, 2, 2), 0.5)
    with pytest.raises(InvalidArgumentError, match=r"radius\[1, 0\] = -0.5"):
        L1Ball(P, [[0.1, 0.1], [-0.5, 0.1]])
    with pytest.raises(InvalidArgumentError, match=r"\[0, 1\]"):
        worst_case_linf([0.5, 0.5], [0.0, 1.0], 1.5)
    with pytest.raises(InvalidArgumentError, match="4"):
        SL1Ball(P, 4.5)  # budget above 2A = 4
    with pytest.raises(InvalidArgumentError):
        worst_case_kl([0.5, 0.5], [0.0, 1.0], -1e-3)
    with pytest.raises(InvalidArgumentError, match="broadcast"):
        L1Ball(P, np.zeros(3))


def test_bad_distributions_rejected():
    with pytest.raises(InvalidMDPError):
        worst_case_l1([0.5, 0.6], [0.0, 1.0], 0.1)
    with pytest.raises(MdpkitError):
        worst_case_l1([0.5, 0.5], [0.0, np.nan], 0.1)
    with pytest.raises(InvalidArgumentError, match="infeasible"):
        worst_case_s_l1(np.full((2, 2), 0.5), [-np.inf, -np.inf], [0.0, 1.0], 0.9, 1.0)
