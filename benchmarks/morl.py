r"""Exact hypervolume: mdpkit (WFG, numba) vs moocore and pymoo at 3, 5 and 8 objectives, 100-1000 points.

What is measured
----------------
For each case ``k<k>-n<n>`` a front of ``n`` mutually non-dominated points is drawn uniformly on the
positive part of the unit sphere in :math:`\mathbb R^k` (a hard case: every point is on the front), with
reference point 0 (maximisation). Each library computes the exact hypervolume:

* mdpkit: :func:`mdpkit.morl.hypervolume` (WFG, While et al. 2012, with the last-objective slicing that
  reduces the dimension of every limit set; numba kernels, compiled and cached before timing);
* moocore ``hypervolume`` (C; minimisation, so called on :math:`-X` with reference 0);
* pymoo ``pymoo.indicators.hv.HV`` (its exact algorithm; minimisation as well).

Wall time: median of ``--repeat`` runs; each library runs in a forked child under ``--budget`` seconds
(default 60), so a case beyond a library's reach is reported as ``> budget``. The answers are checked:
every value must agree with moocore's to 1e-9 relative, else the report is marked failed. The ratio
column is *our time / moocore's time* (> 1: moocore is faster). ``--quick``: toy sizes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mdpkit.bench import Report, Table, environment, median, run_isolated
from mdpkit.morl import hypervolume

CASES = {f"k{k}-n{n}": (k, n) for k in (3, 5, 8) for n in (100, 300, 1000)}
QUICK = {"k3-n100": (3, 30), "k5-n100": (5, 20), "k8-n100": (8, 8)}


def _front(k: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, k, n])
    X = np.abs(rng.standard_normal((n, k)))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _timed(fn, repeat: int):
    def work(_state):
        times, val = [], None
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            val = fn()
            times.append(time.perf_counter() - t0)
        return median(times), float(val)

    return work


def _ours(X: np.ndarray):
    return lambda: hypervolume(X, np.zeros(X.shape[1]))


def _moocore(X: np.ndarray):
    import moocore

    return lambda: moocore.hypervolume(-X, ref=np.zeros(X.shape[1]))


def _pymoo(X: np.ndarray):
    from pymoo.indicators.hv import HV

    ind = HV(ref_point=np.zeros(X.shape[1]))
    return lambda: ind(-X)


def run(args: argparse.Namespace) -> Report:
    cases = QUICK if args.quick else CASES
    if args.only:
        cases = {c: v for c, v in cases.items() if c in args.only}
    budget = float(args.budget) if args.budget else 60.0
    libs = {"mdpkit": _ours, "moocore": _moocore, "pymoo": _pymoo}
    table = Table(
        "Exact hypervolume, seconds (median)",
        ["case", "k", "n", "mdpkit", "moocore", "pymoo", "mdpkit / moocore", "max rel. diff vs moocore"],
        notes=[
            "fronts: n points uniform on the positive unit sphere (all non-dominated), reference point 0",
            f"'> {budget:g}' = abandoned after --budget seconds in a forked child",
        ],
    )
    report = Report("morl", "Hypervolume: mdpkit vs moocore vs pymoo", tables=[table])
    report.meta = {**environment(["moocore", "pymoo", "scipy"]), "budget_s": budget, "repeat": args.repeat}
    hypervolume(_front(3, 5, 0), np.zeros(3))  # compile (or load) the numba kernels before any timing
    for case, (k, n) in cases.items():
        X = _front(k, n, args.seed)
        res: dict[str, tuple[float, float] | None] = {}
        for lib, make in libs.items():
            try:
                fn = make(X)
            except ImportError:
                res[lib] = None
                report.notes.append(f"{lib} not installed: skipped")
                continue
            out = run_isolated(lambda: None, _timed(fn, args.repeat), budget)
            res[lib] = out.value if out.status == "ok" else None
            report.records.append(
                {"case": case, "lib": lib, "status": out.status, "value": out.value, "error": out.error}
            )
        ref = res.get("moocore")
        if ref is None and res.get("mdpkit") is not None:
            report.notes.append(f"{case}: moocore gave no answer within the budget; mdpkit's value unchecked")
        diffs = []
        for lib in ("mdpkit", "pymoo"):
            if res.get(lib) is not None and ref is not None:
                d = abs(res[lib][1] - ref[1]) / max(1e-300, abs(ref[1]))
                diffs.append(d)
                if d > 1e-9 and lib == "mdpkit":
                    report.ok = False
                    report.notes.append(f"{case}: mdpkit HV {res[lib][1]!r} != moocore {ref[1]!r}")

        def cell(lib: str, res: dict = res) -> object:
            r = res.get(lib)
            return f"> {budget:g}" if r is None else r[0]

        ratio = res["mdpkit"][0] / ref[0] if res.get("mdpkit") and ref else None
        table.add(
            case, k, n, cell("mdpkit"), cell("moocore"), cell("pymoo"), ratio, max(diffs) if diffs else None
        )
    return report
