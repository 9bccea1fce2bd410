r"""Core solvers vs QuantEcon DiscreteDP and pymdptoolbox: time to an eps-optimal policy, sweep GB/s.

What is measured
----------------
For every model below and every solver of every library, the wall time (median of ``--repeat`` runs,
after a warm-up run on a toy model; model construction excluded for everyone) to return a policy
:math:`\pi` with

.. math:: \|V^* - V^{\pi}\|_\infty \le \varepsilon, \qquad
          \varepsilon = \texttt{eps\_rel} \cdot \max_{s,a} |r(s, a)| / (1 - \gamma)

(``--eps-rel``, default 1e-6: one millionth of the value scale). Each library gets its best method per
model; the ratio is *peer best time / our best time* (> 1: we are faster).

Every returned policy is checked, not trusted (:class:`Verifier`): its value :math:`v_\pi` is computed with
numpy/scipy only and certified by its residual :math:`\rho_\pi = \|r_\pi + \gamma P_\pi v_\pi - v_\pi\|`;
the reference :math:`V` (a tight mdpkit MPI solve) is certified by :math:`\rho_* = \|TV - V\|`, also
computed with scipy. A method passes iff
:math:`\text{gap} = \max_s (V(s) - v_\pi(s)) + (\rho_* + \rho_\pi)/(1-\gamma) \le \varepsilon`, a rigorous
upper bound on :math:`\|V^* - V^\pi\|_\infty` (column ``gap/eps``). Only passing methods enter the ratios.

The same guarantee for every library (Puterman 1994, Thm 6.3.1 and Thm 6.6.6)
------------------------------------------------------------------------------
* mdpkit ``solve(mdp, method, tol=eps)``: VI and MPI stop when
  :math:`\mathrm{sp}(Tv - v) \le \varepsilon(1-\gamma)`, which certifies the greedy policy (a factor
  :math:`\gamma` stricter than needed); PI is exact.
* QuantEcon ``DiscreteDP.solve(method, epsilon=eps, max_iter=10**9)``: its VI stops when
  :math:`\|Tv - v\| < \varepsilon(1-\beta)/(2\beta)` and its MPI when
  :math:`\mathrm{sp}(Tv - v) < \varepsilon(1-\beta)/\beta`; both certify their greedy policy as
  :math:`\varepsilon`-optimal, so ``epsilon = eps``. PI is exact. ``max_iter`` is raised from its default
  250, which would stop VI early on slow-mixing models. MPI uses its default ``k = 20``.
* pymdptoolbox ``ValueIteration(P, R, gamma, epsilon=eps)`` stops when
  :math:`\mathrm{sp}(V_n - V_{n-1}) < \varepsilon(1-\gamma)/\gamma` and returns the policy greedy with
  respect to :math:`V_{n-1}`: the same certificate, so ``epsilon = eps``; its iteration cap is lifted so
  that only the epsilon rule stops it. ``PolicyIterationModified(epsilon=eps, max_iter=20)`` (``max_iter``
  is its number of partial-evaluation sweeps: 20, as for the others) uses the same span rule.
  ``PolicyIteration`` (matrix evaluation) is exact.

Models (``--quick``: toy sizes for smoke tests, timings meaningless)
--------------------------------------------------------------------
* ``dense``: dense random, S=2000, A=10 (``mdpkit.envs.dense_random``). Flatters PI: every row has full
  support, so one or two evaluations solve it.
* ``garnet``: Garnet, S=20000, A=8, branching 5, CSR (``mdpkit.envs.garnet``); QuantEcon in its
  state-action-pair sparse form, pymdptoolbox with one scipy CSR matrix per action.
* ``gridworld``: 100x100 grid, slip 0.2, goal in a corner, CSR (``mdpkit.envs.gridworld``): slow mixing.
* ``riverswim``: RiverSwim(500), stored dense as ``mdpkit.envs.riverswim`` builds it: slow mixing.

All with gamma = 0.99. Isolation and time limits: every library runs outside this process, ours in a fresh
interpreter per case and backend (:func:`mdpkit.bench.run_fresh`; numba's OpenMP runtime is not fork-safe),
the peers in a forked child per method (:func:`mdpkit.bench.run_isolated`). A method that exceeds
``--budget`` seconds is killed and reported as ``> budget`` (a lower bound in the ratios).
pymdptoolbox's PI and MPI build dense S x S policy matrices; they are skipped when three of those would
exceed 4 GiB. The sweep table times one dense Bellman sweep (S=2000, A=10) of each library against the
memory bandwidth of a 512 MiB numpy copy measured in the same run.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

import mdpkit
from mdpkit.bench import (
    Isolated,
    Report,
    Table,
    environment,
    fmt,
    median,
    memory_bandwidth,
    run_fresh,
    run_isolated,
    time_repeats,
)
from mdpkit.core._ops import Operators
from mdpkit.errors import InvalidArgumentError

GAMMA = 0.99
OURS_METHODS = ("vi", "mpi", "pi")  # PI last: the slowest on large sparse models
QE_METHODS = ("value_iteration", "modified_policy_iteration", "policy_iteration")
QE_SHORT = {"value_iteration": "vi", "policy_iteration": "pi", "modified_policy_iteration": "mpi"}
MDPT_METHODS = ("ValueIteration", "PolicyIterationModified", "PolicyIteration")
MDPT_SHORT = {"ValueIteration": "vi", "PolicyIteration": "pi", "PolicyIterationModified": "mpi"}
MPI_SWEEPS = 20
#: pymdptoolbox PI/MPI hold about three dense S x S float64 matrices; skip above this many bytes.
MDPT_DENSE_LIMIT = 4 * 2**30
BIG_ITER = 10**9
PACKAGES = ("numpy", "scipy", "numba", "quantecon", "pymdptoolbox", "torch")


# --------------------------------------------------------------------------- models
@dataclass(frozen=True)
class Case:
    """One benchmark model: a name, a builder for full and quick sizes, and the speed-up goal vs QuantEcon."""

    name: str
    label: str
    full: dict[str, Any]
    quick: dict[str, Any]
    build: Callable[..., tuple[mdpkit.TabularMDP, str]]
    goal: float
    kind: str


def _env_fn(name: str) -> Callable[..., mdpkit.TabularMDP] | None:
    try:
        import mdpkit.envs as envs
    except ImportError:
        return None
    return getattr(envs, name, None)


def _dense_random(S: int, A: int, gamma: float, seed: int) -> tuple[mdpkit.TabularMDP, str]:
    f = _env_fn("dense_random")
    if f is not None:
        return f(S, A, gamma=gamma, seed=seed), "mdpkit.envs.dense_random"
    rng = np.random.default_rng(seed)  # same draw order as mdpkit.envs.dense_random
    P = rng.random((S, A, S))
    P /= P.sum(axis=2, keepdims=True)
    return mdpkit.TabularMDP(P, rng.random((S, A)), gamma), "inline dense_random"


def _garnet(S: int, A: int, branching: int, gamma: float, seed: int) -> tuple[mdpkit.TabularMDP, str]:
    f = _env_fn("garnet")
    if f is not None:
        return f(S, A, branching, gamma=gamma, seed=seed, sparse=True), "mdpkit.envs.garnet"
    rng = np.random.default_rng(seed)
    n = S * A
    succ = np.sort(np.argsort(rng.random((n, S)), axis=1)[:, :branching], axis=1) if S <= 2000 else None
    if succ is None:  # sample without replacement by rejection (branching << S)
        succ = np.empty((n, branching), dtype=np.int64)
        for i in range(n):
            succ[i] = np.sort(rng.choice(S, branching, replace=False))
    cuts = np.sort(rng.random((n, branching - 1)), axis=1)
    probs = np.diff(np.concatenate([np.zeros((n, 1)), cuts, np.ones((n, 1))], axis=1), axis=1)
    P = sp.csr_matrix((probs.ravel(), succ.ravel(), np.arange(0, n * branching + 1, branching)), shape=(n, S))
    return mdpkit.TabularMDP(P, rng.random((S, A)), gamma), "inline garnet"


def _gridworld(
    height: int, width: int, slip: float, gamma: float, seed: int
) -> tuple[mdpkit.TabularMDP, str]:
    f = _env_fn("gridworld")
    if f is not None:
        return f(height, width, slip=slip, gamma=gamma), "mdpkit.envs.gridworld"
    # Inline stand-in: actions N, E, S, W; the intended move w.p. 1 - slip, a uniformly random one w.p. slip;
    # walls block (stay); the goal (bottom-right corner) is absorbing and pays 1 per step.
    S, A = height * width, 4
    moves = [(-1, 0), (0, 1), (1, 0), (0, -1)]
    r, c = np.divmod(np.arange(S), width)
    dest = np.empty((4, S), dtype=np.int64)
    for d, (dr, dc) in enumerate(moves):
        nr, nc = r + dr, c + dc
        ok = (nr >= 0) & (nr < height) & (nc >= 0) & (nc < width)
        dest[d] = np.where(ok, nr * width + nc, np.arange(S))
    goal = S - 1
    rows, cols, vals = [], [], []
    for a in range(A):
        for d in range(4):
            p = (1.0 - slip) * (d == a) + slip / 4.0
            rows.append(np.arange(S) * A + a)
            cols.append(np.where(np.arange(S) == goal, goal, dest[d]))
            vals.append(np.full(S, p))
    P = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(S * A, S))
    R = np.zeros((S, A))
    R[goal] = 1.0
    return mdpkit.TabularMDP(P, R, gamma), "inline gridworld (mdpkit.envs.gridworld not available)"


def _riverswim(n: int, gamma: float, seed: int) -> tuple[mdpkit.TabularMDP, str]:
    f = _env_fn("riverswim")
    if f is None:
        from mdpkit.envs.classic import riverswim as f
    return f(n, gamma=gamma), "mdpkit.envs.riverswim"


CASES: tuple[Case, ...] = (
    Case(
        "dense",
        "dense random",
        {"S": 2000, "A": 10},
        {"S": 40, "A": 4},
        lambda S, A, seed: _dense_random(S, A, GAMMA, seed),
        1.5,
        "dense",
    ),
    Case(
        "garnet",
        "Garnet (CSR)",
        {"S": 20000, "A": 8, "branching": 5},
        {"S": 150, "A": 4, "branching": 3},
        lambda S, A, branching, seed: _garnet(S, A, branching, GAMMA, seed),
        3.0,
        "sparse",
    ),
    Case(
        "gridworld",
        "slippery gridworld",
        {"height": 100, "width": 100, "slip": 0.2},
        {"height": 6, "width": 6, "slip": 0.2},
        lambda height, width, slip, seed: _gridworld(height, width, slip, GAMMA, seed),
        3.0,
        "structured",
    ),
    Case(
        "riverswim",
        "RiverSwim",
        {"n": 500},
        {"n": 12},
        lambda n, seed: _riverswim(n, GAMMA, seed),
        3.0,
        "structured",
    ),
)


# --------------------------------------------------------------------------- verification
def _rows(mdp: mdpkit.TabularMDP) -> np.ndarray | sp.csr_matrix:
    """The (S*A, S) row view of P used by the independent numpy/scipy checks."""
    return mdp.P if mdp.is_sparse else np.asarray(mdp.P).reshape(mdp.S * mdp.A, mdp.S)


class Verifier:
    r"""Certified optimality gaps of deterministic policies, computed with numpy/scipy only.

    The reference :math:`V^*` is a tight mdpkit MPI solve (``tol = 1e-3 eps``); it is *certified*, not
    trusted: :math:`\|V - V^*\|_\infty \le \rho_*/(1-\gamma)` (contraction bound, Puterman 1994, §6.3) with
    :math:`\rho_* = \|TV - V\|_\infty` computed here with a scipy/numpy product. A policy's value is
    computed independently (dense: LU; sparse: fixed-point iteration of :math:`T_\pi` warm-started at
    :math:`V^*`) and certified by its own residual :math:`\rho_\pi`, so

    .. math:: \|V^* - V^\pi\|_\infty \le \max_s (V(s) - v_\pi(s))
              + (\rho_* + \rho_\pi)/(1-\gamma) =: \text{gap}.
    """

    def __init__(self, mdp: mdpkit.TabularMDP, eps: float) -> None:
        self.mdp, self.eps, self.gamma = mdp, eps, float(mdp.gamma)
        self.rows = _rows(mdp)
        sol = mdpkit.solve(mdp, method="mpi", tol=1e-3 * eps)
        self.V = np.asarray(sol.V, dtype=np.float64)
        Q = mdp.R + self.gamma * np.asarray(self.rows @ self.V).reshape(mdp.S, mdp.A)
        self.rho_star = float(np.max(np.abs(Q.max(axis=1) - self.V)))
        self.ref_iterations = sol.iterations
        self._cache: dict[bytes, dict[str, float]] = {}

    def _value(self, pol: np.ndarray) -> tuple[np.ndarray, float]:
        mdp, g = self.mdp, self.gamma
        idx = np.arange(mdp.S) * mdp.A + pol
        Ppi = self.rows[idx]
        rpi = mdp.R[np.arange(mdp.S), pol]
        if not sp.issparse(Ppi):
            v = np.linalg.solve(np.eye(mdp.S) - g * Ppi, rpi)
        else:
            v = self.V.copy()
            target = 1e-3 * self.eps * (1.0 - g)
            for _ in range(100_000):
                w = rpi + g * (Ppi @ v)
                done = np.max(np.abs(w - v)) <= target
                v = w
                if done:
                    break
        rho = float(np.max(np.abs(rpi + g * np.asarray(Ppi @ v).reshape(-1) - v)))
        return v, rho

    def check(self, policy: np.ndarray) -> dict[str, float]:
        r"""``gap`` (certified bound on :math:`\|V^* - V^\pi\|_\infty`), ``gap_over_eps``, ``ok``, ``rho``."""
        pol = np.asarray(policy, dtype=np.int64).reshape(-1)
        key = pol.tobytes()
        if key not in self._cache:
            mdp = self.mdp
            if (
                pol.shape != (mdp.S,)
                or pol.min() < 0
                or pol.max() >= mdp.A
                or not mdp.mask[np.arange(mdp.S), pol].all()
            ):
                out = {"gap": math.inf, "gap_over_eps": math.inf, "ok": False, "rho": math.inf}
            else:
                v, rho = self._value(pol)
                gap = float(np.max(self.V - v)) + (self.rho_star + rho) / (1.0 - self.gamma)
                out = {"gap": gap, "gap_over_eps": gap / self.eps, "ok": bool(gap <= self.eps), "rho": rho}
            self._cache[key] = out
        return self._cache[key]


# --------------------------------------------------------------------------- peers
def _qe_model(mdp: mdpkit.TabularMDP) -> Any:
    """QuantEcon ``DiscreteDP``: dense (R (S,A), Q (S,A,S)) or state-action-pair form with a CSR Q."""
    from quantecon.markov import DiscreteDP

    if mdp.is_sparse:
        S, A = mdp.S, mdp.A
        return DiscreteDP(
            mdp.R.reshape(-1), mdp.P, float(mdp.gamma), np.repeat(np.arange(S), A), np.tile(np.arange(A), S)
        )
    return DiscreteDP(mdp.R, mdp.P, float(mdp.gamma))


def _mdpt_inputs(mdp: mdpkit.TabularMDP) -> tuple[Any, np.ndarray]:
    """pymdptoolbox's ``P`` (A, S, S) (a list of scipy CSR matrices for CSR models) and ``R`` (S, A)."""
    if mdp.is_sparse:
        P = [sp.csr_matrix(mdp.P[a :: mdp.A]) for a in range(mdp.A)]
    else:
        P = np.ascontiguousarray(np.asarray(mdp.P).transpose(1, 0, 2))
    return P, np.array(mdp.R)


