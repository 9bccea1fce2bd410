"""Direct MDP vs BQ-MDP: explicit construction, exact state counts, coarsest bisimulation = BQ classes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdpkit
from mdpkit import combinatorial as C
from mdpkit.errors import InvalidArgumentError

seeds = st.integers(0, 2**32 - 1)


def _blocks_keys(explicit: C.ExplicitMDP, labels: np.ndarray) -> dict[int, set]:
    out: dict[int, set] = {}
    for lab, key in zip(labels.tolist(), explicit.keys, strict=True):
        out.setdefault(lab, set()).add(key)
    return out


@pytest.mark.parametrize("n", range(1, 10))
def test_tsp_state_counts_formula_enumeration_and_explicit(n):
    inst = C.random_tsp(n, n)
    direct, bq = C.state_count_formula(n)
    assert C.count_states(inst) == (direct, bq)
    assert C.count_states(C.random_atsp(n, n)) == (direct, bq)
    if n <= 7:
        ex = C.direct_mdp(inst)
        assert ex.mdp.S == direct + 1  # + the absorbing terminal state
        assert len(set(ex.keys)) == bq + 1
    assert C.state_count_formula(20) == (330665665962404000, 4980737)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 7), seed=seeds, asym=st.booleans())
def test_coarsest_bisimulation_of_direct_tsp_is_bq(n, seed, asym):
    inst = C.random_atsp(n, seed) if asym else C.random_tsp(n, seed)
    ex = C.direct_mdp(inst)
    labels = C.coarsest_bisimulation(ex.mdp)
    bq = C.bq_partition(ex)
    assert C.is_bisimulation(ex.mdp, bq)
    assert C.same_partition(labels, bq)


def _resource_instances(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    yield "cvrp", C.random_cvrp(n, rng, capacity=int(rng.integers(9, 25)))
    yield "op", C.random_op(n, rng, budget=float(rng.uniform(0.5, 3.0)))
    yield "kp", C.random_kp(n + 2, rng, integer=int(rng.choice([3, 50])) if rng.random() < 0.5 else None)


@settings(max_examples=10, deadline=None)
@given(seed=seeds)
def test_bq_partition_is_a_bisimulation_refining_the_coarsest(seed):
    """CVRP/OP/KP: the BQ classes form a bisimulation, so they refine the coarsest one. The coarsest may be
    strictly coarser, but never merges states with different remaining (reachable / fitting) sets, nor, for
    CVRP, different current nodes: it only merges resources (capacity, budget) that admit the same futures,
    and for OP (prizes do not depend on the route) also current nodes with the same reachable set."""
    for name, inst in _resource_instances(seed):
        ex = C.direct_mdp(inst)
        labels = C.coarsest_bisimulation(ex.mdp)
        bq = C.bq_partition(ex)
        assert C.is_bisimulation(ex.mdp, bq), name
        # BQ refines the coarsest bisimulation: every BQ class lies inside one coarsest block
        assert np.unique(np.stack([bq, labels]), axis=1).shape[1] == bq.max() + 1, name
        for keys in _blocks_keys(ex, labels).values():
            inner = [k for k in keys if k != "terminal"]
            if name == "kp":
                assert len({k[0] for k in inner}) <= 1, (name, keys)  # same remaining fitting items
            elif name == "op":
                assert len({k[1] for k in inner}) <= 1, (name, keys)  # same reachable set
            else:
                assert len({(k[0], k[1]) for k in inner}) <= 1, (name, keys)  # same node and set


def test_resource_merges_happen():
    """A concrete CVRP where the coarsest bisimulation is strictly coarser than the BQ classes: at customer 1
    with only customer 2 (demand 1) left, capacities 5 and 9 admit the same futures."""
    inst = C.CVRPInstance([0, 2, 1, 4], 11, coords=[[0, 0], [1, 0], [1, 1], [0, 1]])
    ex = C.direct_mdp(inst)  # actions: k = direct to k, 3 + k = to k via the depot
    labels = C.coarsest_bisimulation(ex.mdp)
    bq = C.bq_partition(ex)
    assert labels.max() < bq.max()
    s1 = ex.states.index((3, 1))  # 3 (c = 7), 1 (c = 5): key (1, {2}, 5)
    s2 = ex.states.index((6, 1))  # 3 via the depot (c = 7), 1 (c = 5): the same BQ state
    s3 = ex.states.index((3, 4))  # 3 (c = 7), 1 via the depot (c = 9): key (1, {2}, 9)
    s4 = ex.states.index((2, 1))  # 2 (c = 10), 1 (c = 8): key (1, {3}, 8)
    assert ex.keys[s1] == ex.keys[s2] == (1, 0b010, 5) and ex.keys[s3] == (1, 0b010, 9)
    assert bq[s1] == bq[s2] != bq[s3]
    assert labels[s1] == labels[s2] == labels[s3] != labels[s4]


@pytest.mark.parametrize(
    "inst",
    [
        C.random_tsp(6, 0),
        C.random_atsp(6, 1),
        C.random_cvrp(4, 2, capacity=10),
        C.random_op(5, 3, budget=2.0),
        C.random_kp(7, 4),
        C.random_kp(6, 5, integer=4),
    ],
    ids=["tsp", "atsp", "cvrp", "op", "kp", "kp-int"],
)
def test_dp_on_direct_mdp_and_on_quotient_equal_exact_solver(inst):
    ex = C.direct_mdp(inst)
    value = mdpkit.backward_induction(ex.finite()).value
    if isinstance(inst, C.TSPInstance):
        expected = -C.solve_tsp(inst.dist)[0]
    elif isinstance(inst, C.CVRPInstance):
        expected = -C.solve_cvrp(inst)[0]
    elif isinstance(inst, C.OPInstance):
        expected = C.solve_op(inst)[0]
    else:
        expected = C.solve_knapsack(inst.values, inst.weights, inst.capacity)[0]
    assert value == pytest.approx(expected, abs=1e-9)
    # solving the BQ quotient (one state per BQ class) gives the same value
    bq = C.bq_partition(ex)
    Q = C.quotient(ex.mdp, bq)
    mu = np.zeros(Q.S)
    mu[bq[0]] = 1.0
    fh = mdpkit.FiniteHorizonMDP(Q.P, Q.R, ex.horizon, initial=mu, mask=Q.mask)
    assert Q.S == len(set(ex.keys)) <= ex.mdp.S
    assert mdpkit.backward_induction(fh).value == pytest.approx(expected, abs=1e-9)


def test_bq_state_and_sub_instance():
    inst = C.random_tsp(6, 0)
    assert C.bq_state(inst, [2, 4]) == (4, 0b11111 ^ 0b01010)
    assert C.bq_state(inst, [4, 2]) == (2, 0b11111 ^ 0b01010)
    assert C.bq_state(inst, [1, 2, 3, 4, 5, 0]) == "terminal"
    with pytest.raises(InvalidArgumentError, match=r"partial\[1\] = 2 is not a feasible action"):
        C.bq_state(inst, [2, 2])
    nodes, d = C.sub_instance(inst, [3, 1])
    assert nodes.tolist() == [1, 2, 4, 5, 0]
    np.testing.assert_array_equal(d, inst.dist[np.ix_(nodes, nodes)])
    # KP: the order of the chosen items is forgotten
    kp = C.random_kp(5, 1)
    assert C.bq_state(kp, [1, 3]) == C.bq_state(kp, [3, 1])
    with pytest.raises(InvalidArgumentError, match="max_states"):
        C.direct_mdp(C.random_tsp(9, 0), max_states=1000)


@pytest.mark.parametrize(
    "inst",
    [
        C.random_cvrp(4, 0, capacity=12),
        C.random_op(5, 1, budget=1.2),
        C.OPInstance(
            [0, 1, 1, 1], 2.0, dist=[[0, 5, 0.4, 0.5], [0.5, 0, 0.1, 1], [0.4, 0.1, 0, 1], [1, 1, 1, 0]]
        ),
        C.random_kp(6, 2),
        C.random_kp(6, 3, integer=3),
    ],
    ids=["cvrp", "op", "op-non-metric", "kp", "kp-int"],
)
def test_count_states_matches_the_explicit_model(inst):
    ex = C.direct_mdp(inst)
    direct, bq = C.count_states(inst)
    assert (direct + 1, bq + 1) == (ex.mdp.S, len(set(ex.keys)))
    assert C.is_bisimulation(ex.mdp, C.bq_partition(ex))
