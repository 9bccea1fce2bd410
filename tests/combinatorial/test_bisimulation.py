"""The generic partition-refinement bisimulation on small hand-made and random stochastic MDPs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdpkit
from mdpkit import combinatorial as C
from mdpkit.errors import InvalidArgumentError


def _random_model(rng: np.random.Generator, S: int, A: int) -> tuple[np.ndarray, np.ndarray]:
    P = rng.integers(0, 3, size=(S, A, S)).astype(float) + (rng.random((S, A, S)) < 0.2)
    P[P.sum(axis=2) == 0, 0] = 1.0
    P /= P.sum(axis=2, keepdims=True)
    return P, rng.integers(0, 3, size=(S, A)).astype(float)


def _lift(P: np.ndarray, R: np.ndarray, copies: np.ndarray, rng: np.random.Generator):
    """A bigger model in which state s of (P, R) is split into copies[s] states sharing its behaviour:
    each transition mass P[s, a, t] is spread at random over the copies of t."""
    S, A = R.shape
    owner = np.repeat(np.arange(S), copies)
    N = owner.shape[0]
    Q = np.zeros((N, A, N))
    for i in range(N):
        for a in range(A):
            for t in range(S):
                w = rng.random(copies[t])
                w /= w.sum()
                Q[i, a, owner == t] = P[owner[i], a, t] * w
    return Q, R[owner], owner


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(1, 6), A=st.integers(1, 3))
def test_lifted_model_collapses_to_the_base_model(seed, S, A):
    rng = np.random.default_rng(seed)
    P, R = _random_model(rng, S, A)
    base = C.coarsest_bisimulation((P, R))
    copies = rng.integers(1, 4, size=S)
    Q, RQ, owner = _lift(P, R, copies, rng)
    lifted = C.coarsest_bisimulation((Q, RQ), decimals=10)
    assert C.is_bisimulation((Q, RQ), lifted, decimals=10)
    # copies of one state are bisimilar, and the lifted partition is the base partition pulled back
    assert C.same_partition(lifted, base[owner])


def test_known_partition_and_non_bisimulations():
    # states 0, 1 both go to 2 with reward 1; 2 loops with reward 0; 3 goes to 2 with reward 2
    P = np.zeros((4, 1, 4))
    P[[0, 1, 2, 3], 0, 2] = 1.0
    R = np.array([[1.0], [1.0], [0.0], [2.0]])
    labels = C.coarsest_bisimulation((P, R))
    assert labels.tolist() == [0, 0, 1, 2]
    assert not C.is_bisimulation((P, R), np.zeros(4, dtype=int))
    assert C.is_bisimulation((P, R), np.arange(4))  # the identity is always a bisimulation
    # distributions matter, not supports: 0 -> (1/2, 1/2) over {a, b}, 1 -> (1/3, 2/3); a, b differ
    P = np.zeros((4, 1, 4))
    P[0, 0, 2:] = [0.5, 0.5]
    P[1, 0, 2:] = [1 / 3, 2 / 3]
    P[2, 0, 2] = P[3, 0, 3] = 1.0
    R = np.array([[0.0], [0.0], [0.0], [1.0]])
    assert C.coarsest_bisimulation((P, R)).tolist() == [0, 1, 2, 3]
    R[3] = 0.0  # now a and b are bisimilar, so 0 and 1 are too
    assert C.coarsest_bisimulation((P, R)).tolist() == [0, 0, 0, 0]


def test_feasibility_is_part_of_the_signature_and_quotient_preserves_values():
    P = np.zeros((3, 2, 3))
    P[:, :, 2] = 1.0
    R = np.array([[1.0, -np.inf], [1.0, 5.0], [0.0, 0.0]])
    mdp = mdpkit.TabularMDP(P, R, 0.9)
    labels = C.coarsest_bisimulation(mdp)
    assert labels[0] != labels[1]
    R2 = np.array([[1.0, 0.5], [1.0, 0.5], [0.0, 0.0]])
    m2 = mdpkit.TabularMDP(P, R2, 0.9, initial=[0.5, 0.5, 0.0])
    lab2 = C.coarsest_bisimulation(m2)
    q = C.quotient(m2, lab2)
    assert q.S == 2
    V = mdpkit.solve(m2, method="pi").V
    np.testing.assert_allclose(mdpkit.solve(q, method="pi").V[lab2], V, atol=1e-10)
    with pytest.raises(InvalidArgumentError, match="not a bisimulation"):
        C.quotient(m2, np.zeros(3, dtype=int))
    assert C.same_partition([0, 0, 1], [5, 5, 2]) and not C.same_partition([0, 0, 1], [0, 1, 1])
