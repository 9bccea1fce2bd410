"""The tree data model: layout, builders, validation, conversions, generators."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import mdpkit
from mdpkit import rover
from mdpkit.errors import InvalidArgumentError, InvalidMDPError
from mdpkit.rover import Tree, TreeBuilder, tree_from_spec


def test_paper_toy_layout():
    toy = rover.paper_toy()
    assert (toy.n_nodes, toy.n_edges, toy.horizon) == (85, 84, 3)
    assert toy.leaves.size == 64
    assert sorted(toy.path_str(n) for n in toy.success_leaves) == sorted(rover.PAPER_TOY_SOLUTIONS)
    assert toy.in_paper_class and toy.is_tree and toy.is_deterministic and toy.is_binary
    assert toy.tokens(0) == ("A", "B", "C", "D")
    assert toy.reward[toy.node("ACD")] == 1.0 and toy.reward[toy.node("ACA")] == 0.0
    assert toy.R == 1.0
    assert rover.paper_toy(R=3.0).R == 3.0


def test_complete_tree_numbering():
    V, H = 3, 3
    leaf = np.arange(V**H, dtype=float)
    t = rover.complete_tree(V, H, leaf)
    # edge e leads to node e + 1, and leaf i spells the base-V digits of i
    for e in range(t.n_edges):
        kids, probs = t.children(e)
        assert kids.tolist() == [e + 1] and probs.tolist() == [1.0]
    off = (V**H - 1) // (V - 1)
    for i in (0, 5, 26):
        digits = np.base_repr(i, V).rjust(H, "0")
        assert t.path_str(off + i) == digits
        assert t.reward[t.node(digits)] == i


def test_builder_renumbers_topologically_and_detects_cycles():
    b = TreeBuilder(["x", "y"])
    leaf1, leaf0, mid, root = b.add_node(1), b.add_node(0), b.add_node(), b.add_node()
    with pytest.raises(InvalidMDPError, match="not reachable"):
        b.build()  # node 0 (leaf1) is the root: the others are unreachable
    b = TreeBuilder(["x", "y"])
    root = b.add_node()
    leaf1, leaf0, mid = b.add_node(1), b.add_node(0), b.add_node()
    b.add_action(root, "x", mid)
    b.add_action(mid, "x", leaf1)
    b.add_action(mid, "y", leaf0)
    b.add_action(root, "y", leaf0)  # leaf0 merges: a DAG
    t = b.build()
    assert np.all(t.child > t.node_of_edge[t.edge_of_outcome])
    assert not t.is_tree and t.is_deterministic
    c = TreeBuilder()
    r, m = c.add_node(), c.add_node()
    c.add_action(r, "a", m)
    c.add_action(m, "a", r)
    with pytest.raises(InvalidMDPError, match="cycle"):
        c.build()
    with pytest.raises(InvalidArgumentError, match="already has an action"):
        b.add_action(root, "x", leaf1)


def test_validation_messages_name_the_offender():
    ap, op, ch = np.array([0, 2, 2, 2]), np.array([0, 1, 2]), np.array([1, 2])
    with pytest.raises(InvalidMDPError, match="edge 1"):
        Tree(ap, op, ch, np.array([1.0, 0.9]), np.zeros(3))
    with pytest.raises(InvalidMDPError, match=r"reward\[0\]"):
        Tree(ap, op, ch, np.ones(2), np.array([1.0, 0.0, 0.0]))
    with pytest.raises(InvalidMDPError, match="larger index"):
        Tree(np.array([0, 1, 2]), np.array([0, 1, 2]), np.array([1, 1]), np.ones(2), np.zeros(2))
    with pytest.raises(InvalidMDPError, match="two actions with token"):
        Tree(ap, op, ch, np.ones(2), np.zeros(3), label=np.array([0, 0]))
    with pytest.raises(InvalidMDPError, match="no parent"):
        Tree(np.array([0, 1, 1, 1]), np.array([0, 1]), np.array([1]), np.ones(1), np.zeros(3))
    with pytest.raises(InvalidMDPError, match="sum to"):
        tree_from_spec({"a": [("1/2", 1), ("1/3", 0)]})


def test_spec_and_dict_round_trips_are_exact():
    spec = {"a": {"x": 1, "y": 0}, "b": [("2/3", 1), ("1/3", {"x": 0, "y": "5/2"})]}
    t = tree_from_spec(spec)
    assert not t.is_deterministic and not t.is_binary
    assert t.exact_prob().count(Fraction(2, 3)) == 1
    t2 = Tree.from_dict(t.to_dict())
    for name in ("action_ptr", "outcome_ptr", "child", "prob", "reward", "label"):
        np.testing.assert_array_equal(getattr(t, name), getattr(t2, name))
    assert t2.exact_prob() == t.exact_prob() and t2.exact_reward() == t.exact_reward()
    t3 = tree_from_spec(t.to_spec())
    assert t3.to_dict() == t.to_dict()
    assert t.spec_str() == "{a: {x: 1, y: 0}, b: [2/3: 1, 1/3: {x: 0, y: 5/2}]}"


@pytest.mark.parametrize("seed", range(4))
def test_generators(seed):
    t = rover.random_tree(seed, depth=4, branching=(2, 3), p_stop=0.3, min_solutions=2)
    assert t.in_paper_class and t.horizon <= 4 and t.success_leaves.size >= 2
    assert np.all((t.n_actions == 0) | ((t.n_actions >= 2) & (t.n_actions <= 3)))
    same = rover.random_tree(seed, depth=4, branching=(2, 3), p_stop=0.3, min_solutions=2)
    np.testing.assert_array_equal(t.reward, same.reward)
    nb = rover.random_tree(seed, reward_values=(0, 1, 2))
    assert set(np.unique(nb.reward[nb.leaves])) <= {0.0, 1.0, 2.0}
    st = rover.random_stochastic_tree(seed, outcomes=(2, 2))
    assert not st.is_deterministic and st.is_tree and st.prob_exact is not None
    assert all(
        sum(st.exact_prob()[st.outcome_ptr[e] : st.outcome_ptr[e + 1]]) == 1 for e in range(st.n_edges)
    )
    dag = rover.random_dag(seed, depth=4, width=3, branching=3)
    assert dag.is_deterministic and dag.horizon == 4
    assert np.all(np.diff(dag.outcome_ptr) == 1)


def test_finite_horizon_conversion_matches_core_backward_induction():
    for t in (
        rover.paper_toy(),
        rover.random_tree(3, p_stop=0.3),
        rover.random_dag(1),
        rover.random_stochastic_tree(2),
    ):
        fh = t.to_finite_horizon()
        sol = mdpkit.backward_induction(fh)
        vstar = rover.state_values(t, rover.optimal_q(t), "max")
        np.testing.assert_allclose(sol.V[0][0], vstar[0], rtol=0, atol=1e-12)
        # the uniform policy over each node's feasible actions
        mask = fh.mask[0] if fh.mask.ndim == 3 else fh.mask
        pi = mask / mask.sum(axis=1, keepdims=True)
        V, _ = mdpkit.evaluate_finite(fh, pi)
        vu = rover.state_values(t, rover.uniform_q(t))
        np.testing.assert_allclose(V[0][0], vu[0], rtol=0, atol=1e-12)


def test_node_and_edge_lookup_errors():
    toy = rover.paper_toy()
    with pytest.raises(InvalidArgumentError, match="no action with token"):
        toy.edge(toy.node("ACD"), "A")
    with pytest.raises(InvalidArgumentError, match="not in"):
        toy.actions(85)
    with pytest.raises(InvalidArgumentError, match="stochastic"):
        tree_from_spec({"a": [("1/2", 1), ("1/2", 0)]}).node("a")
