"""Token trees in torch: level-by-level Q and policies equal the explicit tree's, at any size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit import rover
from mdpkit.errors import InvalidArgumentError


@settings(max_examples=30, deadline=None)
@given(
    V=st.integers(1, 5),
    H=st.integers(1, 4),
    k=st.integers(0, 6),
    seed=st.integers(0, 1000),
    rho=st.floats(0.05, 3),
)
def test_token_tree_matches_explicit_tree(V, H, k, seed, rho):
    k = min(k, V**H)
    tt = rover.token_tree(V, H, n_success=k, seed=seed, device="cpu")
    t = tt.to_tree()
    for f in (rover.uniform_q, rover.optimal_q):
        levels = f(tt)
        flat = torch.cat([x.flatten() for x in levels]).numpy()
        np.testing.assert_allclose(flat, f(t), rtol=0, atol=1e-12)
    q_levels, q = rover.uniform_q(tt), rover.uniform_q(t)
    for make in (
        lambda tr, qq: rover.greedy_policy(tr, qq),
        lambda tr, qq: rover.softmax_policy(tr, qq, rho),
    ):
        p_levels, p = make(tt, q_levels), make(t, q)
        np.testing.assert_allclose(torch.cat([x.flatten() for x in p_levels]).numpy(), p, rtol=0, atol=1e-12)
        assert rover.success_probability(tt, p_levels) == pytest.approx(
            rover.success_probability(t, p), abs=1e-12
        )
        a, b = rover.analyse(tt, p_levels), rover.analyse(t, p)
        assert (a.covered, a.n_solutions) == (b.covered, b.n_solutions)
        assert a.entropy == pytest.approx(b.entropy, abs=1e-12)
    assert rover.success_probability(tt, rover.uniform_policy(tt)) == pytest.approx(k / V**H, abs=1e-12)


def test_clusters_and_paths():
    tt = rover.token_tree(4, 5, n_success=10, seed=3, clusters=2, cluster_depth=2, device="cpu")
    sol = tt.success_leaves.numpy()
    assert sol.size == 10 and tt.is_binary
    prefixes = {tt.leaf_path(int(i))[:2] for i in sol}
    assert len(prefixes) <= 2
    assert tt.leaf_path(0) == "00000" and tt.leaf_path(4**5 - 1) == "33333"
    with pytest.raises(InvalidArgumentError):
        rover.token_tree(2, 3, n_success=9)


def test_million_leaf_token_tree():
    tt = rover.token_tree(10, 6, n_success=25, seed=0, device="cpu")
    q = rover.uniform_q(tt)
    assert q[0].shape == (1, 10) and q[5].shape == (10**5, 10)
    assert float(q[0].mean()) == pytest.approx(25 / 10**6, rel=1e-12)
    g = rover.analyse(tt, rover.greedy_policy(tt, q))
    assert g.success == 1.0 and g.covered == 1
    s = rover.analyse(tt, rover.softmax_policy(tt, q, 0.01))
    assert 0 < s.success < 1 and s.covered == 25


@pytest.mark.slow
def test_ten_million_leaf_token_tree():
    tt = rover.token_tree(15, 6, n_success=100, seed=1)
    assert tt.n_leaves == 15**6  # 11.4 million
    q = rover.uniform_q(tt)
    assert rover.success_probability(tt, rover.greedy_policy(tt, q)) == 1.0
    assert rover.success_probability(tt, rover.uniform_policy(tt)) == pytest.approx(100 / 15**6, rel=1e-9)