def _mdpt_template(cls_name: str, mdp: mdpkit.TabularMDP, eps: float) -> Any:
    """A never-run pymdptoolbox solver object (copied before every timed ``run()``).

    Runs in a forked child only, where two constructor chores are switched off: ``mdptoolbox.util.check``
    (input validation; on sparse models it compares ``P >= 0`` elementwise into dense S x S matrices; the
    model was validated by mdpkit) and ``ValueIteration._boundIter`` (an iteration cap from Puterman
    Thm 6.6.6, computed by extracting every column of P in a Python loop; we lift the cap anyway so that
    only the epsilon rule stops it). Neither is part of the timed ``run()``.
    """
    import mdptoolbox.mdp as M

    M._util.check = lambda *a, **k: None
    M.ValueIteration._boundIter = lambda self, epsilon: None
    g = float(mdp.gamma)
    P, R = _mdpt_inputs(mdp)
    if cls_name == "ValueIteration":
        return M.ValueIteration(P, R, g, epsilon=eps, max_iter=BIG_ITER)
    if cls_name == "PolicyIteration":
        return M.PolicyIteration(P, R, g, max_iter=BIG_ITER, eval_type=0)
    return M.PolicyIterationModified(P, R, g, epsilon=eps, max_iter=MPI_SWEEPS)


