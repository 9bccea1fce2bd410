r"""Random MDP families: GARNET, dense random models, guaranteed communicating and multichain models.

Every family draws from ``np.random.default_rng(seed)`` (or from the Generator passed as ``seed``) in a fixed,
documented order, so one seed gives the same bits on every platform numpy supports, and the same model
whether it is stored dense or as CSR.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from mdpkit.core.model import TabularMDP
from mdpkit.envs._common import as_rng, check_gamma, check_int, check_prob, use_sparse
from mdpkit.errors import InvalidArgumentError

__all__ = ["garnet", "dense_random", "random_communicating", "random_multichain"]

#: Largest number of uniform keys drawn at once by the exact random-key subset sampler.
_KEY_BLOCK = 1 << 22


def _distinct_successors(rng: np.random.Generator, n: int, S: int, b: int) -> np.ndarray:
    r"""``n`` independent uniform ``b``-subsets of ``{0, ..., S-1}``, as an int64 array (n, b), rows sorted.

    Two exact samplers, chosen from ``(n, S, b)`` only (never from the storage format, so dense and CSR
    models of one seed are identical):

    * random keys (``b`` smallest of ``S`` i.i.d. uniforms, in row blocks) when ``4 b >= S`` or the key
      matrix is small (``n S <= 2^22``);
    * otherwise rejection: draw ``b`` i.i.d. uniform states per row and redraw the rows holding a repeat.
      A row is accepted with probability :math:`\prod_{i<b}(1 - i/S) \ge 1 - b^2/(2S)`, so few rounds run.
    """
    if b == S:
        return np.broadcast_to(np.arange(S, dtype=np.int64), (n, S)).copy()
    if 4 * b >= S or n * S <= _KEY_BLOCK:
        out = np.empty((n, b), dtype=np.int64)
        step = max(1, _KEY_BLOCK // S)
        for i in range(0, n, step):
            keys = rng.random((min(step, n - i), S))
            out[i : i + step] = np.argpartition(keys, b - 1, axis=1)[:, :b]
        out.sort(axis=1)
        return out
    out = rng.integers(0, S, size=(n, b), dtype=np.int64)
    out.sort(axis=1)
    bad = (np.diff(out, axis=1) == 0).any(axis=1)
    while bad.any():
        redo = np.flatnonzero(bad)
        fresh = rng.integers(0, S, size=(redo.size, b), dtype=np.int64)
        fresh.sort(axis=1)
        out[redo] = fresh
        bad[redo] = (np.diff(fresh, axis=1) == 0).any(axis=1)
    return out


def _uniform_gaps(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """Rows of the ``b`` gaps of ``b-1`` sorted uniform cut points of [0, 1] (flat Dirichlet draws)."""
    cuts = np.sort(rng.random((n, b - 1)), axis=1)
    edges = np.concatenate([np.zeros((n, 1)), cuts, np.ones((n, 1))], axis=1)
    return np.diff(edges, axis=1)


def _rows_to_kernel(indices: np.ndarray, data: np.ndarray, S: int, A: int, sparse: bool):
    """Kernel from ``b`` successors per row (row ``s*A + a``): CSR (S*A, S) or dense (S, A, S)."""
    n, b = indices.shape
    if sparse:
        indptr = np.arange(0, n * b + 1, b, dtype=np.int64)
        return sp.csr_matrix((data.ravel(), indices.ravel(), indptr), shape=(n, S))
    P = np.zeros((n, S))
    np.put_along_axis(P, indices, data, axis=1)
    return P.reshape(S, A, S)


def garnet(
    S: int,
    A: int,
    branching: int,
    gamma: float | None = 0.95,
    seed: int | np.random.Generator = 0,
    sparse: bool | None = None,
    reward: str = "uniform",
) -> TabularMDP:
    r"""A GARNET random MDP ("Generic Average Reward Non-stationary Environment Testbed").

    For every pair :math:`(s, a)` independently:

    1. its successors are ``branching`` distinct states drawn uniformly without replacement;
    2. their probabilities are the gaps :math:`u_{(1)} - 0, u_{(2)} - u_{(1)}, \dots, 1 - u_{(b-1)}` of
       ``branching - 1`` sorted i.i.d. :math:`U[0, 1]` cut points (a flat Dirichlet draw), assigned to the
       successors in increasing state order; every other :math:`P(s'|s, a)` is 0;
    3. the reward is :math:`r(s, a) \sim U[0, 1]` (``reward="uniform"``) or :math:`\mathcal N(0, 1)`
       (``reward="normal"``).

    Draw order: all successor sets (rows :math:`s A + a` in order), then all gaps, then all rewards.

    Parameters
    ----------
    S, A : int
        Numbers of states and actions (at least 1).
    branching : int
        Successors per pair, :math:`1 \le b \le S`.
    gamma : float or None
        Discount factor (None for average-reward use).
    seed : int or numpy Generator
        Randomness; a Generator is advanced.
    sparse : bool or None
        Store ``P`` as CSR (S*A, S) (built directly, no dense array ever exists) when True, dense when
        False, and CSR iff :math:`S \cdot A \cdot S > 5 \cdot 10^6` when None. The model is the same
        either way.
    reward : {"uniform", "normal"}
        Reward distribution.

    Returns
    -------
    TabularMDP
        Uniform initial distribution.

    References
    ----------
    Archibald, McKinnon & Thomas, "On the generation of Markov decision processes", J. Oper. Res. Soc. 46
    (1995); Bhatnagar, Sutton, Ghavamzadeh & Lee, "Natural actor-critic algorithms", Automatica 45 (2009),
    section 6 (GARNET problems).
    """
    S = check_int(S, "S")
    A = check_int(A, "A")
    b = check_int(branching, "branching", 1, S)
    g = check_gamma(gamma)
    if reward not in ("uniform", "normal"):
        raise InvalidArgumentError(f"reward = {reward!r} is not one of 'uniform', 'normal'")
    sparse_ = use_sparse(sparse, S, A)
    rng = as_rng(seed)
    n = S * A
    succ = _distinct_successors(rng, n, S, b)
    probs = _uniform_gaps(rng, n, b)
    R = rng.random((S, A)) if reward == "uniform" else rng.standard_normal((S, A))
    return TabularMDP(_rows_to_kernel(succ, probs, S, A, sparse_), R, g)


def dense_random(
    S: int, A: int, gamma: float | None = 0.95, seed: int | np.random.Generator = 0
) -> TabularMDP:
    r"""A dense random MDP: every row a full-support distribution of normalised uniforms.

    .. math:: P(s'|s, a) = \frac{u_{s a s'}}{\sum_{t} u_{s a t}}, \qquad r(s, a) = v_{s a},
              \qquad u, v \overset{iid}{\sim} U[0, 1),

    drawn in that order (``u`` as one (S, A, S) array, then ``v`` as (S, A)). Every row has full support
    almost surely. This is the random model of QuantEcon's ``DiscreteDP`` benchmarks; ``P`` is a float64
    C-contiguous (S, A, S) array.

    Parameters
    ----------
    S, A : int
        Numbers of states and actions.
    gamma : float or None
        Discount factor.
    seed : int or numpy Generator
        Randomness.

    References
    ----------
    QuantEcon.py, ``quantecon.markov.ddp`` (``DiscreteDP``) and its random test models.
    """
    S = check_int(S, "S")
    A = check_int(A, "A")
    g = check_gamma(gamma)
    rng = as_rng(seed)
    P = rng.random((S, A, S))
    P /= P.sum(axis=2, keepdims=True)
    R = rng.random((S, A))
    return TabularMDP(P, R, g)


def random_communicating(
    S: int,
    A: int,
    seed: int | np.random.Generator = 0,
    gamma: float | None = None,
    density: float = 0.2,
    sparse: bool | None = None,
) -> TabularMDP:
    r"""A random MDP that is communicating by construction.

    Construction (draw order as listed):

    1. a uniformly random cyclic order :math:`\sigma` of the states (``rng.permutation``), i.e. a
       Hamiltonian cycle :math:`s \to \sigma(s)`;
    2. for every pair :math:`(s, a)`: :math:`k = \max(1, \lceil \text{density} \cdot S \rceil)` distinct
       uniform successors with flat-Dirichlet probabilities (as in :func:`garnet`), giving a row :math:`q`;
    3. for every state, a weight :math:`c_s \sim U[0.05, 1)`, and action 0 becomes
       :math:`P(\cdot|s, 0) = (1 - c_s)\, q(\cdot|s, 0) + c_s\, \delta_{\sigma(s)}`;
    4. rewards :math:`r(s, a) \sim U[0, 1)`.

    Under the policy "always action 0" the chain contains the cycle, hence is irreducible; so every
    state reaches every other under some policy: the model is communicating (Puterman 1994, §8.3.1)
    and its optimal gain is constant.

    Parameters
    ----------
    S, A : int
        Numbers of states and actions.
    seed : int or numpy Generator
        Randomness.
    gamma : float or None
        Discount factor; None (the default) for average-reward use.
    density : float in (0, 1]
        Fraction of states that are successors of a pair (before the cycle edge is added).
    sparse : bool or None
        Storage rule of :func:`garnet`.

    References
    ----------
    Puterman, *Markov Decision Processes* (1994), §8.3 (classification of MDPs).
    """
    S = check_int(S, "S")
    A = check_int(A, "A")
    g = check_gamma(gamma)
    density = check_prob(density, "density")
    if density == 0.0:
        raise InvalidArgumentError("density = 0.0 must be in (0, 1]")
    sparse_ = use_sparse(sparse, S, A)
    rng = as_rng(seed)
    order = rng.permutation(S)
    sigma = np.empty(S, dtype=np.int64)
    sigma[order] = np.roll(order, -1)
    k = max(1, math.ceil(density * S))
    n = S * A
    succ = _distinct_successors(rng, n, S, k)
    probs = _uniform_gaps(rng, n, k)
    c = 0.05 + 0.95 * rng.random(S)
    R = rng.random((S, A))
    rows0 = np.arange(S) * A  # the rows of action 0
    probs[rows0] *= (1.0 - c)[:, None]
    rows = np.concatenate([np.repeat(np.arange(n), k), rows0])
    cols = np.concatenate([succ.ravel(), sigma])
    vals = np.concatenate([probs.ravel(), c])
    P = sp.csr_matrix((vals, (rows, cols)), shape=(n, S))
    P.sum_duplicates()
    return TabularMDP(P if sparse_ else P.toarray().reshape(S, A, S), R, g)


def random_multichain(
    S: int,
    A: int,
    seed: int | np.random.Generator = 0,
    gamma: float | None = None,
    sizes: tuple[int, int] | None = None,
    transient: int = 0,
) -> TabularMDP:
    r"""A random multichain MDP: two closed classes whose gains differ under every policy.

    States ``0 .. n1-1`` form class :math:`C_1`, states ``n1 .. n1+n2-1`` class :math:`C_2`, and the last
    ``transient`` states are transient under every policy. Construction (draw order as listed):

    1. for :math:`s \in C_i` and every action, :math:`P(\cdot|s, a)` is a full-support distribution of
       normalised uniforms *on* :math:`C_i` (zero outside): each class is closed and, under any policy,
       irreducible (one recurrent class);
    2. for a transient :math:`s`: :math:`P(\cdot|s, a) = \tfrac12 q_T + \tfrac12 q_C` with
       :math:`q_T`, :math:`q_C` normalised uniforms on the transient states and on :math:`C_1 \cup C_2`:
       every step leaves the transient set with probability at least 1/2, so no policy keeps a closed
       class there;
    3. rewards :math:`r \sim U[0, 0.4)` on :math:`C_1`, :math:`U[0.6, 1)` on :math:`C_2`, :math:`U[0, 1)` on
       the transient states.

    Hence for every stationary policy :math:`\pi` the gain is :math:`g^\pi \le 0.4` on :math:`C_1` and
    :math:`\ge 0.6` on :math:`C_2`: the optimal gain is not constant (Puterman 1994, §8.3 and §9.1), the
    model is neither communicating nor weakly communicating, and :func:`mdpkit.average_reward` must raise
    :class:`~mdpkit.MultichainError`. ``P`` is dense.

    Parameters
    ----------
    S, A : int
        Numbers of states (at least 2) and actions.
    seed : int or numpy Generator
        Randomness.
    gamma : float or None
        Discount factor; None by default.
    sizes : (int, int), optional
        Class sizes ``(n1, n2)``, each at least 1, with ``n1 + n2 + transient == S``. Default: the
        non-transient states split in halves (``n1 = (S - transient) // 2``).
    transient : int
        Number of transient states (default 0).

    References
    ----------
    Puterman, *Markov Decision Processes* (1994), §8.3 (classification), §9 (multichain models).
    """
    S = check_int(S, "S", 2)
    A = check_int(A, "A")
    g = check_gamma(gamma)
    t = check_int(transient, "transient", 0, S - 2)
    if sizes is None:
        n1 = (S - t) // 2
        n2 = S - t - n1
    else:
        try:
            n1, n2 = sizes
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"sizes = {sizes!r} must be a pair (n1, n2)") from None
        n1 = check_int(n1, "sizes[0]")
        n2 = check_int(n2, "sizes[1]")
        if n1 + n2 + t != S:
            raise InvalidArgumentError(f"sizes {(n1, n2)} plus transient = {t} do not add up to S = {S}")
    rng = as_rng(seed)
    P = np.zeros((S, A, S))
    R = np.empty((S, A))
    c1, c2, tr = slice(0, n1), slice(n1, n1 + n2), slice(n1 + n2, S)
    for cls in (c1, c2):
        u = rng.random((cls.stop - cls.start, A, cls.stop - cls.start))
        P[cls, :, cls] = u / u.sum(axis=2, keepdims=True)
    if t:
        qT = rng.random((t, A, t))
        qC = rng.random((t, A, n1 + n2))
        P[tr, :, tr] = 0.5 * qT / qT.sum(axis=2, keepdims=True)
        P[tr, :, : n1 + n2] = 0.5 * qC / qC.sum(axis=2, keepdims=True)
    R[c1] = 0.4 * rng.random((n1, A))
    R[c2] = 0.6 + 0.4 * rng.random((n2, A))
    R[tr] = rng.random((t, A))
    return TabularMDP(P, R, g)
