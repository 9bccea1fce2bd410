"""The mdpkit command line: verify | bench | solve | run | report | figures.

Each sub-command lives in the package of its family and exposes ``add_arguments(parser)`` and
``main(args) -> int``; this file only wires them, importing each lazily so ``mdpkit --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("mdpkit.claims.cli", "check the papers' claims and write results/verify/report.{md,json}"),
    "bench": ("mdpkit.bench", "run side-by-side benchmarks against peer libraries (ratios)"),
    "solve": ("mdpkit.core.cli", "solve a model stored in an .npz file"),
    "run": ("mdpkit.experiments.cli", "run a sweep described by a TOML file"),
    "report": ("mdpkit.experiments.report_cli", "summarise stored sweep results (table + plot)"),
    "figures": ("mdpkit.plotting.cli", "regenerate the figures in paper_figures/"),
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(prog="mdpkit", description=__doc__.splitlines()[0])
    from mdpkit import __version__

    parser.add_argument("--version", action="version", version=f"mdpkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, object] = {}
    wanted = sys.argv[1] if len(sys.argv) > 1 else None
    for name, (modname, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        # only import the module of the command being run (or all of them for --help listings)
        if wanted in (None, name, "-h", "--help"):
            try:
                mod = importlib.import_module(modname)
            except ModuleNotFoundError as exc:
                if exc.name is not None and exc.name.startswith("mdpkit"):
                    modules[name] = None
                    continue
                raise
            mod.add_arguments(p)
            modules[name] = mod
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    parser, modules = build_parser()
    args = parser.parse_args(sys.argv[1:])
    if args.command is None:
        parser.print_help()
        return 2
    mod = modules.get(args.command)
    if mod is None:
        print(f"mdpkit {args.command}: not available in this version", file=sys.stderr)
        return 2
    from mdpkit.errors import MdpkitError

    try:
        return int(mod.main(args) or 0)
    except MdpkitError as exc:
        print(f"mdpkit {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