@dataclass
class Row:
    """One (model, library, method) measurement."""

    library: str
    method: str
    times: list[float] = field(default_factory=list)
    iterations: int | None = None
    policy: np.ndarray | None = None
    status: str = "ok"  # ok | timeout | error | skipped | unavailable
    note: str = ""
    check: dict[str, float] = field(default_factory=dict)

    @property
    def time(self) -> float:
        return median(self.times)

    @property
    def valid(self) -> bool:
        return self.status == "ok" and bool(self.check.get("ok", False))


def _tiny_like(case: Case, mdp: mdpkit.TabularMDP, seed: int) -> mdpkit.TabularMDP:
    """The case's toy-size model in the same storage (dense or CSR) as ``mdp``, for JIT warm-up.

    Warming up on the other storage would leave the real kernels' compilation inside the first timing.
    """
    tiny, _ = case.build(**case.quick, seed=seed)
    if mdp.is_sparse and not tiny.is_sparse:
        return tiny.to_sparse()
    if not mdp.is_sparse and tiny.is_sparse:
        return tiny.to_dense()
    return tiny


def _warm_up_quantecon(tiny_models: list[mdpkit.TabularMDP]) -> None:
    """Compile QuantEcon's numba functions here, untimed, so that its forked children start warm."""
    try:
        for mdp in tiny_models:
            ddp = _qe_model(mdp)
            for m in QE_METHODS:
                ddp.solve(m, epsilon=1e-6, max_iter=10_000)
    except ImportError:
        pass


