"""Problems: generators follow the paper's distributions, validation names the offending entry, objectives."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit import MdpkitError
from mdpkit import combinatorial as C
from mdpkit.combinatorial import InvalidInstanceError, InvalidSolutionError


@pytest.mark.parametrize(
    ("dist", "match"),
    [
        ([[0, 1], [1, 0], [2, 2]], r"shape \(3, 2\)"),
        (np.zeros((0, 0)), "empty"),
        ([1.0, 2.0], r"shape \(2,\)"),
        ([[0, np.nan], [1, 0]], r"dist\[0, 1\] = nan is not finite"),
        ([[0, 1], [np.inf, 0]], r"dist\[1, 0\] = inf"),
        ([[0, 1, 2], [1, 0, -0.5], [2, 1, 0]], r"dist\[1, 2\] = -0.5 is negative"),
        ([["a", "b"], ["c", "d"]], "not a real matrix"),
    ],
)
def test_solve_tsp_rejects_bad_matrices(dist, match):
    with pytest.raises(InvalidInstanceError, match=match):
        C.solve_tsp(dist)
    assert issubclass(InvalidInstanceError, MdpkitError)


def test_solve_tsp_small_sizes_and_diagonal_ignored():
    assert C.solve_tsp([[5.0]]) == (0.0, [0])
    assert C.solve_tsp([[7.0, 2.0], [3.0, -1.0]]) == (5.0, [0, 1])  # diagonal (even negative) unused
    assert C.solve_tsp([[np.inf, 1, 2], [1, np.nan, 1], [2, 1, np.inf]]) == (4.0, [0, 1, 2])
    assert C.solve_tsp(np.array([[0, 3], [4, 0]], dtype=np.int64)) == (7.0, [0, 1])
    length, tour = C.solve_tsp([[0, 1, 10], [10, 0, 1], [1, 10, 0]])  # asymmetric: 0->1->2->0 = 3
    assert (length, tour) == (3.0, [0, 1, 2])
    with pytest.raises(MdpkitError, match="MAX_HELD_KARP_N"):
        C.solve_tsp(np.ones((C.MAX_HELD_KARP_N + 1,) * 2))


def test_generators_follow_the_paper_distributions():
    t = C.random_tsp(50, 0)
    assert t.coords.shape == (50, 2) and t.symmetric and np.all((0 <= t.coords) & (t.coords <= 1))
    np.testing.assert_allclose(t.dist, C.euclidean_distances(t.coords))
    a = C.random_atsp(12, 1)
    assert not a.symmetric
    d = a.dist
    assert np.all(
        d[:, :, None] <= d[:, None, :].transpose(0, 2, 1) + d[None, :, :].transpose(1, 0, 2) + 1e-12
    )
    assert np.all(np.diag(d) == 0) and np.all(d + np.eye(12) > 0)
    c = C.random_cvrp(20, 2)
    assert c.capacity == 30 and c.demands[0] == 0 and c.demands[1:].min() >= 1 and c.demands.max() <= 9
    assert C.random_cvrp(100, 0).capacity == 50 and C.random_cvrp(5, 0).capacity == 20
    o = C.random_op(20, 3)
    assert o.budget == 2.0 and o.prizes[0] == 0 and np.all((0.01 <= o.prizes[1:]) & (o.prizes[1:] <= 1.0))
    assert o.prizes[1:].max() == 1.0  # the farthest node gets the largest prize
    k = C.random_kp(100, 4)
    assert k.capacity == 25.0 and np.all((k.values > 0) & (k.values < 1))
    ki = C.random_kp(8, 5, integer=10)
    assert ki.capacity == 20.0 and np.all(ki.weights == np.round(ki.weights))
    # reproducible from an int seed or a Generator
    np.testing.assert_array_equal(C.random_tsp(5, 7).coords, C.random_tsp(5, np.random.default_rng(7)).coords)


def test_instance_validation_messages():
    with pytest.raises(InvalidInstanceError, match=r"demands\[2\] = 12.0 must be in \[1, capacity = 10\]"):
        C.CVRPInstance([0, 1, 12], 10, coords=np.zeros((3, 2)))
    with pytest.raises(InvalidInstanceError, match=r"demands\[0\]"):
        C.CVRPInstance([1, 1, 1], 10, coords=np.zeros((3, 2)))
    with pytest.raises(InvalidInstanceError, match=r"demands\[1\] = 1.5 is not an integer"):
        C.CVRPInstance([0, 1.5, 1], 10, coords=np.zeros((3, 2)))
    for cap in (0, 2.5, np.inf, "x", True):
        with pytest.raises(InvalidInstanceError, match="capacity"):
            C.CVRPInstance([0, 1], cap, coords=np.zeros((2, 2)))
    with pytest.raises(InvalidInstanceError, match=r"prizes\[1\] = -1.0 must be >= 0"):
        C.OPInstance([0, -1], 2.0, coords=np.zeros((2, 2)))
    with pytest.raises(InvalidInstanceError, match="budget"):
        C.OPInstance([0, 1], -1.0, coords=np.zeros((2, 2)))
    with pytest.raises(InvalidInstanceError, match=r"weights\[1\] = nan"):
        C.solve_knapsack([1, 2], [1, np.nan], 1)
    with pytest.raises(InvalidInstanceError, match=r"weights has shape \(3,\), expected \(2,\)"):
        C.solve_knapsack([1, 2], [1, 2, 3], 1)
    with pytest.raises(InvalidInstanceError, match="capacity"):
        C.solve_knapsack([1], [1], -2)
    with pytest.raises(InvalidInstanceError, match=r"coords\[1, 0\] = inf"):
        C.TSPInstance(coords=[[0, 0], [np.inf, 0]])


def test_objectives_and_solution_checks():
    d = np.array([[0, 1, 4], [2, 0, 1], [1, 5, 0]], dtype=float)
    assert C.tour_length(d, [0, 1, 2]) == 3.0 and C.tour_length(d, [0, 2, 1]) == 11.0
    with pytest.raises(InvalidSolutionError, match="visits node 1 twice"):
        C.tour_length(d, [0, 1, 1])
    with pytest.raises(InvalidSolutionError, match=r"tour\[2\] = 3 is not a node"):
        C.tour_length(d, [0, 1, 3])
    c = C.CVRPInstance([0, 2, 2, 3], 4, coords=[[0, 0], [1, 0], [0, 1], [-1, 0]])
    assert C.cvrp_cost(c, [[1, 2], [3]]) == pytest.approx(2 + 2**0.5 + 2)
    with pytest.raises(InvalidSolutionError, match="route 0 carries 5 > capacity 4"):
        C.cvrp_cost(c, [[1, 3], [2]])
    with pytest.raises(InvalidSolutionError, match=r"customers \[3\] are not visited"):
        C.cvrp_cost(c, [[1, 2]])
    o = C.OPInstance([0, 0.5, 0.7], 2.5, coords=[[0, 0], [1, 0], [0, 1]])
    assert C.op_prize(o, [1]) == 0.5 and C.op_prize(o, []) == 0.0
    with pytest.raises(InvalidSolutionError, match="exceeds the budget"):
        C.op_prize(o, [1, 2])
    k = C.KPInstance([3, 4, 5], [2, 3, 4], 5)
    assert C.kp_value(k, [0, 1]) == 7.0
    with pytest.raises(InvalidSolutionError, match="> capacity"):
        C.kp_value(k, [1, 2])
