"""Hypothesis strategies for random valid models (shared by every property test).

Draws cover dense and CSR kernels, deterministic and near-degenerate rows (a single successor), infeasible
pairs (state-dependent action sets), and discounts close to 1.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

import mdpkit


@st.composite
def kernels(draw, S: int, A: int, rng: np.random.Generator) -> np.ndarray:
    """A dense kernel (S, A, S): random supports (1..S successors), Dirichlet-like weights."""
    P = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            k = int(rng.integers(1, S + 1))
            succ = rng.choice(S, size=k, replace=False)
            w = rng.random(k) ** draw(st.sampled_from([1.0, 3.0]))
            w = w + 1e-3
            P[s, a, succ] = w / w.sum()
    return P


@st.composite
def tabular_mdps(
    draw,
    max_S: int = 8,
    max_A: int = 4,
    gamma: st.SearchStrategy[float] | None = None,
    sparse: bool | None = None,
    infeasible: bool = True,
) -> mdpkit.TabularMDP:
    """A random valid :class:`mdpkit.TabularMDP` (dense or CSR, maybe with infeasible pairs)."""
    S = draw(st.integers(1, max_S))
    A = draw(st.integers(1, max_A))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    P = draw(kernels(S, A, rng))
    R = rng.normal(size=(S, A)) * draw(st.sampled_from([1.0, 10.0]))
    if draw(st.booleans()):
        R = np.round(R)  # ties between actions
    mask = None
    if infeasible and A > 1 and draw(st.booleans()):
        mask = rng.random((S, A)) < 0.7
        mask[np.arange(S), rng.integers(0, A, S)] = True
    g = draw(gamma if gamma is not None else st.sampled_from([0.0, 0.5, 0.9, 0.99]))
    use_sparse = draw(st.booleans()) if sparse is None else sparse
    Pm = sp.csr_matrix(P.reshape(S * A, S)) if use_sparse else P
    return mdpkit.TabularMDP(Pm, R, g, mask=mask)


@st.composite
def finite_horizon_mdps(draw, max_S: int = 6, max_A: int = 3, max_H: int = 6) -> mdpkit.FiniteHorizonMDP:
    """A random time-indexed finite-horizon model."""
    S = draw(st.integers(1, max_S))
    A = draw(st.integers(1, max_A))
    H = draw(st.integers(1, max_H))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    P = np.stack([draw(kernels(S, A, rng)) for _ in range(H)])
    R = rng.normal(size=(H, S, A))
    return mdpkit.FiniteHorizonMDP(P, R, H, terminal=rng.normal(size=S))


@st.composite
def communicating_mdps(draw, max_S: int = 8, max_A: int = 3) -> mdpkit.TabularMDP:
    """A random communicating model: action 0 follows a random cycle through all states with prob. >= 0.1."""
    S = draw(st.integers(1, max_S))
    A = draw(st.integers(1, max_A))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    P = draw(kernels(S, A, rng))
    cycle = rng.permutation(S)
    nxt = np.empty(S, dtype=int)
    nxt[cycle] = np.roll(cycle, -1)
    P[np.arange(S), 0, :] *= 0.9
    P[np.arange(S), 0, nxt] += 0.1
    R = rng.random((S, A))
    return mdpkit.TabularMDP(P, R, None)
