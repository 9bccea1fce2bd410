"""Front metrics: Pareto filter, exact hypervolume (vs moocore/pymoo, brute force), crowding, EU, sparsity."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdpkit.errors import InvalidArgumentError
from mdpkit.morl import (
    crowding_distance,
    expected_utility,
    hypervolume,
    hypervolume_2d_polyline,
    pareto_filter,
    pareto_mask,
    simplex_grid,
    sparsity,
)


def _brute_pareto(P: np.ndarray) -> np.ndarray:
    keep = []
    for i, p in enumerate(P):
        dom = any(np.all(q >= p) and np.any(q > p) for q in P)
        dup = any(np.array_equal(P[j], p) for j in range(i))
        keep.append(not dom and not dup)
    return np.array(keep)


def _grid_hv(P: np.ndarray, ref: np.ndarray) -> float:
    """Exact HV by the inclusion of grid cells spanned by the coordinates (independent algorithm)."""
    k = P.shape[1]
    axes = [np.unique(np.concatenate([[ref[j]], P[:, j][P[:, j] > ref[j]]])) for j in range(k)]
    vol = 0.0
    for cell in itertools.product(*[range(len(a) - 1) for a in axes]):
        hi = np.array([axes[j][c + 1] for j, c in enumerate(cell)])
        lo = np.array([axes[j][c] for j, c in enumerate(cell)])
        if np.any(np.all(P >= hi, axis=1)):
            vol += float(np.prod(hi - lo))
    return vol


@given(st.integers(0, 10_000), st.integers(1, 30), st.integers(2, 4))
def test_pareto_mask_matches_brute_force(seed: int, n: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    P = rng.integers(0, 4, size=(n, k)).astype(float)  # many ties and duplicates
    np.testing.assert_array_equal(pareto_mask(P), _brute_pareto(P))
    F = pareto_filter(P)
    for p in P:  # every point is weakly dominated by the filtered front
        assert np.any(np.all(F >= p, axis=1))


@given(st.integers(0, 10_000), st.integers(1, 9), st.integers(2, 4))
def test_hypervolume_matches_grid_decomposition(seed: int, n: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    P = rng.integers(-2, 5, size=(n, k)).astype(float)
    ref = np.full(k, -1.0)
    assert hypervolume(P, ref) == pytest.approx(_grid_hv(P, ref), rel=1e-12, abs=1e-12)


def test_hypervolume_simple_cases() -> None:
    assert hypervolume([[1.0, 1.0]], [0.0, 0.0]) == 1.0
    assert hypervolume([[2.0, 1.0], [1.0, 2.0]], [0.0, 0.0]) == 3.0
    assert hypervolume([[1.0, 1.0, 1.0], [2.0, 0.5, 0.5]], [0.0, 0.0, 0.0]) == pytest.approx(1.25)
    assert hypervolume([[-1.0, 5.0]], [0.0, 0.0]) == 0.0  # not above ref in objective 0
    assert hypervolume(np.zeros((0, 3)), np.zeros(3)) == 0.0
    with pytest.raises(InvalidArgumentError, match="ref has 2 entries"):
        hypervolume([[1.0, 1.0, 1.0]], [0.0, 0.0])
    with pytest.raises(InvalidArgumentError, match="NaN"):
        hypervolume([[np.nan, 1.0]], [0.0, 0.0])


def _random_front(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    X = np.abs(rng.standard_normal((n, k)))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.mark.parametrize(("k", "n"), [(2, 200), (3, 150), (4, 60), (5, 40), (6, 25), (8, 14), (9, 10)])
def test_hypervolume_vs_moocore(k: int, n: int) -> None:
    moocore = pytest.importorskip("moocore")
    rng = np.random.default_rng(100 * k + n)
    for _ in range(3):
        X = _random_front(rng, n, k)
        ref = -0.1 * rng.random(k)
        ours = hypervolume(X, ref)
        theirs = float(moocore.hypervolume(-X, ref=-ref))  # moocore minimises
        assert abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs))


@pytest.mark.parametrize("k", [3, 5])
def test_hypervolume_vs_pymoo(k: int) -> None:
    pytest.importorskip("pymoo")
    from pymoo.indicators.hv import HV

    rng = np.random.default_rng(k)
    X = _random_front(rng, 30, k)
    ref = np.zeros(k)
    theirs = float(HV(ref_point=-ref)(-X))
    assert abs(hypervolume(X, ref) - theirs) <= 1e-9 * max(1.0, theirs)


def test_polyline_hypervolume() -> None:
    # segment from (0, 2) to (2, 0): triangle + square area under it, ref (0, 0) -> area 2
    assert hypervolume_2d_polyline([[0.0, 2.0], [2.0, 0.0]], [0.0, 0.0]) == pytest.approx(2.0)
    # the polyline dominates its vertices' staircase
    V = np.array([[0.0, 3.0], [1.0, 2.5], [3.0, 0.5]])
    assert hypervolume_2d_polyline(V, [-1.0, -1.0]) >= hypervolume(V, [-1.0, -1.0])
    # clipping at the reference point: ref above part of the segment
    assert hypervolume_2d_polyline([[0.0, 2.0], [2.0, 0.0]], [0.0, 1.0]) == pytest.approx(0.5)
    assert hypervolume_2d_polyline([[0.0, 2.0], [2.0, 0.0]], [1.0, 0.0]) == pytest.approx(0.5)


def test_crowding_distance() -> None:
    P = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])
    d = crowding_distance(P)
    assert np.isinf(d[0]) and np.isinf(d[3])
    # point 1: neighbours (0,4),(3,1): (3-0)/4 + (4-1)/4 = 1.5 ; point 2: (4-1)/4 + (3-0)/4 = 1.5
    np.testing.assert_allclose(d[1:3], [1.5, 1.5])
    assert np.all(np.isinf(crowding_distance(P[:2])))


def test_simplex_grid_and_expected_utility() -> None:
    W = simplex_grid(3, 4)
    assert W.shape == (15, 3)
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    P = np.array([[1.0, 0.0], [0.0, 1.0]])
    W2 = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    assert expected_utility(P, W2) == pytest.approx((1.0 + 0.5 + 1.0) / 3)
    # default grid of about 100 weights, EU monotone under adding points
    assert expected_utility(np.vstack([P, [[0.6, 0.6]]])) >= expected_utility(P)
    with pytest.raises(InvalidArgumentError):
        expected_utility(np.zeros((0, 2)))


def test_sparsity() -> None:
    assert sparsity([[1.0, 2.0]]) == 0.0
    P = np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])
    # sorted diffs per objective: (1, 1) and (1, 1) -> sum of squares 4, / (3 - 1)
    assert sparsity(P) == pytest.approx(2.0)


def test_hypervolume_convex() -> None:
    from mdpkit.morl import hypervolume_convex

    rng = np.random.default_rng(3)
    # k = 2: equals the polyline formula on concave fronts (points on a circle)
    ang = np.sort(rng.random(7)) * np.pi / 2
    V = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    assert hypervolume_convex(V, [0.0, 0.0]) == pytest.approx(
        hypervolume_2d_polyline(V, [0.0, 0.0]), rel=1e-12
    )
    # a single point: its box
    assert hypervolume_convex([[1.0, 2.0, 3.0]], [0.0, 0.0, 0.0]) == pytest.approx(6.0)
    # k = 3: at least the HV of any set of convex combinations, and approached by dense ones
    V = np.abs(rng.standard_normal((5, 3))) + 0.1
    hv = hypervolume_convex(V, np.zeros(3))
    # the Pareto faces of conv(V) are triangles of vertices: a barycentric grid on every triple
    hv_mix = []
    for H in (4, 10):
        B = simplex_grid(3, H)
        mixes = np.vstack([B @ V[list(t)] for t in itertools.combinations(range(5), 3)])
        hv_mix.append(hypervolume(mixes, np.zeros(3)))
    assert hv_mix[0] < hv_mix[1] <= hv + 1e-12  # converges from below (staircase error O(1/H))
    assert hv_mix[1] >= 0.95 * hv
    with pytest.raises(InvalidArgumentError, match="below ref"):
        hypervolume_convex([[1.0, -1.0]], [0.0, 0.0])