def _isolated_row(
    library: str, method: str, setup: Callable[[], Any], work: Callable[[Any], Any], budget: float
) -> Row:
    """One peer measurement in a forked child (:func:`mdpkit.bench.run_isolated`) as a table row."""
    res: Isolated = run_isolated(setup, work, budget)
    row = Row(library, method)
    if res.status == "ok":
        row.times, row.iterations, row.policy = res.value
    elif res.status == "timeout":
        row.status, row.note = "timeout", f"> {budget:g} s ({res.error})"
    else:
        msg = res.error.strip().splitlines()[0] if res.error.strip() else "error"
        row.status, row.note = ("unavailable" if "ModuleNotFoundError" in msg else "error"), msg[:160]
    return row


def ours_child(
    case: str, size: dict[str, Any], seed: int, eps: float, repeat: int, budget: float, backend: str
):
    """Run by :func:`mdpkit.bench.run_fresh` in a fresh interpreter: time ``mdpkit.solve`` per method.

    A generator, so that the methods finished before a time-out are kept. Each method is first run on the
    case's toy-size model (JIT compilation or cache load, torch start-up), untimed.
    """
    c = next(c for c in CASES if c.name == case)
    mdp, _ = c.build(**size, seed=seed)
    tiny = _tiny_like(c, mdp, seed)
    device = {"device": "cpu"} if backend == "torch" else {}
    for m in OURS_METHODS:
        try:
            mdpkit.solve(tiny, method=m, tol=1e-6, backend=backend, **device)
            times, sol = time_repeats(
                lambda m=m: mdpkit.solve(mdp, method=m, tol=eps, backend=backend, **device), repeat, budget
            )
            yield (m, "ok", times, int(sol.iterations), np.asarray(sol.policy), "")
        except Exception as exc:  # noqa: BLE001 - reported in the table
            status = "unavailable" if isinstance(exc, ImportError) else "error"
            yield (m, status, [], None, None, f"{type(exc).__name__}: {exc}"[:160])


