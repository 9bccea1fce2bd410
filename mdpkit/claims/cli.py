"""``mdpkit verify``: run the papers' claims in ``proofs/`` and write ``results/verify/report.{md,json}``.

Usage::

    mdpkit verify                      # every claim, quick budget
    mdpkit verify 'pdl.*' core_*       # ids or file names, shell globs
    mdpkit verify --budget full --seed 3 --out results/verify-full
    mdpkit verify --list               # ids, expected verdicts, papers, files

Exit code: 0 when every verdict equals its claim's expected status, 1 otherwise (a check that raises, or a
claim file that fails to import, counts as a mismatch), 2 for a usage error (unknown id, duplicate ids,
missing proofs directory). The report is written atomically; the previous one is kept under
``<out>/history/`` (see :mod:`mdpkit.claims.report`).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from mdpkit.claims.base import Budget
from mdpkit.claims.registry import ClaimRegistryError, Registry, discover
from mdpkit.claims.report import format_table, write_report
from mdpkit.claims.runner import run_claims

__all__ = ["add_arguments", "main"]


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed {text!r} is not an integer") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"seed {v} must be non-negative")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``verify`` options to ``parser``."""
    parser.add_argument(
        "ids",
        nargs="*",
        metavar="ID",
        help="claim ids or shell globs, matched against claim ids and claim file names (default: all)",
    )
    parser.add_argument(
        "--budget", choices=("quick", "full"), default="quick", help="computation budget (default: quick)"
    )
    parser.add_argument("--seed", type=_seed, default=0, help="seed of every random draw (default: 0)")
    parser.add_argument(
        "--out", type=Path, default=Path("results/verify"), help="report directory (default: results/verify)"
    )
    parser.add_argument(
        "--proofs",
        type=Path,
        default=None,
        help="directory of claim files (default: the repository's proofs/)",
    )
    parser.add_argument("--list", action="store_true", help="list the claims and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _git_commit(folder: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _list(reg: Registry) -> int:
    rows = [(c.id, c.claim.expected, c.path.name, c.claim.paper) for c in reg.claims]
    rows += [(e.id, "error", e.path.name, e.message) for e in reg.errors]
    head = ("id", "expected", "file", "paper")
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    for row in [head, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(
        f"{len(reg.claims)} claims in {reg.proofs_dir}"
        + (f", {len(reg.errors)} files failed to load" if reg.errors else "")
    )
    return 1 if reg.errors else 0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def main(args: argparse.Namespace) -> int:
    """Run ``mdpkit verify`` with parsed ``args``; return the exit code (0 iff every verdict matches)."""
    reg = discover(args.proofs)
    if args.list:
        return _list(reg)
    selected, errors = reg.select(args.ids)
    if not selected and not errors:
        raise ClaimRegistryError(f"no claim file in {reg.proofs_dir}")
    budget = Budget.named(args.budget, args.seed)
    started = _now()
    results = run_claims(selected, budget, errors, progress=not args.no_progress)
    import mdpkit

    meta = {
        "started": started,
        "finished": _now(),
        "budget": budget.name,
        "seed": budget.seed,
        "max_examples": budget.max_examples,
        "selection": list(args.ids),
        "proofs_dir": str(reg.proofs_dir),
        "mdpkit": mdpkit.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git_commit(reg.proofs_dir),
    }
    written = write_report(results, args.out, meta)
    print(format_table(results))
    print(f"report: {written.markdown} and {written.json}")
    if written.archived:
        print(f"previous report kept as {', '.join(str(p) for p in written.archived)}")
    return int(written.summary["exit_code"])


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="mdpkit verify", description=__doc__.splitlines()[0])
    add_arguments(_parser)
    raise SystemExit(main(_parser.parse_args()))
