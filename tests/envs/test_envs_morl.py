"""Multi-objective benchmark models: published fronts and structure."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit.envs.morl_envs import (
    DST_PARETO_FRONT,
    deep_sea_treasure,
    fruit_tree,
    random_momdp,
    resource_gathering,
)
from mdpkit.errors import InvalidArgumentError
from mdpkit.morl import convex_coverage_set, dominance_margin, evaluate_vector, pareto_filter


def _dst_path_returns(m) -> np.ndarray:
    """(treasure, -steps) of the shortest path to each treasure, by BFS on the model's deterministic P.

    A deterministic policy in this deterministic model follows one path, so its return is
    (treasure reached, -path length); the deterministic Pareto front is the filter of these."""
    start = int(np.flatnonzero(m.initial)[0])
    dist = {start: 0}
    frontier = [start]
    found: dict[float, int] = {}
    while frontier:
        nxt = []
        for s in frontier:
            for a in range(m.A):
                t = int(np.argmax(m.P[s, a]))
                if m.terminal[t]:
                    v = float(m.R[s, a, 0])
                    found[v] = min(found.get(v, 10**9), dist[s] + 1)
                elif t not in dist:
                    dist[t] = dist[s] + 1
                    nxt.append(t)
        frontier = nxt
    return np.array([[v, -d] for v, d in found.items()])


def test_dst_front_is_published_front() -> None:
    m = deep_sea_treasure()
    assert (m.k, m.A, m.gamma) == (2, 4, 1.0)
    front = pareto_filter(_dst_path_returns(m))
    np.testing.assert_allclose(front[np.argsort(front[:, 0])], DST_PARETO_FRONT)
    # every published point is achievable; stochastic mixtures strictly dominate the concave ones
    for v in DST_PARETO_FRONT:
        assert dominance_margin(m, v) >= -1e-9
    assert dominance_margin(m, DST_PARETO_FRONT[0]) == pytest.approx(0.0, abs=1e-9)
    assert dominance_margin(m, DST_PARETO_FRONT[5]) > 0
    assert dominance_margin(m, DST_PARETO_FRONT[-1] + 0.5) < 0
    ccs = convex_coverage_set(m)
    np.testing.assert_allclose(ccs.values[np.argsort(ccs.values[:, 0])], [[1.0, -1.0], [124.0, -19.0]])
    for v, pi in zip(ccs.values, ccs.policies, strict=True):
        np.testing.assert_allclose(evaluate_vector(m, pi).J, v, atol=1e-9)


def test_dst_convex_variant_ccs() -> None:
    m = deep_sea_treasure(convex=True)
    ccs = convex_coverage_set(m)
    front = pareto_filter(_dst_path_returns(m))
    assert len(front) == 10
    # Yang et al.'s values: 9 hull vertices; (20.3, -14) lies exactly on the segment from (19.6, -13) to
    # (22.4, -17) (both slopes -1/0.7), so a minimal CCS omits it
    assert len(ccs) == 9
    assert not np.any(np.all(np.abs(ccs.values - [20.3, -14.0]) < 1e-9, axis=1))
    W = np.stack([np.linspace(0, 1, 101), 1 - np.linspace(0, 1, 101)], axis=1)
    assert np.all(np.max(W @ ccs.values.T, axis=1) >= np.max(W @ front.T, axis=1) - 1e-9)


@pytest.mark.parametrize("depth", [5, 6, 7])
def test_fruit_tree_structure(depth: int) -> None:
    m = fruit_tree(depth)
    assert (m.S, m.A, m.k) == (2**depth, 2, 6)
    # the all-left policy reaches leaf 0, the all-right policy the last leaf
    left = np.zeros(m.S, dtype=int)
    right = np.ones(m.S, dtype=int)
    from mdpkit.envs.morl_envs import _FRUITS

    np.testing.assert_allclose(evaluate_vector(m, left).J, _FRUITS[depth][0])
    np.testing.assert_allclose(evaluate_vector(m, right).J, _FRUITS[depth][-1])
    leaves = np.array(_FRUITS[depth])
    assert len(pareto_filter(leaves)) == 2**depth  # every fruit is Pareto-optimal
    with pytest.raises(InvalidArgumentError):
        fruit_tree(4)


def test_resource_gathering() -> None:
    m = resource_gathering(gamma=0.9)
    assert m.k == 3 and m.A == 4
    ccs = convex_coverage_set(m)
    # the safe route to the gem alone (10 steps, reward on the 10th: discounted by gamma**9) is a CCS point
    assert np.any(np.all(np.abs(ccs.values - [0.0, 0.0, 0.9**9]) < 1e-9, axis=1))
    assert np.all(ccs.values[:, 0] <= 0) and np.all(ccs.values[:, 1:] >= 0)


def test_random_momdp() -> None:
    for k in range(2, 10):
        m = random_momdp(4, 2, k, seed=k)
        assert m.k == k
        np.testing.assert_allclose(m.P.sum(axis=2), 1.0)
    with pytest.raises(InvalidArgumentError):
        random_momdp(4, 2, 10)


def test_dst_hypervolumes() -> None:
    """Reference point (0, -25): the deterministic front's HV is the literature's 1155; the stochastic
    front (segment from (1, -1) to (124, -19)) has 24 * 1 + 123 * (24 + 6) / 2 = 1869."""
    from mdpkit.morl import hypervolume, hypervolume_convex

    ref = [0.0, -25.0]
    assert hypervolume(DST_PARETO_FRONT, ref) == pytest.approx(1155.0, abs=1e-9)
    ccs = convex_coverage_set(deep_sea_treasure())
    assert hypervolume_convex(ccs.values, ref) == pytest.approx(1869.0, abs=1e-9)


def test_deterministic_fronts_of_published_models() -> None:
    from mdpkit.envs.morl_envs import _FRUITS
    from mdpkit.morl import pareto_front

    m = deep_sea_treasure()
    f = pareto_front(m, policies="deterministic")
    np.testing.assert_allclose(f.values[np.argsort(f.values[:, 0])], DST_PARETO_FRONT)
    for v, pi in zip(f.values, f.policies, strict=True):
        np.testing.assert_allclose(evaluate_vector(m, pi).J, v)
    for depth in (5, 6, 7):
        f = pareto_front(fruit_tree(depth), policies="deterministic")
        leaves = np.array(_FRUITS[depth])
        assert len(f) == 2**depth
        key = lambda V: V[np.lexsort(V.T[::-1])]  # noqa: E731
        np.testing.assert_allclose(key(f.values), key(leaves))
