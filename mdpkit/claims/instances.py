r"""Small test instances for claim checks: seeded random models, random policies, built-in families.

Checks draw their instances from here so that a verdict depends only on ``(budget.seed, claim id)``. The
random families are deliberately plain (dense Dirichlet-like rows with random supports), independent of
:mod:`mdpkit.envs`; :func:`builtin_instances` adds the textbook families of :mod:`mdpkit.envs` when that
package imports (each family that fails to build is reported, never silently dropped).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp

from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidArgumentError

__all__ = [
    "random_kernel",
    "random_mdp",
    "dyadic_mdp",
    "dyadic_round",
    "random_communicating_mdp",
    "random_policy",
    "builtin_instances",
    "float_tolerance",
    "numba_threads",
]


def random_kernel(rng: np.random.Generator, S: int, A: int, sharpness: float = 1.0) -> np.ndarray:
    r"""A dense kernel (S, A, S) with random supports of 1..S successors and weights :math:`u^{k} + 10^{-3}`.

    ``sharpness`` is the exponent :math:`k` applied to uniform draws :math:`u`; larger values concentrate
    the mass on few successors (near-deterministic rows).
    """
    if S < 1 or A < 1:
        raise InvalidArgumentError(f"S = {S} and A = {A} must be at least 1")
    P = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            k = int(rng.integers(1, S + 1))
            succ = rng.choice(S, size=k, replace=False)
            w = rng.random(k) ** sharpness + 1e-3
            P[s, a, succ] = w / w.sum()
    return P


def random_mdp(
    rng: np.random.Generator,
    S: int,
    A: int,
    gamma: float | None,
    *,
    sparse: bool = False,
    infeasible: bool = False,
    reward_scale: float = 1.0,
    integer_rewards: bool = False,
    sharpness: float = 1.0,
    random_initial: bool = False,
) -> TabularMDP:
    r"""A random :class:`~mdpkit.TabularMDP` (:func:`random_kernel`, Gaussian rewards).

    Parameters
    ----------
    rng : numpy Generator
    S, A : int
    gamma : float or None
    sparse : bool
        Store ``P`` as CSR (S*A, S).
    infeasible : bool
        Make about 30% of the pairs infeasible (every state keeps at least one action).
    reward_scale : float
        Standard deviation of :math:`r(s, a) \sim N(0, \sigma^2)`.
    integer_rewards : bool
        Round rewards to integers (creates ties between actions).
    sharpness : float
        See :func:`random_kernel`.
    random_initial : bool
        Draw :math:`\mu` from a flat Dirichlet instead of uniform.
    """
    P = random_kernel(rng, S, A, sharpness)
    R = rng.normal(size=(S, A)) * reward_scale
    if integer_rewards:
        R = np.round(R)
    mask = None
    if infeasible and A > 1:
        mask = rng.random((S, A)) < 0.7
        mask[np.arange(S), rng.integers(0, A, S)] = True
    mu = rng.dirichlet(np.ones(S)) if random_initial else None
    Pm = sp.csr_matrix(P.reshape(S * A, S)) if sparse else P
    return TabularMDP(Pm, R, gamma, initial=mu, mask=mask)


def dyadic_round(W: np.ndarray, bits: int = 10) -> np.ndarray:
    r"""Round the rows (last axis) of a stochastic array to multiples of :math:`2^{-b}` that sum to 1.

    ``b = bits``. The sums are exactly 1 in floating point; each entry moves by less than :math:`2^{-b}` and
    zero entries stay zero (the support can only shrink), so a policy keeps respecting its action sets.
    """
    W = np.asarray(W, dtype=np.float64)
    D = 2**bits
    K = np.floor(W * D).astype(np.int64)
    short = D - K.sum(axis=-1)
    # hand the missing units to the largest remainders, so the rounding error stays below 2**-bits per entry
    rem = np.where(W > 0, W * D - K, -1.0)
    order = np.argsort(-rem, axis=-1, kind="stable")
    ranks = np.argsort(order, axis=-1, kind="stable")
    K += ranks < short[..., None]
    return K / D


def dyadic_mdp(
    rng: np.random.Generator,
    S: int,
    A: int,
    gamma: float | None,
    *,
    bits: int = 10,
    reward_bits: int = 4,
    sparse: bool = False,
    infeasible: bool = False,
    random_initial: bool = False,
) -> TabularMDP:
    r"""A random model whose float entries are *exact* dyadic rationals.

    Transition probabilities are multiples of :math:`2^{-\text{bits}}` with rows summing to exactly 1 in
    floating point, rewards multiples of :math:`2^{-\text{reward\_bits}}` in [-4, 4], the initial
    distribution multiples of :math:`2^{-\text{bits}}`. The float model therefore equals its exact rational
    copy (:func:`mdpkit.claims.exact.rationalize` with ``max_denominator=None`` changes nothing), which lets
    a check compare float solvers with exact arithmetic on *the same* model.
    """
    P = dyadic_round(random_kernel(rng, S, A), bits)
    R = np.round(rng.uniform(-4, 4, size=(S, A)) * 2**reward_bits) / 2**reward_bits
    mask = None
    if infeasible and A > 1:
        mask = rng.random((S, A)) < 0.7
        mask[np.arange(S), rng.integers(0, A, S)] = True
    mu = dyadic_round(rng.dirichlet(np.ones(S)), bits) if random_initial else None
    Pm = sp.csr_matrix(P.reshape(S * A, S)) if sparse else P
    return TabularMDP(Pm, R, gamma, initial=mu, mask=mask)


def random_communicating_mdp(
    rng: np.random.Generator,
    S: int,
    A: int,
    *,
    periodic: bool = False,
    infeasible: bool = False,
) -> TabularMDP:
    r"""A random communicating model (``gamma=None``): action 0 follows a random Hamiltonian cycle.

    Action 0 moves to the cycle successor with probability at least 0.1 (``periodic=True``: exactly 1, so
    that the policy "always action 0" induces a periodic chain of period S). Other actions are random rows
    (:func:`random_kernel`). Rewards are uniform on [0, 1). With ``infeasible`` some actions other than 0 are
    removed; action 0 stays, so the model stays communicating.
    """
    P = random_kernel(rng, S, A)
    cycle = rng.permutation(S)
    nxt = np.empty(S, dtype=int)
    nxt[cycle] = np.roll(cycle, -1)
    if periodic:
        P[:, 0, :] = 0.0
        P[np.arange(S), 0, nxt] = 1.0
    else:
        P[:, 0, :] *= 0.9
        P[np.arange(S), 0, nxt] += 0.1
    R = rng.random((S, A))
    mask = None
    if infeasible and A > 1:
        mask = rng.random((S, A)) < 0.7
        mask[:, 0] = True
    return TabularMDP(P, R, None, mask=mask)


def random_policy(
    rng: np.random.Generator, mdp: TabularMDP, deterministic: bool = False, concentration: float = 1.0
) -> np.ndarray:
    r"""A random policy of ``mdp`` respecting its action sets.

    Returns an int array (S,) when ``deterministic``, else a stochastic matrix (S, A) whose feasible entries
    are Dirichlet(``concentration``) draws (small concentrations give near-deterministic rows).
    """
    S, A, mask = mdp.S, mdp.A, mdp.mask
    if deterministic:
        return np.array([rng.choice(np.flatnonzero(mask[s])) for s in range(S)], dtype=np.int64)
    pi = np.zeros((S, A))
    for s in range(S):
        feas = np.flatnonzero(mask[s])
        pi[s, feas] = rng.dirichlet(np.full(feas.size, concentration))
    return pi


def builtin_instances(gamma: float | None) -> tuple[list[tuple[str, TabularMDP]], list[str]]:
    """The textbook families of :mod:`mdpkit.envs` at discount ``gamma`` (None: average reward).

    Returns
    -------
    instances : list of (name, TabularMDP)
        RiverSwim (6 and 20 states), Puterman's two-state example, a 4x4 slippery grid world and the IWOCS
        windy walk, for each family that :mod:`mdpkit.envs` provides.
    problems : list of str
        One line per family that could not be built (``mdpkit.envs`` missing, or the constructor raised),
        to be reported in a verdict's evidence.
    """
    try:
        from mdpkit import envs
    except Exception as exc:  # the package is optional for the claims engine
        return [], [f"mdpkit.envs unavailable ({type(exc).__name__}: {exc})"]
    builders: list[tuple[str, Callable[[], TabularMDP]]] = [
        ("riverswim(6)", lambda: envs.riverswim(6, gamma=gamma)),
        ("riverswim(20)", lambda: envs.riverswim(20, gamma=gamma)),
        ("two_state_puterman", lambda: envs.two_state_puterman(gamma=gamma)),
        ("gridworld(4x4, slip=0.2)", lambda: envs.gridworld(4, 4, goal=(3, 3), slip=0.2, gamma=gamma)),
        ("windy_walk(0.3)", lambda: envs.windy_walk(0.3, gamma=gamma)),
    ]
    out: list[tuple[str, TabularMDP]] = []
    problems: list[str] = []
    for name, build in builders:
        try:
            out.append((name, build()))
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    return out, problems


def float_tolerance(S: int, gamma: float, scale: float) -> float:
    r"""Rounding tolerance of a float64 computation of discounted values of magnitude ``scale``.

    .. math:: \epsilon_{\mathrm{tol}} = 8\,S\,\epsilon_{\mathrm{mach}}\,(1 + \mathrm{scale}) / (1 - \gamma)

    A backward-stable solve of :math:`(I - \gamma P_\pi) V = r` has relative error at most
    :math:`\kappa\,O(S\,\epsilon_{\mathrm{mach}})` with :math:`\kappa_\infty \le (1+\gamma)/(1-\gamma)`
    (Higham 2002, Thm 9.5); the factor 8 covers the few further operations of an identity (sums of S terms,
    products with occupancies). Checks report their worst error / allowance ratio.
    """
    return 8.0 * S * np.finfo(np.float64).eps * (1.0 + scale) / (1.0 - gamma)


@contextlib.contextmanager
def numba_threads(n: int = 1) -> Iterator[None]:
    """Run a block with at most ``n`` numba threads (the previous count is restored afterwards).

    The exact solvers' kernels are ``parallel=True``: each Bellman sweep pays a thread synchronisation, which
    dominates on the tiny models of a check (measured on a loaded 2-core machine: ~120 us per sweep with 2
    threads against ~0.7 us serially for S = 54, A = 1). Checks on small models run serially under this.
    """
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), old)))
    try:
        yield
    finally:
        numba.set_num_threads(old)
