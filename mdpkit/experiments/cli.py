"""``mdpkit run SWEEP.toml``: run the cells of a sweep that are not stored yet.

Examples::

    mdpkit run examples/sweeps/riverswim_baselines.toml                  # all local cores (joblib)
    mdpkit run sweep.toml --backend dask                                  # a LocalCluster started here
    mdpkit run sweep.toml --backend dask --address tcp://10.0.0.5:8786    # an existing Dask cluster
    mdpkit run sweep.toml --backend ray --address auto                    # an existing Ray cluster
    mdpkit run sweep.toml --dry-run                                       # validate, count cells, run nothing

Exit status: 0 when every cell is stored, 1 when some failed or were lost, 2 for an invalid sweep.
"""

from __future__ import annotations

import argparse
import sys

from mdpkit.experiments.backends import BACKENDS

__all__ = ["add_arguments", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mdpkit run``."""
    parser.add_argument(
        "sweep", metavar="SWEEP.toml", help="sweep description (see mdpkit.experiments.sweep)"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="local",
        help="where cells run: local cores (joblib, default), serial (this process), dask or ray",
    )
    parser.add_argument("--address", default=None, help="scheduler address of a Dask or Ray cluster")
    parser.add_argument(
        "-j", "--n-jobs", type=int, default=None, help="worker processes (local pool or local Dask cluster)"
    )
    parser.add_argument("--results", default=None, help="results file (default: the sweep's 'results')")
    parser.add_argument(
        "--max-retries", type=int, default=3, help="rounds of re-running cells lost with a worker"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--dry-run", action="store_true", help="validate and count the cells; run nothing")


def main(args: argparse.Namespace) -> int:
    """Run the sweep; print what was skipped, run and failed."""
    from mdpkit.experiments.store import ResultsStore
    from mdpkit.experiments.sweep import load_sweep, run_sweep

    sweep = load_sweep(args.sweep)
    results = args.results or sweep.results
    if args.dry_run:
        cells = sweep.validate()
        done = 0
        from pathlib import Path

        if Path(results).exists():
            with ResultsStore(results, readonly=True) as store:
                keys = store.done_keys()
            done = sum(c.key in keys for c in cells)
        print(
            f"sweep {sweep.name}: {len(sweep.configs())} grid points x {len(sweep.seeds)} seeds "
            f"= {len(cells)} cells; "
            f"{done} stored in {results}, {len(cells) - done} to run"
        )
        return 0
    rep = run_sweep(
        sweep,
        results=results,
        backend=args.backend,
        n_jobs=args.n_jobs,
        address=args.address,
        progress=not args.no_progress,
        max_retries=args.max_retries,
    )
    print(
        f"sweep {sweep.name}: {rep.total} cells, {rep.skipped} already stored, {rep.ran} run now, "
        f"{len(rep.failed)} failed, {rep.lost} lost to dead workers; {rep.wall_s:.1f} s on {rep.backend}; "
        f"results in {rep.results}"
    )
    for cell, err in rep.failed[:10]:
        print(f"  FAILED {cell.describe()}: {err}", file=sys.stderr)
    if len(rep.failed) > 10:
        print(
            f"  ... and {len(rep.failed) - 10} more (see table 'failures' of {rep.results})", file=sys.stderr
        )
    if not rep.complete:
        print(
            f"mdpkit run: {rep.total - rep.skipped - rep.ran} cell(s) not stored; run again to retry",
            file=sys.stderr,
        )
        return 1
    return 0
