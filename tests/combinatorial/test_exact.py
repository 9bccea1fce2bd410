"""Exact DP on the BQ-MDPs equals brute-force enumeration on every drawn instance with n <= 9."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit import combinatorial as C

TOL = 1e-9
seeds = st.integers(0, 2**32 - 1)


def _assert_tour(dist: np.ndarray, length: float, tour: list[int]) -> None:
    n = dist.shape[0]
    assert tour[0] == 0 and sorted(tour) == list(range(n))
    assert C.tour_length(dist, tour) == pytest.approx(length, abs=TOL)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 9), seed=seeds, asym=st.booleans())
def test_held_karp_equals_brute_force(n, seed, asym):
    inst = C.random_atsp(n, seed) if asym else C.random_tsp(n, seed)
    length, tour = C.solve_tsp(inst.dist)
    assert length == pytest.approx(C.brute_tsp(inst.dist), abs=TOL)
    _assert_tour(inst.dist, length, tour)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 9), seed=seeds)
def test_held_karp_on_integer_matrices_with_ties(n, seed):
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 4, size=(n, n)).astype(float)  # many ties and zero distances
    length, tour = C.solve_tsp(d)
    assert length == C.brute_tsp(d)
    _assert_tour(d, length, tour)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 9), seed=seeds, cap=st.integers(9, 30))
def test_cvrp_dp_equals_brute_force(n, seed, cap):
    inst = C.random_cvrp(n, seed, capacity=cap)
    cost, routes = C.solve_cvrp(inst)
    assert cost == pytest.approx(C.brute_cvrp(inst), abs=TOL)
    assert C.cvrp_cost(inst, routes) == pytest.approx(cost, abs=TOL)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 9), seed=seeds, budget=st.floats(0.0, 4.0))
def test_op_dp_equals_brute_force(n, seed, budget):
    inst = C.random_op(n, seed, budget=budget)
    prize, route = C.solve_op(inst)
    assert prize == pytest.approx(C.brute_op(inst), abs=TOL)
    assert C.op_prize(inst, route) == pytest.approx(prize, abs=TOL)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 12), seed=seeds, integer=st.sampled_from([None, 5, 30]))
def test_knapsack_dp_equals_brute_force(n, seed, integer):
    if n == 0:
        inst = C.KPInstance([], [], 1.0)
    else:
        inst = C.random_kp(n, seed, integer=integer)
    value, items = C.solve_knapsack(inst.values, inst.weights, inst.capacity)
    assert value == pytest.approx(C.brute_kp(inst), abs=TOL)
    assert C.kp_value(inst, items) == pytest.approx(value, abs=TOL) and items == sorted(items)


def test_knapsack_edge_cases():
    assert C.solve_knapsack([5.0], [0.0], 0.0) == (5.0, [0])  # weightless item always fits
    assert C.solve_knapsack([5.0, 1.0], [3.0, 1.0], 2.0) == (1.0, [1])
    assert C.solve_knapsack([1.0, 1.0], [0.6, 0.6], 1.0)[0] == 1.0  # real weights: Pareto DP
    v, items = C.solve_knapsack([10, 40, 30, 50], [5, 4, 6, 3], 10)  # textbook instance
    assert (v, items) == (90.0, [1, 3])


def test_tsp_twenty_nodes_is_consistent_and_beats_heuristics():
    inst = C.random_tsp(20, 0)
    length, tour = C.solve_tsp(inst.dist)
    _assert_tour(inst.dist, length, tour)
    assert length <= C.two_opt(inst.dist)[0] + TOL
    # the BQ value table: V(U, j) of every state on the optimal tour equals the remaining tour length
    V = C.tsp_value_table(inst.dist)
    U, rest = (1 << 19) - 1, length
    for t in range(1, 20):
        rest -= inst.dist[tour[t - 1], tour[t]]
        U ^= 1 << (tour[t] - 1)
        assert V[U, tour[t] - 1] == pytest.approx(rest, abs=1e-9)


def test_heuristics_return_valid_tours():
    inst = C.random_tsp(30, 1)
    nn_len, nn_tour = C.nearest_neighbour(inst.dist)
    opt_len, opt_tour = C.two_opt(inst.dist)
    _assert_tour(inst.dist, nn_len, nn_tour)
    _assert_tour(inst.dist, opt_len, opt_tour)
    assert opt_len <= nn_len + TOL
    a = C.random_atsp(9, 2)
    la, ta = C.two_opt(a.dist)
    _assert_tour(a.dist, la, ta)
    assert la >= C.solve_tsp(a.dist)[0] - TOL


@pytest.mark.parametrize("n", range(1, 9))
def test_dp_on_the_direct_mdp_visits_every_prefix_and_agrees(n):
    from mdpkit.combinatorial import _numba as K

    inst = C.random_tsp(n, 40 + n)
    value, visited = K.direct_tsp_dp(inst.dist)
    assert visited == C.state_count_formula(n)[0]
    assert value == pytest.approx(C.brute_tsp(inst.dist), abs=TOL)
