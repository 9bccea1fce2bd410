"""Q of the uniform / optimal / any policy: numba and torch agree, Bellman identities, greedy and softmax."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit import rover
from mdpkit.errors import BackendUnavailableError, InvalidArgumentError, InvalidPolicyError
from mdpkit.rover import exact, strategies

TOL = 1e-12


def _random_instance(kind: str, seed: int) -> rover.Tree:
    if kind == "tree":
        return rover.random_tree(seed, depth=5, branching=(1, 4), p_stop=0.25, p_success=0.2)
    if kind == "dag":
        return rover.random_dag(seed, depth=5, width=6, branching=(1, 3))
    if kind == "stochastic":
        return rover.random_stochastic_tree(seed, depth=3, reward_values=(0, 1, 2))
    return rover.random_tree(seed, depth=4, reward_values=(0.0, 0.5, 2.0))


def test_toy_uniform_q():
    toy = rover.paper_toy()
    q = rover.uniform_q(toy)
    np.testing.assert_array_equal(q[toy.actions(0)], [1 / 16] * 4)
    for prefix, tok in (("A", "C"), ("B", "D"), ("C", "A"), ("D", "B")):
        row = q[toy.actions(toy.node(prefix))]
        expect = np.zeros(4)
        expect[toy.tokens(0).index(tok)] = 0.25
        np.testing.assert_array_equal(row, expect)
    np.testing.assert_array_equal(q[toy.actions(toy.node("AC"))], [0, 0, 0, 1])
    np.testing.assert_array_equal(q[toy.actions(toy.node("AA"))], [0, 0, 0, 0])
    qs = rover.optimal_q(toy)
    np.testing.assert_array_equal(qs[toy.actions(0)], [1, 1, 1, 1])


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["tree", "dag", "stochastic", "nonbinary"]),
    seed=st.integers(0, 10_000),
    rho=st.floats(0.05, 5.0),
)
def test_numba_and_torch_agree(kind, seed, rho):
    t = _random_instance(kind, seed)
    q = rover.uniform_q(t)
    np.testing.assert_allclose(rover.uniform_q(t, backend="torch", device="cpu"), q, rtol=0, atol=TOL)
    np.testing.assert_allclose(rover.optimal_q(t, backend="torch"), rover.optimal_q(t), rtol=0, atol=TOL)
    pi = rover.softmax_policy(t, q, rho)
    np.testing.assert_allclose(
        rover.policy_q(t, pi, backend="torch"), rover.policy_q(t, pi), rtol=0, atol=TOL
    )
    np.testing.assert_allclose(
        rover.visit_probabilities(t, pi, backend="torch"), rover.visit_probabilities(t, pi), rtol=0, atol=TOL
    )


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["tree", "dag", "stochastic", "nonbinary"]), seed=st.integers(0, 10_000))
def test_bellman_identities(kind, seed):
    t = _random_instance(kind, seed)
    for q, how in ((rover.uniform_q(t), "uniform"), (rover.optimal_q(t), "max")):
        v = rover.state_values(t, q, how)
        # Q(s, a) = sum_j P(j) V(child_j)
        back = np.zeros(t.n_edges)
        np.add.at(back, t.edge_of_outcome, t.prob * v[t.child])
        np.testing.assert_allclose(q, back, rtol=0, atol=TOL)
    # the uniform policy's Q is policy_q of the uniform policy; Q* dominates every policy's Q
    np.testing.assert_allclose(
        rover.policy_q(t, rover.uniform_policy(t)), rover.uniform_q(t), rtol=0, atol=TOL
    )
    assert np.all(
        rover.optimal_q(t) >= rover.policy_q(t, rover.softmax_policy(t, rover.uniform_q(t), 0.3)) - TOL
    )


@settings(max_examples=30, deadline=None)
@given(t=strategies.trees(max_depth=3, rewards="nonbinary", transitions="stochastic"))
def test_float_q_equals_exact_rationals(t):
    qe, ve = exact.uniform_q_exact(t)
    np.testing.assert_allclose(rover.uniform_q(t), [float(x) for x in qe], rtol=0, atol=TOL)
    qs, _ = exact.optimal_q_exact(t)
    np.testing.assert_allclose(rover.optimal_q(t), [float(x) for x in qs], rtol=0, atol=TOL)
    assert abs(rover.state_values(t, rover.uniform_q(t))[0] - float(ve[0])) <= TOL


@settings(max_examples=30, deadline=None)
@given(t=strategies.trees(max_depth=4, max_branching=3))
def test_uniform_q_is_success_probability_of_random_continuation(t):
    # binary rewards: V^{pi_u}(s0) / R = Pr(success) under the uniform policy
    q = rover.uniform_q(t)
    v0 = rover.state_values(t, q)[0]
    R = float(max(t.exact_reward()))
    p = rover.success_probability(t, rover.uniform_policy(t))
    assert abs(v0 - (R * p if R > 0 else 0.0)) <= TOL


def test_greedy_ties_and_tolerance():
    t = rover.tree_from_spec({"a": 1, "b": 0, "c": 1})
    q = rover.uniform_q(t)
    np.testing.assert_array_equal(rover.greedy_policy(t, q), [1, 0, 0])
    np.testing.assert_array_equal(rover.greedy_policy(t, q, ties="uniform"), [0.5, 0, 0.5])
    q2 = q + np.array([0.0, 0.0, 1e-9])
    np.testing.assert_array_equal(rover.greedy_policy(t, q2), [0, 0, 1])
    np.testing.assert_array_equal(rover.greedy_policy(t, q2, atol=1e-6), [1, 0, 0])
    with pytest.raises(InvalidArgumentError, match="ties"):
        rover.greedy_policy(t, q, ties="random")


def test_softmax_policy_properties():
    t = rover.random_tree(5, depth=4, branching=(2, 4), p_success=0.3)
    q = rover.uniform_q(t)
    pi = rover.softmax_policy(t, q, 0.5)
    rover.check_policy(t, pi)
    # invariant to adding a constant per node
    shift = np.repeat(np.arange(t.n_nodes, dtype=float), t.n_actions)
    np.testing.assert_allclose(rover.softmax_policy(t, q + shift, 0.5), pi, rtol=0, atol=TOL)
    np.testing.assert_allclose(rover.softmax_policy(t, q, np.inf), rover.uniform_policy(t), rtol=0, atol=0)
    # rho -> 0 tends to greedy with uniform ties (q values here differ by >= 1/4^4 or tie exactly)
    np.testing.assert_allclose(
        rover.softmax_policy(t, q, 1e-5), rover.greedy_policy(t, q, ties="uniform"), rtol=0, atol=1e-12
    )
    # higher temperature never makes a softmax row less uniform: entropy is monotone in rho
    ent = []
    for rho in (0.05, 0.2, 1.0, 5.0):
        p = rover.softmax_policy(t, q, rho)
        ent.append(float(-(p * np.log(np.where(p > 0, p, 1))).sum()))
    assert ent == sorted(ent)
    with pytest.raises(InvalidArgumentError, match="rho"):
        rover.softmax_policy(t, q, 0.0)


def test_optimal_policy_modes_on_toy():
    toy = rover.paper_toy()
    first = rover.analyse(toy, rover.optimal_policy(toy, ties="first"))
    spread = rover.analyse(toy, rover.optimal_policy(toy, ties="uniform"))
    assert first.success == 1.0 and first.covered == 1
    assert spread.success == 1.0 and spread.covered == 4
    assert spread.entropy == pytest.approx(np.log(4), abs=1e-12)


def test_errors():
    toy = rover.paper_toy()
    q = rover.uniform_q(toy)
    with pytest.raises(InvalidArgumentError, match="shape"):
        rover.greedy_policy(toy, q[:-1])
    with pytest.raises(InvalidArgumentError, match="backend"):
        rover.uniform_q(toy, backend="jax")
    with pytest.raises(InvalidArgumentError, match="device"):
        rover.uniform_q(toy, device="cuda:0")
    with pytest.raises(InvalidPolicyError, match="node 0"):
        rover.success_probability(toy, np.full(toy.n_edges, 0.3))
    with pytest.raises(InvalidArgumentError, match="Tree"):
        rover.uniform_q(np.zeros(3))
    if not torch.cuda.is_available():
        with pytest.raises(BackendUnavailableError):
            rover.uniform_q(toy, backend="torch", device="cuda")
    assert exact.uniform_q_exact(toy)[0][0] == Fraction(1, 16)