def _ours(
    case: Case, size: dict[str, Any], seed: int, eps: float, repeat: int, budget: float, backend: str
) -> list[Row]:
    """mdpkit's three methods on one backend, in one fresh interpreter (:func:`ours_child`)."""
    library = "mdpkit" if backend == "numba" else f"mdpkit {backend}-cpu"
    kwargs = {
        "case": case.name,
        "size": size,
        "seed": seed,
        "eps": eps,
        "repeat": repeat,
        "budget": budget,
        "backend": backend,
    }
    res = run_fresh(
        Path(__file__).stem, "ours_child", kwargs, budget
    )  # each method within budget (+ start-up)
    rows = [
        Row(library, m, times, iters, pol, status, note)
        for m, status, times, iters, pol, note in res.value or []
    ]
    done = {r.method for r in rows}
    first = True
    for m in OURS_METHODS:
        if m in done:
            continue
        if not first:
            rows.append(Row(library, m, status="skipped", note="not run: the child was stopped before it"))
        elif res.status == "timeout":
            rows.append(Row(library, m, status="timeout", note=f"> {budget:g} s ({res.error})"))
        else:
            rows.append(Row(library, m, status="error", note=res.error[:160]))
        first = False
    return rows


def _quantecon(mdp: mdpkit.TabularMDP, eps: float, repeat: int, budget: float) -> list[Row]:
    """QuantEcon's three methods, each in its own forked child."""
    rows = []
    for m in QE_METHODS:

        def work(ddp, m=m):
            kw = {} if m == "policy_iteration" else {"epsilon": eps}
            times, res = time_repeats(lambda: ddp.solve(m, max_iter=BIG_ITER, **kw), repeat, budget)
            return times, int(res.num_iter), np.asarray(res.sigma)

        rows.append(_isolated_row("QuantEcon", QE_SHORT[m], lambda: _qe_model(mdp), work, budget))
    return rows


