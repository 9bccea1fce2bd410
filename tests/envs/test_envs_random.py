"""Random families: GARNET, dense random, communicating and multichain models."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

import mdpkit
from mdpkit import InvalidArgumentError, InvalidMDPError, MultichainError
from mdpkit.envs import dense_random, garnet, random_communicating, random_multichain
from mdpkit.envs.random_mdps import _distinct_successors


def row_sums(mdp: mdpkit.TabularMDP) -> np.ndarray:
    return np.asarray(mdp.P_rows.sum(axis=1)).ravel()


def assert_same_bits(a: mdpkit.TabularMDP, b: mdpkit.TabularMDP) -> None:
    np.testing.assert_array_equal(a.dense_P(), b.dense_P())
    np.testing.assert_array_equal(a.R, b.R)


# ----------------------------------------------------------------------------------------------- GARNET
@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize(("S", "A", "b"), [(1, 1, 1), (5, 3, 5), (12, 2, 3), (40, 4, 7)])
def test_garnet_structure(S, A, b, sparse):
    m = garnet(S, A, b, seed=3, sparse=sparse)
    assert (m.S, m.A) == (S, A) and m.is_sparse == sparse and m.gamma == 0.95
    np.testing.assert_allclose(row_sums(m), 1.0, atol=1e-12)
    support = (m.dense_P() > 0).sum(axis=2)
    np.testing.assert_array_equal(support, b)  # exactly b distinct successors per pair
    assert np.all((m.R >= 0) & (m.R < 1))


def test_garnet_dense_and_sparse_are_the_same_model():
    assert_same_bits(garnet(30, 3, 4, seed=11, sparse=True), garnet(30, 3, 4, seed=11, sparse=False))


def test_garnet_determinism_and_seed_sensitivity():
    a, b = garnet(50, 4, 3, seed=7), garnet(50, 4, 3, seed=7)
    assert_same_bits(a, b)
    c = garnet(50, 4, 3, seed=8)
    assert not np.array_equal(a.dense_P(), c.dense_P())
    assert not np.array_equal(a.R, c.R)
    # a Generator is accepted and consumed: same stream -> same model, advanced stream -> another one
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    assert_same_bits(garnet(50, 4, 3, seed=g1), garnet(50, 4, 3, seed=g2))
    assert not np.array_equal(garnet(50, 4, 3, seed=g1).R, a.R)


def test_garnet_storage_rule():
    assert not garnet(100, 4, 3).is_sparse  # 100*4*100 = 4e4 dense entries
    big = garnet(800, 8, 2)  # 800*8*800 = 5.12e6 > 5e6
    assert big.is_sparse and big.nnz == 800 * 8 * 2


def test_garnet_large_sparse_build():
    m = garnet(20_000, 8, 5, gamma=0.9, seed=0)
    assert m.is_sparse and m.nnz == 20_000 * 8 * 5  # no successor merged: all distinct
    np.testing.assert_allclose(row_sums(m), 1.0, atol=1e-12)


def test_garnet_normal_rewards():
    m = garnet(20, 2, 2, reward="normal", seed=1)
    assert m.R.min() < 0 < m.R.max()


@pytest.mark.parametrize(("n", "S", "b"), [(4000, 5, 2), (1000, 10_000, 3)])  # random-key / rejection path
def test_distinct_successors_are_uniform_subsets(n, S, b):
    rng = np.random.default_rng(0)
    out = _distinct_successors(rng, n, S, b)
    assert out.shape == (n, b)
    assert np.all(np.diff(out, axis=1) > 0)  # sorted and distinct
    assert out.min() >= 0 and out.max() < S
    # each state is in a uniform b-subset with probability b/S: the count over n rows is Binomial(n, b/S)
    counts = np.bincount(out.ravel(), minlength=S)
    p = b / S
    mean, sd = n * p, np.sqrt(n * p * (1 - p))
    if S <= 10:
        assert np.all(np.abs(counts - mean) < 6 * sd)
    # the mean of all drawn states is (S-1)/2 up to sampling noise (variance <= (S^2-1)/12 per draw)
    se = np.sqrt((S**2 - 1) / 12 / out.size)
    assert abs(out.mean() - (S - 1) / 2) < 6 * se


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"S": 0, "A": 2, "branching": 1}, InvalidArgumentError, "S = 0"),
        ({"S": 4, "A": 0, "branching": 1}, InvalidArgumentError, "A = 0"),
        ({"S": 4, "A": 2, "branching": 0}, InvalidArgumentError, "branching = 0"),
        ({"S": 4, "A": 2, "branching": 5}, InvalidArgumentError, "branching = 5 must be >= 1 and <= 4"),
        ({"S": 4.0, "A": 2, "branching": 2}, InvalidArgumentError, "S = 4.0 must be an integer"),
        ({"S": 4, "A": 2, "branching": 2, "gamma": 1.5}, InvalidMDPError, "gamma"),
        ({"S": 4, "A": 2, "branching": 2, "seed": "x"}, InvalidArgumentError, "seed"),
        ({"S": 4, "A": 2, "branching": 2, "seed": -1}, InvalidArgumentError, "seed"),
        ({"S": 4, "A": 2, "branching": 2, "reward": "beta"}, InvalidArgumentError, "reward = 'beta'"),
        ({"S": 4, "A": 2, "branching": 2, "sparse": "yes"}, InvalidArgumentError, "sparse"),
    ],
)
def test_garnet_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        garnet(**kwargs)


# ----------------------------------------------------------------------------------------------- dense
def test_dense_random_structure_and_determinism():
    m = dense_random(40, 3, gamma=0.9, seed=5)
    assert (m.S, m.A, m.gamma) == (40, 3, 0.9) and not m.is_sparse
    assert m.P.dtype == np.float64 and m.P.flags["C_CONTIGUOUS"]
    assert np.all(m.P > 0)  # full support
    np.testing.assert_allclose(row_sums(m), 1.0, atol=1e-12)
    assert np.all((m.R >= 0) & (m.R < 1))
    assert_same_bits(m, dense_random(40, 3, gamma=0.9, seed=5))
    assert not np.array_equal(m.P, dense_random(40, 3, gamma=0.9, seed=6).P)


def test_dense_random_bad_parameters():
    with pytest.raises(InvalidArgumentError, match="S = -2"):
        dense_random(-2, 3)
    with pytest.raises(InvalidMDPError, match="gamma"):
        dense_random(3, 3, gamma=-0.1)


# ----------------------------------------------------------------------------------------- communicating
@pytest.mark.parametrize(("S", "A", "density"), [(1, 1, 0.2), (2, 3, 0.2), (25, 3, 0.01), (60, 2, 0.5)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_communicating_is_communicating(S, A, density, seed):
    m = random_communicating(S, A, seed=seed, density=density)
    assert m.gamma is None
    np.testing.assert_allclose(row_sums(m), 1.0, atol=1e-12)
    assert mdpkit.is_communicating(m)
    # stronger: the policy "always action 0" alone is irreducible (it contains the Hamiltonian cycle)
    P0 = m.transition_matrix(np.zeros(S, dtype=np.int64))
    n, _ = connected_components(sp.csr_matrix(P0 > 0), directed=True, connection="strong")
    assert n == 1


def test_random_communicating_sparse_dense_and_average_reward():
    a = random_communicating(30, 3, seed=4, sparse=True)
    b = random_communicating(30, 3, seed=4, sparse=False)
    assert a.is_sparse and not b.is_sparse
    assert_same_bits(a, b)
    assert not np.array_equal(b.P, random_communicating(30, 3, seed=5).P)
    sol = mdpkit.average_reward(b)  # constant optimal gain: no MultichainError
    assert sol.converged and 0.0 <= sol.gain <= 1.0


def test_random_communicating_bad_parameters():
    with pytest.raises(InvalidArgumentError, match="density = 0.0"):
        random_communicating(5, 2, density=0.0)
    with pytest.raises(InvalidArgumentError, match="density = 1.5"):
        random_communicating(5, 2, density=1.5)


# ----------------------------------------------------------------------------------------------- multichain
@pytest.mark.parametrize(("S", "A", "transient", "seed"), [(2, 1, 0, 0), (8, 3, 0, 1), (10, 2, 3, 2)])
def test_random_multichain_is_detected(S, A, transient, seed):
    m = random_multichain(S, A, seed=seed, transient=transient)
    np.testing.assert_allclose(row_sums(m), 1.0, atol=1e-12)
    assert not mdpkit.is_communicating(m)
    with pytest.raises(MultichainError):
        mdpkit.average_reward(m)
    with pytest.raises(MultichainError):
        mdpkit.average_reward(m, method="lp")


def test_random_multichain_gains_differ_under_every_policy():
    S, A, t = 9, 3, 2
    m = random_multichain(S, A, seed=3, transient=t)
    n1 = (S - t) // 2
    rng = np.random.default_rng(0)
    for _ in range(20):
        pol = rng.integers(0, A, S)
        g, _h = mdpkit.policy_gain(m, pol)
        assert np.all(g[:n1] <= 0.4) and np.all(g[n1 : S - t] >= 0.6)
    # the classes are closed under every action
    P = m.dense_P()
    assert np.all(P[:n1, :, n1:] == 0) and np.all(P[n1 : S - t, :, :n1] == 0)
    assert np.all(P[n1 : S - t, :, S - t :] == 0)


def test_random_multichain_sizes_and_errors():
    m = random_multichain(7, 2, sizes=(2, 4), transient=1, seed=0)
    P = m.dense_P()
    assert np.all(P[:2, :, 2:] == 0) and np.all(P[2:6, :, :2] == 0)
    with pytest.raises(InvalidArgumentError, match="do not add up to S = 7"):
        random_multichain(7, 2, sizes=(2, 2))
    with pytest.raises(InvalidArgumentError, match="S = 1"):
        random_multichain(1, 2)
    with pytest.raises(InvalidArgumentError, match="transient = 5"):
        random_multichain(6, 2, transient=5)
    with pytest.raises(InvalidArgumentError, match="sizes"):
        random_multichain(6, 2, sizes=3)
