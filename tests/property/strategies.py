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


# =========================================================================== batches of same-shape models
# Added for the torch twin (tests/property/test_torch_twin.py); the strategies above are unchanged.


@st.composite
def tabular_mdp_batches(
    draw, max_B: int = 4, max_S: int = 6, max_A: int = 3, sparse: bool | None = None
) -> list[mdpkit.TabularMDP]:
    """1..max_B random :class:`mdpkit.TabularMDP` with one (S, A) and their own discounts, maybe infeasible
    pairs (dense or CSR; ``stack_models`` densifies)."""
    S = draw(st.integers(1, max_S))
    A = draw(st.integers(1, max_A))
    B = draw(st.integers(1, max_B))
    models = []
    for _ in range(B):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        P = draw(kernels(S, A, rng))
        R = rng.normal(size=(S, A)) * draw(st.sampled_from([1.0, 10.0]))
        if draw(st.booleans()):
            R = np.round(R)
        mask = None
        if A > 1 and draw(st.booleans()):
            mask = rng.random((S, A)) < 0.7
            mask[np.arange(S), rng.integers(0, A, S)] = True
        g = draw(st.sampled_from([0.0, 0.5, 0.9, 0.99]))
        use_sparse = draw(st.booleans()) if sparse is None else sparse
        Pm = sp.csr_matrix(P.reshape(S * A, S)) if use_sparse else P
        models.append(mdpkit.TabularMDP(Pm, R, g, mask=mask))
    return models


@st.composite
def finite_horizon_batches(
    draw, max_B: int = 3, max_S: int = 5, max_A: int = 3, max_H: int = 5
) -> list[mdpkit.FiniteHorizonMDP]:
    """1..max_B random time-indexed :class:`mdpkit.FiniteHorizonMDP` with one (H, S, A)."""
    S = draw(st.integers(1, max_S))
    A = draw(st.integers(1, max_A))
    H = draw(st.integers(1, max_H))
    B = draw(st.integers(1, max_B))
    models = []
    for _ in range(B):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        P = np.stack([draw(kernels(S, A, rng)) for _ in range(H)])
        R = rng.normal(size=(H, S, A))
        mask = None
        if A > 1 and draw(st.booleans()):
            mask = rng.random((H, S, A)) < 0.7
            mask[:, np.arange(S), rng.integers(0, A, S)] = True
        models.append(mdpkit.FiniteHorizonMDP(P, R, H, terminal=rng.normal(size=S), mask=mask))
    return models


# =========================================================================== core identities
# Added for tests/property/test_core_identities.py; the strategies above are unchanged.


@st.composite
def feasible_policies(draw, mask: np.ndarray) -> np.ndarray:
    """A policy that uses feasible actions only, for a mask of shape (S, A) or (H, S, A).

    Returns a deterministic int array (mask.shape[:-1]) or a stochastic array (mask.shape) whose rows are
    Dirichlet draws on the feasible actions (sometimes one-hot, sometimes sparse).
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lead = mask.shape[:-1]
    if draw(st.booleans()):
        out = np.empty(lead, dtype=np.int64)
        for idx in np.ndindex(*lead):
            out[idx] = rng.choice(np.flatnonzero(mask[idx]))
        return out
    alpha = draw(st.sampled_from([0.3, 1.0]))
    w = rng.gamma(alpha, size=mask.shape) * mask
    w[w.sum(axis=-1) == 0] = mask[w.sum(axis=-1) == 0]  # every row keeps some feasible mass
    return w / w.sum(axis=-1, keepdims=True)


@st.composite
def tiny_finite_horizon_mdps(draw, max_S: int = 3, max_A: int = 3, max_H: int = 3) -> mdpkit.FiniteHorizonMDP:
    """A finite-horizon model small enough to enumerate every deterministic Markov policy
    (at most 512 of them): stationary dense, stationary CSR or time-indexed kernels; rewards (H, S, A),
    (S, A) or (S, A, S); stage-dependent infeasible pairs; a terminal reward; maybe a random initial
    distribution."""
    S = draw(st.integers(1, max_S))
    H = draw(st.integers(1, max_H))
    A = draw(st.integers(1, max_A if S * H <= 5 else 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    form = draw(st.sampled_from(["dense", "csr", "time-indexed"]))
    if form == "time-indexed":
        P = np.stack([draw(kernels(S, A, rng)) for _ in range(H)])
    else:
        P = draw(kernels(S, A, rng))
        if form == "csr":
            P = sp.csr_matrix(P.reshape(S * A, S))
    # a 3-d R is ambiguous when H == S == A (both (H, S, A) and (S, A, S)): use the 2-d form then
    rform = draw(st.sampled_from(["HSA", "SA", "SAS"])) if not (H == S == A) else "SA"
    R = rng.normal(size={"HSA": (H, S, A), "SA": (S, A), "SAS": (S, A, S)}[rform])
    mask = None
    if A > 1 and draw(st.booleans()):
        mask = rng.random((H, S, A)) < 0.6
        mask[:, np.arange(S), rng.integers(0, A, S)] = True
    mu = rng.dirichlet(np.ones(S)) if draw(st.booleans()) else None
    return mdpkit.FiniteHorizonMDP(P, R, H, initial=mu, terminal=rng.normal(size=S), mask=mask)


@st.composite
def multichain_mdps(draw, max_block: int = 4, max_A: int = 3) -> mdpkit.TabularMDP:
    """A model with two closed blocks that never communicate, whose optimal gains differ: rewards lie in
    [0, 0.4) in the first block and in [0.6, 1) in the second, so rho_1 < 0.4 < 0.6 <= rho_2. Optionally a
    transient "trap" state that chooses which block to enter."""
    n1 = draw(st.integers(1, max_block))
    n2 = draw(st.integers(1, max_block))
    A = draw(st.integers(1, max_A))
    trap = draw(st.booleans()) and A > 1
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    S = n1 + n2 + int(trap)
    P = np.zeros((S, A, S))
    P[:n1, :, :n1] = draw(kernels(n1, A, rng))
    P[n1 : n1 + n2, :, n1 : n1 + n2] = draw(kernels(n2, A, rng))
    R = rng.random((S, A)) * 0.4
    R[n1 : n1 + n2] += 0.6
    if trap:
        P[S - 1, 0, rng.integers(0, n1)] = 1.0
        P[S - 1, 1:, n1 + rng.integers(0, n2)] = 1.0
    return mdpkit.TabularMDP(P, R, None)