def _mdptoolbox(mdp: mdpkit.TabularMDP, eps: float, repeat: int, budget: float) -> list[Row]:
    """pymdptoolbox's three methods, each in its own forked child (or skipped for memory)."""
    rows = []
    for cls in MDPT_METHODS:
        need = 3 * 8 * mdp.S**2
        if cls != "ValueIteration" and need > MDPT_DENSE_LIMIT:
            rows.append(
                Row(
                    "pymdptoolbox",
                    MDPT_SHORT[cls],
                    status="skipped",
                    note=f"builds dense S x S policy matrices (~{need / 2**30:.1f} GiB)",
                )
            )
            continue

        def work(template):
            def solve(obj):
                obj.run()
                return obj

            times, obj = time_repeats(solve, repeat, budget, setup=lambda: copy.copy(template))
            return times, int(obj.iter), np.asarray(obj.policy, dtype=np.int64)

        setup = lambda cls=cls: _mdpt_template(cls, mdp, eps)  # noqa: E731
        rows.append(_isolated_row("pymdptoolbox", MDPT_SHORT[cls], setup, work, budget))
    return rows


# --------------------------------------------------------------------------- bandwidth
def _time_calls(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    """(best, median) seconds of ``n`` back-to-back calls after one warm call.

    Bandwidth is quoted from the best call, as STREAM does: on a shared machine a sweep that lost its core
    to another process for a scheduler tick (4 ms) says nothing about the memory system.
    """
    import time

    fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), median(ts)


def _bandwidth(quick: bool, seed: int) -> tuple[Table, dict[str, Any]]:
    S, A = (200, 4) if quick else (2000, 10)
    mdp, _ = _dense_random(S, A, GAMMA, seed)
    bw = memory_bandwidth((32 if quick else 512) * 2**20, repeat=3 if quick else 5)
    P = np.asarray(mdp.P)
    g = float(mdp.gamma)
    v = np.random.default_rng(seed).random(S)
    out = np.empty(S)
    pol = np.empty(S, dtype=np.int64)
    n = 10 if quick else 50
    entries: list[tuple[str, str, int, Callable[[], Any]]] = []
    ops = Operators(P, mdp.R)
    entries.append(("mdpkit bellman (numba)", "float64", P.nbytes, lambda: ops.bellman(v, g, out, pol)))
    P32 = P.astype(np.float32)
    ops32 = Operators(P32, mdp.R)
    entries.append(("mdpkit bellman (numba)", "float32", P32.nbytes, lambda: ops32.bellman(v, g, out, pol)))
    try:
        ddp = _qe_model(mdp)
        entries.append(
            ("QuantEcon bellman_operator", "float64", P.nbytes, lambda: ddp.bellman_operator(v, Tv=out))
        )
    except ImportError:
        pass
    try:
        import mdptoolbox.mdp as M

        Pa, Ra = _mdpt_inputs(mdp)
        mt = M.PolicyIteration(Pa, Ra, g, max_iter=1)
        entries.append(("pymdptoolbox _bellmanOperator", "float64", P.nbytes, lambda: mt._bellmanOperator(v)))
    except ImportError:
        pass
    M64 = P.reshape(S * A, S)
    M32 = P32.reshape(S * A, S)
    v32 = v.astype(np.float32)
    entries.append(("numpy BLAS gemv P @ v (no max)", "float64", P.nbytes, lambda: M64 @ v))
    entries.append(("numpy BLAS gemv P @ v (no max)", "float32", P32.nbytes, lambda: M32 @ v32))
    table = Table(
        f"One dense Bellman sweep, S={S}, A={A} (P = {P.nbytes / 2**20:.0f} MiB float64) vs memory bandwidth",
        [
            "kernel",
            "P dtype",
            "MiB read",
            "ms / sweep (best)",
            "ms (median)",
            "GB/s (best)",
            "% numpy copy (1 thread)",
            "% threaded copy",
        ],
    )
    rec: dict[str, Any] = {
        "S": S,
        "A": A,
        "copy_1t_GBs": bw["copy_1t"] / 1e9,
        "copy_threads_GBs": bw["copy_threads"] / 1e9,
    }
    table.add(
        "numpy copy, 512 MiB (read + write)" if not quick else "numpy copy, 32 MiB",
        "float64",
        None,
        None,
        None,
        bw["copy_1t"] / 1e9,
        100.0,
        100.0 * bw["copy_1t"] / bw["copy_threads"],
    )
    table.add(
        f"numpy copy, {bw['threads']} threads",
        "float64",
        None,
        None,
        None,
        bw["copy_threads"] / 1e9,
        100.0 * bw["copy_threads"] / bw["copy_1t"],
        100.0,
    )
    sweeps = []
    for name, dt, nbytes, fn in entries:
        t, t_med = _time_calls(fn, n)
        rate = nbytes / t
        table.add(
            name,
            dt,
            nbytes / 2**20,
            1e3 * t,
            1e3 * t_med,
            rate / 1e9,
            100 * rate / bw["copy_1t"],
            100 * rate / bw["copy_threads"],
        )
        sweeps.append(
            {"kernel": name, "dtype": dt, "bytes": nbytes, "seconds": t, "median_s": t_med, "GBs": rate / 1e9}
        )
    rec["sweeps"] = sweeps
    table.notes += [
        "bytes per sweep = P.nbytes (v, r and the output are < 0.1 % of it); GB/s = bytes / best time of"
        " back-to-back sweeps; copies: best of 5.",
        "The copy moves read + write bytes (STREAM convention, write-allocate traffic not counted); a sweep"
        " only reads, so it can exceed 100 % of a copy's rate. Our numba kernels and OpenBLAS use all cores.",
    ]
    if quick:
        table.notes.append("--quick: P fits in cache; these numbers say nothing about memory bandwidth.")
    return table, rec


