"""``mdpkit report RESULTS``: summarise stored sweep results as a table and the standard regret plot.

``RESULTS`` is a results file (``.sqlite``) or a sweep file (``.toml``, whose results file is read). For
each sweep in the file it prints, per group (algorithm, setting, instance, size), the number of seeds, the
mean regret at the last horizon with its confidence interval and the log-log slope with its interval, and
writes ``summary.md``, ``summary.csv``, ``regret.png`` and ``regret.pdf`` to the output folder (default:
``<results>-report/``, one sub-folder per sweep when the file holds several).

Example::

    mdpkit report examples/sweeps/riverswim_baselines.toml --fit-range 1e3 1e5
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_arguments", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mdpkit report``."""
    parser.add_argument("results", metavar="RESULTS", help="results file (.sqlite) or sweep file (.toml)")
    parser.add_argument("--sweep", default=None, help="only this sweep (default: every sweep in the file)")
    parser.add_argument("--y", default="regret", help="record field to summarise (default: regret)")
    parser.add_argument(
        "--by",
        default="algorithm,setting,instance,size",
        help="comma-separated fields that define a curve (default: algorithm,setting,instance,size)",
    )
    parser.add_argument(
        "--panel-by", default="size", help="field that splits the plot into panels ('' = one)"
    )
    parser.add_argument(
        "--fit-range",
        nargs=2,
        type=float,
        metavar=("TMIN", "TMAX"),
        default=None,
        help="horizons of the log-log slope fit (default: the last two decades [T/100, T])",
    )
    parser.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument(
        "--method", choices=("bootstrap", "per-seed"), default="bootstrap", help="slope interval method"
    )
    parser.add_argument("--out", default=None, help="output folder (default: <results>-report/)")
    parser.add_argument("--no-plot", action="store_true", help="table only")


def main(args: argparse.Namespace) -> int:
    """Print the summary table(s) and write the report files."""
    from mdpkit.experiments.analysis import curves, format_table, regret_plot, summary_table
    from mdpkit.experiments.store import ResultsStore, StoreError
    from mdpkit.experiments.sweep import load_sweep

    src = Path(args.results)
    path = load_sweep(src).results if src.suffix == ".toml" else src
    if not path.exists():
        raise StoreError(f"{path} does not exist (run the sweep first: mdpkit run SWEEP.toml)")
    with ResultsStore(path, readonly=True) as store:
        names = store.sweeps()
        if args.sweep is not None:
            if args.sweep not in names:
                raise StoreError(f"{path} holds no sweep {args.sweep!r}; it holds {names}")
            names = [args.sweep]
        if not names:
            print(f"{path} holds no records")
            return 1
        by_sweep = {n: list(store.records(sweep=n)) for n in names}
        compute = {n: sum(r.timings.get("wall_s", 0.0) for r in recs) for n, recs in by_sweep.items()}
    out_root = Path(args.out) if args.out else path.with_name(path.stem + "-report")
    by = tuple(f for f in args.by.split(",") if f)
    for name, recs in by_sweep.items():
        out = out_root if len(by_sweep) == 1 else out_root / name
        out.mkdir(parents=True, exist_ok=True)
        cs = curves(recs, y=args.y, by=by)
        rows = summary_table(cs, tuple(args.fit_range) if args.fit_range else None, args.level, args.method)
        md = format_table(rows, "markdown", args.level)
        header = (
            f"# {name}: {args.y}\n\n{len(recs)} records from {path}; {compute[name]:.1f} s of compute "
            f"(sum over cells).\n\n"
        )
        print(header + md)
        (out / "summary.md").write_text(header + md)
        (out / "summary.csv").write_text(format_table(rows, "csv"))
        written = [out / "summary.md", out / "summary.csv"]
        if not args.no_plot:
            png = out / f"{args.y}.png"
            fig = regret_plot(
                cs,
                panel_by=args.panel_by or None,
                t_range=tuple(args.fit_range) if args.fit_range else None,
                level=args.level,
                ylabel=args.y.replace("_", " "),
                title=name,
                path=png,
            )
            import matplotlib.pyplot as plt

            plt.close(fig)
            written += [png, png.with_suffix(".pdf")]
        print("wrote " + ", ".join(str(w) for w in written))
    return 0
