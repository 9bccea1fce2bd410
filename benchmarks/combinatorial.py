"""BQ-MDP exact DP: Held-Karp time for TSP n = 12..20, DP on the BQ-MDP vs on the direct MDP, state counts.

Three tables (Drakulic et al., "BQ-NCO", NeurIPS 2023: the BQ-MDP is the bisimulation quotient of the
direct MDP of a constructive solver):

* ``held-karp``: :func:`mdpkit.combinatorial.solve_tsp` (Held-Karp, numba, bitmask tables over BQ states
  (current node, unvisited set)) on uniform Euclidean TSP, n = 12..20: median wall time of ``--repeat``
  runs (the first, JIT-compiling call is made before timing), number of BQ states
  :math:`1 + (n-1) 2^{n-2}`, and the answer's checks: decoded tour length = DP value, <= 2-opt, and = brute
  force for n <= 10.
* ``bq-vs-direct``: the same optimum computed by DP on the direct MDP, whose states are all tour prefixes
  (numba depth-first recursion, no state merging, :math:`\\sum_t (n-1)!/(n-1-t)!` states) and by DP on the
  BQ-MDP (Held-Karp); and, for n <= 8, by ``mdpkit.backward_induction`` on the explicitly built direct MDP
  (CSR) and on its BQ quotient. Both values must agree (a fast wrong answer would fail the suite).
* ``state-counts``: exact numbers of direct and BQ decision states (:func:`count_states`: paths in the BQ
  DAG, Python integers) for TSP/ATSP (closed form) and for one instance each of CVRP, OP, KP drawn from the
  paper's distributions (instance-dependent).

``--quick`` uses toy sizes (timings meaningless). ``--budget`` (default 60 s) stops a table's size sweep
once one measurement exceeds it.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import mdpkit
from mdpkit import combinatorial as C
from mdpkit.bench import Report, Table, environment, median, time_repeats
from mdpkit.combinatorial import _numba as K


def _held_karp(args: argparse.Namespace, budget: float, report: Report) -> Table:
    sizes = range(8, 13) if args.quick else range(12, 21)
    t = Table(
        "Held-Karp on the TSP BQ-MDP (uniform Euclidean instances)",
        ["n", "BQ states", "time [s]", "tour length", "2-opt", "brute force", "checks"],
    )
    C.solve_tsp(C.random_tsp(5, 0).dist)  # JIT outside the timings
    for n in sizes:
        inst = C.random_tsp(n, args.seed + n)
        times, (length, tour) = time_repeats(lambda d=inst.dist: C.solve_tsp(d), args.repeat, budget)
        two = C.two_opt(inst.dist)[0]
        brute = C.brute_tsp(inst.dist) if n <= 10 else None
        ok = abs(C.tour_length(inst.dist, tour) - length) <= 1e-9 and length <= two + 1e-9
        ok &= brute is None or abs(brute - length) <= 1e-9
        report.ok &= bool(ok)
        t.add(n, C.state_count_formula(n)[1], median(times), length, two, brute, "ok" if ok else "FAILED")
        report.records.append({"table": "held-karp", "n": n, "times": times, "length": length, "ok": ok})
        if median(times) > budget:
            t.notes.append(f"stopped after n = {n}: one solve took more than the budget {budget:g} s")
            break
    return t


def _bq_vs_direct(args: argparse.Namespace, budget: float, report: Report) -> Table:
    sizes = range(5, 9) if args.quick else range(6, 13)
    t = Table(
        "DP on the BQ-MDP vs DP on the direct MDP (TSP)",
        [
            "n",
            "direct states",
            "BQ states",
            "direct DP [s]",
            "BQ DP [s]",
            "speed-up",
            "explicit direct + backward_induction [s]",
            "explicit BQ quotient [s]",
            "values agree",
        ],
    )
    K.direct_tsp_dp(C.random_tsp(4, 0).dist)
    C.solve_tsp(C.random_tsp(5, 0).dist)
    for n in sizes:
        inst = C.random_tsp(n, args.seed + 100 + n)
        direct, bq = C.state_count_formula(n)
        td, (vd, visited) = time_repeats(lambda d=inst.dist: K.direct_tsp_dp(d), args.repeat, budget)
        tb, (vb, _) = time_repeats(lambda d=inst.dist: C.solve_tsp(d), args.repeat, budget)
        agree = abs(vd - vb) <= 1e-9 and visited == direct
        t_exp = t_quo = None
        if n <= 8:
            t0 = time.perf_counter()
            ex = C.direct_mdp(inst)
            ve = -mdpkit.backward_induction(ex.finite()).value
            t_exp = time.perf_counter() - t0
            t0 = time.perf_counter()
            lab = C.bq_partition(ex)
            quo = C.quotient(ex.mdp, lab)
            mu = np.zeros(quo.S)
            mu[lab[0]] = 1.0
            fh = mdpkit.FiniteHorizonMDP(quo.P, quo.R, ex.horizon, initial=mu, mask=quo.mask)
            vq = -mdpkit.backward_induction(fh).value
            t_quo = time.perf_counter() - t0
            agree &= abs(ve - vb) <= 1e-9 and abs(vq - vb) <= 1e-9
        report.ok &= bool(agree)
        t.add(n, direct, bq, median(td), median(tb), median(td) / median(tb), t_exp, t_quo, agree)
        report.records.append(
            {"table": "bq-vs-direct", "n": n, "direct_s": td, "bq_s": tb, "direct": direct, "bq": bq}
        )
        if median(td) > budget:
            t.notes.append(f"stopped after n = {n}: the direct DP took more than the budget {budget:g} s")
            break
    t.notes.append(
        "direct DP: numba depth-first recursion over all tour prefixes; BQ DP: Held-Karp (numba). "
        "'explicit BQ quotient' includes building the quotient from the explicit direct MDP."
    )
    return t


def _state_counts(args: argparse.Namespace, budget: float, report: Report) -> Table:
    t = Table(
        "Exact state counts: direct MDP (partial solutions) vs BQ-MDP (remaining sub-instances)",
        ["problem", "n", "direct states", "BQ states", "ratio"],
    )
    tsp_sizes = (5, 10) if args.quick else (5, 10, 15, 20, 50, 100)
    for n in tsp_sizes:
        d, b = C.state_count_formula(n)
        t.add("TSP/ATSP (any instance)", n, _big(d), _big(b), d / b)
    sizes = (
        {"CVRP": (4, 6), "OP": (5, 8), "KP": (6, 10)}
        if args.quick
        else {
            "CVRP": (4, 6, 8, 10),
            "OP": (5, 10, 15, 20),
            "KP": (5, 10, 15, 20),
        }
    )
    makers = {
        "CVRP": lambda n: C.random_cvrp(n, args.seed),
        "OP": lambda n: C.random_op(n, args.seed, budget=2.0),
        "KP": lambda n: C.random_kp(n, args.seed),
    }
    for name, ns in sizes.items():
        for n in ns:
            t0 = time.perf_counter()
            d, b = C.count_states(makers[name](n))
            t.add(f"{name} (seed {args.seed})", n, _big(d), _big(b), d / b)
            if time.perf_counter() - t0 > budget:
                t.notes.append(f"{name}: stopped after n = {n} (counting took more than {budget:g} s)")
                break
    t.notes.append(
        "TSP closed forms: direct = sum_t (n-1)!/(n-1-t)!, BQ = 1 + (n-1) 2^(n-2). CVRP: capacity of "
        "Kool et al. (20 below n = 10), demands 1..9; OP: distance prizes, budget 2; KP: POMO uniform "
        "values/weights, capacity n/4. Decision states only (the absorbing terminal state is not counted)."
    )
    return t


def _big(x: int) -> str:
    """Exact integer up to 10^12, else 3 significant digits and the number of digits."""
    return str(x) if x < 10**12 else f"{float(x):.3e} ({len(str(x))} digits)"


def run(args: argparse.Namespace) -> Report:
    budget = 60.0 if args.budget is None else float(args.budget)
    report = Report("combinatorial", "Combinatorial MDPs: exact DP on BQ-MDPs (BQ-NCO)")
    tables = {
        "held-karp": _held_karp,
        "bq-vs-direct": _bq_vs_direct,
        "state-counts": _state_counts,
    }
    for name, fn in tables.items():
        if args.only and name not in args.only:
            continue
        report.tables.append(fn(args, budget, report))
    report.meta = environment(("numpy", "numba"))
    report.meta["seed"] = args.seed
    report.meta["repeat"] = args.repeat
    if not report.ok:
        report.notes.append("a correctness check FAILED: see the 'checks' / 'values agree' columns")
    if math.isfinite(budget):
        report.notes.append(f"budget per measurement: {budget:g} s")
    return report