# --------------------------------------------------------------------------- the suite
def _best(rows: list[Row], library: str) -> Row | None:
    cands = [r for r in rows if r.library == library and r.valid]
    return min(cands, key=lambda r: r.time) if cands else None


def _peer_cell(best: Row | None, rows: list[Row], library: str) -> tuple[str, float | None, str]:
    """(cell text, ratio numerator seconds or None, qualifier '' | '>')."""
    if best is not None:
        return f"{best.method} {fmt(best.time)} s", best.time, ""
    lib = [r for r in rows if r.library == library]
    if lib and all(r.status == "unavailable" for r in lib):
        return "not installed", None, ""
    timeouts = [r for r in lib if r.status == "timeout"]
    if timeouts:
        lower = min(float(r.note.split()[1]) for r in timeouts)
        return f"all failed; > {lower:g} s", lower, ">"
    return "no eps-optimal answer", None, ""


def run(args: argparse.Namespace) -> Report:
    """Run the core suite (see the module docstring); returns the report with three tables."""
    quick = bool(getattr(args, "quick", False))
    repeat = int(getattr(args, "repeat", 3))
    budget = float(getattr(args, "budget", None) or 10.0)
    seed = int(getattr(args, "seed", 0))
    eps_rel = float(getattr(args, "eps_rel", 1e-6))
    only = getattr(args, "only", None)
    unknown = sorted(set(only or ()) - {c.name for c in CASES})
    if unknown:
        known = ", ".join(c.name for c in CASES)
        raise InvalidArgumentError(f"--only names unknown case(s) {', '.join(unknown)} (known: {known})")
    cases = [c for c in CASES if not only or c.name in only]

    load_start = os.getloadavg()
    tiny = [c.build(**c.quick, seed=seed)[0] for c in CASES]
    _warm_up_quantecon(tiny + [m.to_sparse() for m in tiny if not m.is_sparse])

    report = Report("core", "mdpkit core solvers vs QuantEcon and pymdptoolbox")
    timings = Table(
        "Time to an eps-optimal policy (median of repeats; gap/eps <= 1 is a certified pass)",
        ["model", "library", "method", "seconds", "runs", "iterations", "gap/eps", "pass", "note"],
    )
    ratios = Table(
        "Ratios: peer best time / our best time (> 1: mdpkit faster)",
        [
            "model",
            "S",
            "A",
            "nnz",
            "ours best",
            "QuantEcon best",
            "x vs QuantEcon",
            "goal",
            "met",
            "pymdptoolbox best",
            "x vs pymdptoolbox",
        ],
    )
    shortfalls: list[str] = []
    for case in cases:
        size = case.quick if quick else case.full
        mdp, source = case.build(**size, seed=seed)
        g = float(mdp.gamma)
        eps = eps_rel * float(np.max(np.abs(mdp.R_finite))) / (1.0 - g)
        ver = Verifier(mdp, eps)
        rows = _ours(case, size, seed, eps, repeat, budget, "numba")
        rows += _ours(case, size, seed, eps, repeat, budget, "torch")
        rows += _quantecon(mdp, eps, repeat, budget)
        rows += _mdptoolbox(mdp, eps, repeat, budget)
        for r in rows:
            if r.status == "ok":
                r.check = ver.check(r.policy)
                if not r.check["ok"]:
                    r.note = (r.note + "; " if r.note else "") + "NOT eps-optimal"
                    if r.library.startswith("mdpkit"):
                        report.ok = False
        label = f"{case.name} S={mdp.S}"
        for r in rows:
            timings.add(
                label,
                r.library,
                r.method,
                r.time if r.times else None,
                len(r.times) or None,
                r.iterations,
                r.check.get("gap_over_eps"),
                r.check.get("ok") if r.status == "ok" else None,
                r.note or (r.status if r.status != "ok" else ""),
            )
        ours = _best(rows, "mdpkit")
        qe = _best(rows, "QuantEcon")
        mt = _best(rows, "pymdptoolbox")
        qe_cell, qe_t, qe_q = _peer_cell(qe, rows, "QuantEcon")
        mt_cell, mt_t, mt_q = _peer_cell(mt, rows, "pymdptoolbox")
        qe_ratio = qe_t / ours.time if (ours and qe_t) else None
        mt_ratio = mt_t / ours.time if (ours and mt_t) else None
        met = None if qe_ratio is None else (qe_ratio >= case.goal)
        if qe_ratio is not None and qe_q == ">" and not met:
            met = None  # a lower bound below the goal proves nothing either way
        ratios.add(
            f"{case.name} ({case.kind})",
            mdp.S,
            mdp.A,
            mdp.nnz,
            f"{ours.method} {fmt(ours.time)} s" if ours else "no eps-optimal answer",
            qe_cell,
            None if qe_ratio is None else f"{qe_q}{fmt(qe_ratio)}",
            f">= {case.goal:g}x",
            met,
            mt_cell,
            None if mt_ratio is None else f"{mt_q}{fmt(mt_ratio)}",
        )
        if met is False:
            shortfalls.append(
                f"{case.name}: {fmt(qe_ratio)}x vs QuantEcon (goal {case.goal:g}x): ours {ours.method} "
                f"{fmt(ours.time)} s vs QuantEcon {qe.method if qe else '?'} {fmt(qe_t)} s."
            )
        report.records.append(
            {
                "case": case.name,
                "source": source,
                "size": size,
                "S": mdp.S,
                "A": mdp.A,
                "nnz": mdp.nnz,
                "gamma": g,
                "eps": eps,
                "reference": {"rho_star": ver.rho_star, "mpi_iterations": ver.ref_iterations},
                "rows": [
                    {
                        "library": r.library,
                        "method": r.method,
                        "times": r.times,
                        "median": r.time if r.times else None,
                        "iterations": r.iterations,
                        "status": r.status,
                        "note": r.note,
                        "check": r.check,
                    }
                    for r in rows
                ],
                "ratio_quantecon": qe_ratio,
                "ratio_pymdptoolbox": mt_ratio,
            }
        )
        timings.notes.append(
            f"{case.name}: {source}, gamma={g:g}, eps={eps:.3g}; reference V* by mdpkit MPI at 1e-3 eps "
            f"({ver.ref_iterations} iterations), certified ||TV - V|| = {ver.rho_star:.2g}."
        )
    report.tables += [ratios, timings]
    bw_table, bw_rec = _bandwidth(quick, seed)
    report.tables.append(bw_table)
    report.records.append({"bandwidth": bw_rec})
    ours_sweep = next(
        s for s in bw_rec["sweeps"] if s["kernel"].startswith("mdpkit") and s["dtype"] == "float64"
    )
    frac = ours_sweep["GBs"] / bw_rec["copy_1t_GBs"]
    if frac < 0.85:
        shortfalls.append(
            f"dense float64 sweep at {100 * frac:.0f} % of the measured copy bandwidth (goal 85 %)."
        )
    ours32 = next(s for s in bw_rec["sweeps"] if s["kernel"].startswith("mdpkit") and s["dtype"] == "float32")
    speed32 = ours_sweep["seconds"] / ours32["seconds"]
    if speed32 < 1.8:
        shortfalls.append(
            f"float32 sweep only {speed32:.2f}x faster than float64 for half the bytes "
            f"({ours32['GBs']:.1f} vs {ours_sweep['GBs']:.1f} GB/s): not bandwidth-bound."
        )
    report.notes += shortfalls or ["every goal met on this run."]
    if quick:
        report.notes.append("--quick: toy sizes; the timings and ratios only show that the suite runs.")
    report.meta = environment(PACKAGES)
    report.meta["load_average"] = f"{load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end (1-minute)"
    report.meta["parameters"] = {
        "quick": quick,
        "repeat": repeat,
        "budget_s": budget,
        "seed": seed,
        "eps_rel": eps_rel,
    }
    return report
