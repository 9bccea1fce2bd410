"""``mdpkit figures``: regenerate the figures of ``paper_figures/`` (PNG, PDF and the CSV of plotted data).

Usage::

    mdpkit figures                         # every figure, full size, into paper_figures/out/
    mdpkit figures robust_windy_walk 'rover_*'
    mdpkit figures --quick                 # small versions (CI), into paper_figures/out/quick/
    mdpkit figures --replot                # redraw from the stored CSVs, no compute
    mdpkit figures --list                  # names and descriptions

Names are script stems or shell globs. Each figure prints its outputs, run time and summary. A figure that
fails (or a script that fails to import) is reported by name and the others still run. Exit code: 0 when
every selected figure was made, 1 when one failed, 2 for a usage error (unknown name, missing folder).
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import traceback
from pathlib import Path

from mdpkit.errors import InvalidArgumentError, MdpkitError
from mdpkit.plotting.figure import _describe, default_out_dir, run_figure, scan

__all__ = ["add_arguments", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``mdpkit figures`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument("names", nargs="*", metavar="NAME", help="figure names or shell globs (default: all)")
    parser.add_argument("--quick", action="store_true", help="small versions (seconds each), as CI runs them")
    parser.add_argument("--replot", action="store_true", help="redraw from the stored CSVs without computing")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default <figures-dir>/out, or out/quick)"
    )
    parser.add_argument(
        "--figures-dir", type=Path, default=None, help="folder of figure scripts (default paper_figures/)"
    )


def main(args: argparse.Namespace) -> int:
    """Run ``mdpkit figures`` with parsed ``args``.

    Parameters
    ----------
    args : argparse.Namespace
        From a parser set up by :func:`add_arguments`.

    Returns
    -------
    int
        0 all selected figures made, 1 one failed (or failed to load).

    Raises
    ------
    InvalidArgumentError
        If a name matches no figure script (``mdpkit`` turns it into exit code 2).
    FigureError
        If the figures folder does not exist.
    """
    found = scan(args.figures_dir)
    names = list(found.figures)
    broken = {p.stem: msg for p, msg in found.errors.items()}
    if args.names:
        chosen: list[str] = []
        bad: list[str] = []
        for pat in args.names:
            hits = [n for n in [*names, *broken] if fnmatch.fnmatchcase(n, pat)]
            if not hits:
                known = ", ".join(sorted([*names, *broken])) or "(none)"
                raise InvalidArgumentError(
                    f"no figure matches {pat!r} in {found.figures_dir}; known: {known}"
                )
            for n in hits:
                target = bad if n in broken else chosen
                if n not in target:
                    target.append(n)
        order = {n: i for i, n in enumerate(names)}
        chosen.sort(key=order.__getitem__)
    else:
        chosen, bad = names, list(broken)
    if args.list:
        width = max((len(n) for n in [*names, *broken]), default=0)
        for n in chosen:
            print(f"{n:<{width}}  {found.figures[n].description}")
        for n in bad:
            print(f"{n:<{width}}  (fails to load: {broken[n]})")
        return 1 if bad else 0
    out = args.out if args.out is not None else default_out_dir(found.figures_dir, quick=args.quick)
    failed: list[str] = []
    for n in bad:
        path = next(p for p in found.errors if p.stem == n)
        print(found.tracebacks.get(path, ""), end="", file=sys.stderr)
        print(f"{n}: FAILED to load {path}: {broken[n]}", file=sys.stderr)
        failed.append(n)
    total = 0.0
    for n in chosen:
        try:
            res = run_figure(found.figures[n], out, quick=args.quick, replot=args.replot)
        except Exception as exc:  # report by name and go on with the others
            if not isinstance(exc, MdpkitError):  # our own errors say what to do; others need the trace
                traceback.print_exc()
            print(f"{n}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(n)
            continue
        total += res.seconds
        print(_describe(n, res), flush=True)
    made = len(chosen) - len([n for n in failed if n in chosen])
    print(
        f"{made} figure(s) made in {total:.1f} s under {out}"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0
