"""Exact quality / diversity measures: identities, exact rationals, Monte Carlo, token trees."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit import rover
from mdpkit.errors import InvalidArgumentError
from mdpkit.rover import exact, strategies


def test_toy_reference_numbers():
    toy = rover.paper_toy()
    q = rover.uniform_q(toy)
    assert rover.success_probability(toy, rover.uniform_policy(toy)) == pytest.approx(4 / 64, abs=1e-15)
    g = rover.analyse(toy, rover.greedy_policy(toy, q))
    assert (g.success, g.covered, g.entropy) == (1.0, 1, 0.0)
    assert toy.path_str(int(g.solutions[g.solution_probs > 0][0])) == "ACD"  # first maximiser: A, C, D
    for rho in (0.05, 0.5, 1.0):
        a = rover.analyse(toy, rover.softmax_policy(toy, q, rho))
        x = np.exp(1 / (4 * rho))
        y = np.exp(1 / rho)
        assert a.success == pytest.approx(x / (3 + x) * y / (3 + y), rel=1e-13)
        assert a.entropy == pytest.approx(np.log(4), abs=1e-13) and a.covered == 4


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), rho=st.floats(0.05, 3.0), kind=st.sampled_from(["tree", "dag", "stoch"]))
def test_measure_identities(seed, rho, kind):
    if kind == "tree":
        t = rover.random_tree(seed, depth=4, branching=(1, 3), p_stop=0.2, p_success=0.3)
    elif kind == "dag":
        t = rover.random_dag(seed, depth=4, width=5)
    else:
        t = rover.random_stochastic_tree(seed)
    pi = rover.softmax_policy(t, rover.uniform_q(t), rho)
    reach = rover.visit_probabilities(t, pi)
    assert reach[t.leaves].sum() == pytest.approx(1.0, abs=1e-12)
    a = rover.analyse(t, pi)
    assert a.solution_probs.sum() == pytest.approx(a.success, abs=1e-12)
    assert a.value == pytest.approx(rover.policy_value(t, pi), abs=1e-12)
    assert a.value == pytest.approx(rover.state_values(t, rover.policy_q(t, pi), pi)[0], abs=1e-12)
    assert 0 <= a.entropy <= np.log(max(a.n_solutions, 1)) + 1e-12
    assert a.expected_distinct(1) == pytest.approx(a.success, abs=1e-12)
    assert a.expected_distinct(10**6) <= a.covered + 1e-9
    assert a.pass_at_k(3) == pytest.approx(1 - (1 - a.success) ** 3, abs=1e-12)
    assert rover.pass_at_k(t, pi, 3) == pytest.approx(a.pass_at_k(3), abs=1e-15)
    assert rover.distinct_solutions(t, pi, n=7) == pytest.approx(a.expected_distinct(7), abs=1e-12)
    assert rover.solution_entropy(t, pi, base=2) == pytest.approx(a.entropy / np.log(2), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    t=strategies.trees(max_depth=3, transitions="stochastic"),
    w=st.lists(st.integers(1, 4), min_size=40, max_size=40),
)
def test_success_probability_matches_rationals(t, w):
    # a rational policy from integer weights, compared with the float pipeline
    pi = []
    for n in range(t.n_nodes):
        a0, a1 = int(t.action_ptr[n]), int(t.action_ptr[n + 1])
        ws = [w[(n + i) % len(w)] for i in range(a1 - a0)]
        pi += [Fraction(x, sum(ws)) for x in ws]
    pe = exact.success_probability_exact(t, pi)
    assert rover.success_probability(t, np.array([float(p) for p in pi])) == pytest.approx(
        float(pe), abs=1e-13
    )


def test_monte_carlo_agrees_with_exact():
    t = rover.random_tree(11, depth=4, branching=(2, 3), p_success=0.3)
    pi = rover.softmax_policy(t, rover.uniform_q(t), 0.2)
    rng = np.random.default_rng(0)
    n_runs = 20_000
    # vectorised sampling: all runs advance one level at a time
    node = np.zeros(n_runs, dtype=np.int64)
    cdf = np.cumsum(pi)
    for _ in range(t.horizon):
        live = t.n_actions[node] > 0
        a0 = t.action_ptr[node[live]]
        base = np.where(a0 > 0, cdf[np.maximum(a0 - 1, 0)], 0.0)
        u = base + rng.random(live.sum()) * (cdf[t.action_ptr[node[live] + 1] - 1] - base)
        e = np.minimum(np.searchsorted(cdf, u, side="right"), t.action_ptr[node[live] + 1] - 1)
        node[live] = t.child[t.outcome_ptr[e]]
    hits = int(np.count_nonzero(t.reward[node] > 0))
    p = rover.success_probability(t, pi)
    assert abs(hits / n_runs - p) <= 4 * np.sqrt(p * (1 - p) / n_runs)


def test_quality_diversity_table_on_toy():
    toy = rover.paper_toy()
    rows = rover.quality_diversity(toy, [0.05, 0.1, 0.5, 1.0], ks=(1, 16), n_samples=(16,))
    soft = [r for r in rows if r["policy"] == "softmax"]
    assert [r["success"] for r in soft] == sorted((r["success"] for r in soft), reverse=True)
    names = [r["policy"] for r in rows]
    assert names[-4:] == ["greedy", "optimal_first", "optimal_uniform", "uniform"]
    by = {r["policy"]: r for r in rows}
    assert by["greedy"]["covered"] == 1 and by["optimal_uniform"]["covered"] == 4
    assert by["uniform"]["success"] == pytest.approx(1 / 16)
    assert by["greedy"]["pass@16"] == 1.0 and by["greedy"]["distinct@16"] == 1.0


def test_argument_errors():
    toy = rover.paper_toy()
    pi = rover.uniform_policy(toy)
    with pytest.raises(InvalidArgumentError):
        rover.pass_at_k(toy, pi, 0)
    with pytest.raises(InvalidArgumentError):
        rover.distinct_solutions(toy, pi, n=0)
    with pytest.raises(InvalidArgumentError):
        rover.solution_entropy(toy, pi, base=1)
