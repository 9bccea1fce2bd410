r"""Robust Bellman sweeps: sort-based exact inner problems vs cvxpy and scipy linprog; robust VI at S=500.

What is measured
----------------
1. *One robust L1 Bellman sweep* :math:`Q(s,a) = r(s,a) + \gamma \min_{\|q - \bar P_{sa}\|_1 \le \kappa}
   q^\top v` over every pair of a dense random model (:func:`mdpkit.envs.dense_random`, radius 0.2), solved
   three ways: mdpkit's sort-based kernel (one sort of :math:`v` per sweep, then :math:`O(S)` per pair,
   :mod:`mdpkit.robust._numba`); one LP per pair with scipy ``linprog`` (HiGHS, variables
   :math:`(q, t^+, t^-)`); one cvxpy problem per pair, *parametrised and compiled once* (``p``, ``v`` as
   ``cp.Parameter``; Clarabel), cvxpy's fastest use. Wall time per sweep (median of ``--repeat`` for ours;
   the peers are timed once per sweep), and the ratio *peer / ours*. Every answer is checked: the peers'
   :math:`Q` must match ours to 1e-6 (Clarabel and HiGHS default tolerances), else ``ok = False``.
2. *Robust VI at scale*: S = 500, A = 8 Garnet model (:func:`mdpkit.envs.garnet`, 5 successors per pair,
   stored dense; a full-support random model would converge in ~5 sweeps), gamma = 0.95, tol =
   ``eps_rel`` x value scale, for L1 (radius 0.2), KL (radius 0.1) and s-rectangular L1 (budget 0.4 per
   state) sets: time, sweeps, time per sweep, and the time a sweep would take with each peer at its
   measured per-problem cost (:math:`S \cdot A` problems per sweep).

``--quick`` shrinks everything (timings then meaningless). Everything runs in this process, ours first
(numba warmed up on a toy model before timing).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from mdpkit.bench import Report, Table, environment, median, time_repeats
from mdpkit.envs import dense_random, garnet
from mdpkit.errors import InvalidArgumentError
from mdpkit.robust import KLBall, L1Ball, SL1Ball, solve
from mdpkit.robust.reference import linprog_l1

RADIUS = 0.2
GAMMA = 0.95
SWEEP_CASES = {"sweep-20x4": (20, 4), "sweep-50x4": (50, 4), "sweep-100x4": (100, 4)}
QUICK_SWEEP = {"sweep-20x4": (8, 2), "sweep-50x4": (10, 2), "sweep-100x4": (12, 2)}
VI_CASES = {"vi-l1": "l1", "vi-kl": "kl", "vi-s_l1": "s_l1"}


def _cvxpy_sweeper(S: int):
    """A parametrised cvxpy inner problem (compiled once) and a function solving one (p, v) instance."""
    import cvxpy as cp

    x = cp.Variable(S)
    p = cp.Parameter(S)
    v = cp.Parameter(S)
    prob = cp.Problem(cp.Minimize(v @ x), [x >= 0, cp.sum(x) == 1, cp.norm1(x - p) <= RADIUS])

    def one(pv: np.ndarray, vv: np.ndarray) -> float:
        p.value, v.value = pv, vv
        prob.solve(solver="CLARABEL")
        return float(prob.value)

    return one


def _peer_sweep(P: np.ndarray, R: np.ndarray, v: np.ndarray, inner, budget: float):
    """Q by one inner solve per pair; stops after ``budget`` seconds (then the Q is partial)."""
    S, A = R.shape
    Q = np.full((S, A), np.nan)
    t0 = time.perf_counter()
    n = 0
    for s in range(S):
        for a in range(A):
            Q[s, a] = R[s, a] + GAMMA * inner(P[s, a], v)
            n += 1
            if time.perf_counter() - t0 > budget:
                el = time.perf_counter() - t0
                return Q, el * S * A / n, n
    return Q, time.perf_counter() - t0, n


def run(args: argparse.Namespace) -> Report:
    """Run the robust suite (see the module docstring)."""
    quick = bool(getattr(args, "quick", False))
    repeat = int(getattr(args, "repeat", 3))
    budget = float(getattr(args, "budget", None) or 30.0)
    seed = int(getattr(args, "seed", 0))
    eps_rel = float(getattr(args, "eps_rel", 1e-6))
    only = getattr(args, "only", None)
    known = [*SWEEP_CASES, *VI_CASES]
    unknown = sorted(set(only or ()) - set(known))
    if unknown:
        raise InvalidArgumentError(f"--only names unknown case(s) {', '.join(unknown)} (known: {known})")

    report = Report("robust", "Robust Bellman sweeps: sort-based L1 vs cvxpy and linprog; robust VI")
    report.meta = environment(["cvxpy", "clarabel", "scipy", "numba"])
    sweep = Table(
        f"One robust L1 Bellman sweep (radius {RADIUS}): all S*A inner problems",
        ["case", "S", "A", "ours s", "linprog s", "cvxpy s", "x vs linprog", "x vs cvxpy", "max |dQ|", "ok"],
    )
    per_problem: dict[str, float] = {}
    toy = dense_random(4, 2, GAMMA, seed=seed)
    L1Ball(toy, RADIUS).q(np.asarray(toy.R), GAMMA, np.zeros(4))  # JIT warm-up
    for name, size in (QUICK_SWEEP if quick else SWEEP_CASES).items():
        if only and name not in only:
            continue
        S, A = size
        mdp = dense_random(S, A, GAMMA, seed=seed)
        U = L1Ball(mdp, RADIUS)
        R = np.asarray(mdp.R)
        v = np.random.default_rng(seed).normal(size=S) * 10
        times, Q = time_repeats(lambda U=U, R=R, v=v: U.q(R, GAMMA, v), max(repeat, 5), budget)
        ours = median(times)
        Qlp, t_lp, n_lp = _peer_sweep(mdp.P, R, v, lambda p, vv: linprog_l1(p, vv, RADIUS), budget)
        one = _cvxpy_sweeper(S)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Qcv, t_cv, n_cv = _peer_sweep(mdp.P, R, v, one, budget)
        err = float(np.nanmax(np.abs(np.concatenate([(Qlp - Q).ravel(), (Qcv - Q).ravel()]))))
        ok = err <= 1e-6
        report.ok &= ok
        per_problem["linprog"] = t_lp / (S * A)
        per_problem["cvxpy"] = t_cv / (S * A)
        sweep.add(name, S, A, ours, t_lp, t_cv, t_lp / ours, t_cv / ours, err, ok)
        report.records.append(
            {
                "case": name,
                "S": S,
                "A": A,
                "ours": times,
                "linprog": t_lp,
                "cvxpy": t_cv,
                "max_err": err,
                "linprog_problems_timed": n_lp,
                "cvxpy_problems_timed": n_cv,
            }
        )
    sweep.notes.append(
        "ours: median of repeats of one full sweep; peers: one sweep, one solve per (s, a) pair "
        "(extrapolated from the problems solved when a sweep exceeds --budget). Ratio = peer / ours "
        "(> 1: mdpkit faster)."
    )
    report.tables.append(sweep)

    vi = Table(
        "Robust value iteration, Garnet S x A model (branching 5, stored dense), gamma = 0.95",
        [
            "case",
            "S",
            "A",
            "set",
            "seconds",
            "sweeps",
            "s / sweep",
            "error bound",
            "cvxpy-sweep est. s",
            "linprog-sweep est. s",
        ],
    )
    S, A = (30, 4) if quick else (500, 8)
    mdp = garnet(S, A, branching=5, gamma=GAMMA, seed=seed, sparse=False)
    tol = eps_rel * float(np.max(np.abs(mdp.R))) / (1 - GAMMA)
    sets = {"l1": L1Ball(mdp, RADIUS), "kl": KLBall(mdp, 0.1), "s_l1": SL1Ball(mdp, 2 * RADIUS)}
    for name, kind in VI_CASES.items():
        if only and name not in only:
            continue
        U = sets[kind]
        solve(toy, {"l1": L1Ball, "kl": KLBall, "s_l1": SL1Ball}[kind](toy, 0.1), tol=1e-3)  # warm-up
        times, sol = time_repeats(lambda U=U: solve(mdp, U, tol=tol), repeat, budget)
        t = median(times)
        ok = bool(sol.converged and sol.error_bound <= 2 * tol)
        report.ok &= ok
        vi.add(
            name,
            S,
            A,
            repr(U),
            t,
            sol.iterations,
            t / sol.iterations,
            sol.error_bound,
            per_problem.get("cvxpy", float("nan")) * S * A,
            per_problem.get("linprog", float("nan")) * S * A,
        )
        report.records.append({"case": name, "S": S, "A": A, "times": times, "sweeps": sol.iterations})
    vi.notes.append(
        f"tol = eps_rel * max|r| / (1 - gamma) = {tol:.3g}; the last two columns multiply the peers' "
        "measured per-problem cost (largest sweep case above) by S*A: the cost of ONE sweep done their way."
    )
    report.tables.append(vi)
    if sweep.rows:
        worst = min(min(r[6], r[7]) for r in sweep.rows)
        report.notes.append(f"smallest speed-up of the sort-based L1 sweep over a peer: {worst:.0f}x")
    return report
