"""The figure protocol: a figure is the data it plots (CSV rows) plus a function that draws them.

A script ``paper_figures/<name>.py`` defines::

    def compute(quick: bool) -> list[dict]: ...     # the plotted data, one dict per CSV row
    def plot(rows: list[dict]) -> Figure: ...       # draw them (inside mdpkit.plotting.style())
    def summary(rows: list[dict]) -> str: ...       # optional: the numbers a reader checks

    FIGURE = FigureSpec(name="<name>", compute=compute, plot=plot, summary=summary, description="...")

    if __name__ == "__main__":
        raise SystemExit(figure_main(FIGURE))

:func:`run_figure` computes the rows (``quick=True``: a small version, seconds, for CI), writes
``<out>/<name>.csv`` and draws ``<name>.png`` (screens, 200 dpi) and ``<name>.pdf`` (papers); ``replot``
redraws from the stored CSV without computing. ``mdpkit figures`` (:mod:`mdpkit.plotting.cli`) runs every
script of ``paper_figures/`` (:func:`discover`).

Rules
-----
* **CSV.** One row per dict; the columns are the union of the keys in order of first appearance. Values are
  ``str``, ``int``, ``float`` (written with ``repr``: exact round trip, ``nan``/``inf`` included) or
  ``bool`` (numpy scalars are converted); ``None`` and ``""`` are written as an empty cell, and an empty
  cell reads back as an *absent* key (use ``row.get``). On reading, each column takes the narrowest type
  that parses all its cells: bool, then int, then float, else str. :func:`write_rows` reads its CSV back
  and raises :class:`FigureDataError` naming the column when a value would not come back equal (e.g. a str
  column holding ``"1"`` next to ``"2"`` would come back as int), so ``--replot`` draws exactly what was
  computed.
* **Atomic outputs.** Each output is written to a hidden temporary file in the output folder and renamed
  over ``<name>.{csv,png,pdf}`` only once all three are written: an interrupted or failing run leaves the
  previous outputs untouched and no half-written file. Nothing else in the folder is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdpkit._modload import load_module
from mdpkit.errors import MdpkitError
from mdpkit.plotting.style import use_agg_if_headless

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FigureSpec",
    "FigureResult",
    "FigureError",
    "FigureDataError",
    "FigureLoadError",
    "Discovery",
    "run_figure",
    "figure_main",
    "discover",
    "scan",
    "default_figures_dir",
    "default_out_dir",
    "write_rows",
    "read_rows",
    "atomic_path",
]

Row = dict[str, Any]


class FigureError(MdpkitError):
    """A figure cannot be made (bad spec, missing stored data, a plot that returns no Figure)."""


class FigureDataError(FigureError):
    """The rows of a figure cannot be stored faithfully in its CSV (the message names row and column)."""


class FigureLoadError(FigureError):
    """One or more figure scripts failed to load; ``errors`` maps each file to its one-line reason."""

    def __init__(self, errors: dict[Path, str]) -> None:
        self.errors = dict(errors)
        lines = [f"  {p.name}: {msg}" for p, msg in self.errors.items()]
        super().__init__("figure script(s) failed to load:\n" + "\n".join(lines))


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class FigureSpec:
    """One figure: how to compute its data and how to draw it.

    Attributes
    ----------
    name : str
        File stem of its outputs (``<name>.png`` ...) and its name on the command line; by convention the
        stem of its script. Letters, digits, ``_``, ``-``, ``.``.
    compute : callable ``(quick: bool) -> list[dict]``
        The plotted data, one dict per CSV row (see the module's rules on value types). ``quick=True``
        computes a small version (< ~30 s, used by CI); figures behind an experiment read its stored
        records here.
    plot : callable ``(rows: list[dict]) -> matplotlib.figure.Figure``
        Draws the rows (as computed, or as read back from the CSV). It should use
        :func:`mdpkit.plotting.style`; :func:`run_figure` saves and closes the figure.
    summary : callable ``(rows: list[dict]) -> str``, optional
        One or a few lines with the numbers a reader checks (printed by ``mdpkit figures``).
    description : str
        One line: what the figure shows.
    """

    name: str
    compute: Callable[[bool], list[Row]]
    plot: Callable[[list[Row]], Figure]
    summary: Callable[[list[Row]], str] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise FigureError(
                f"figure name {self.name!r} is not a valid file stem (letters, digits, '_', '-', '.')"
            )
        for attr in ("compute", "plot"):
            if not callable(getattr(self, attr)):
                raise FigureError(f"figure {self.name!r}: {attr} is not callable")
        if self.summary is not None and not callable(self.summary):
            raise FigureError(f"figure {self.name!r}: summary is not callable")


@dataclass(frozen=True)
class FigureResult:
    """What :func:`run_figure` wrote.

    Attributes
    ----------
    paths : list of Path
        ``<out>/<name>.csv`` (also when replotting: the CSV that was read), ``.png`` and ``.pdf``.
    seconds : float
        Wall-clock time of the whole run (compute or read, draw, write).
    summary : str
        ``spec.summary(rows)``, or the number of rows when the spec has no summary.
    rows : list of dict
        The rows that were drawn.
    """

    paths: list[Path]
    seconds: float
    summary: str
    rows: list[Row] = field(default_factory=list, repr=False)


# ----------------------------------------------------------------------------------------------------- CSV


def _cell(value: Any, i: int, key: str) -> str:
    """The CSV text of one value (see the module's rules)."""
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    raise FigureDataError(
        f"row {i}, column {key!r}: a {type(value).__name__} ({value!r:.60}) cannot go in a CSV cell; "
        "use str, int, float or bool (one row per point for arrays)"
    )


_INT = re.compile(r"^[+-]?\d+$")


def _column_parser(cells: list[str]) -> Callable[[str], Any]:
    """The narrowest of bool, int, float, str that parses every non-empty cell of a column."""
    vals = [c for c in cells if c != ""]
    if vals and all(c in ("True", "False") for c in vals):
        return lambda c: c == "True"
    if vals and all(_INT.match(c) for c in vals):
        return int
    if vals:
        try:
            for c in vals:
                float(c)
        except ValueError:
            return str
        return float
    return str


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _encode(rows: Sequence[Row]) -> tuple[list[str], list[dict[str, str]]]:
    if not isinstance(rows, list | tuple):
        raise FigureDataError(f"rows must be a list of dicts, got a {type(rows).__name__}")
    keys: dict[str, None] = {}
    out: list[dict[str, str]] = []
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise FigureDataError(f"row {i} is a {type(r).__name__}, not a dict")
        enc: dict[str, str] = {}
        for k, v in r.items():
            if not isinstance(k, str) or not k:
                raise FigureDataError(f"row {i}: column name {k!r} is not a non-empty str")
            keys.setdefault(k, None)
            enc[k] = _cell(v, i, k)
        out.append(enc)
    return list(keys), out


def _decode(fields: list[str], raw: list[dict[str, str]]) -> list[Row]:
    parsers = {k: _column_parser([r.get(k) or "" for r in raw]) for k in fields}
    rows: list[Row] = []
    for r in raw:
        rows.append({k: parsers[k](v) for k, v in r.items() if k in parsers and v not in ("", None)})
    return rows


def _check_round_trip(rows: Sequence[Row], back: list[Row]) -> None:
    import numpy as np

    for i, (a, b) in enumerate(zip(rows, back, strict=True)):
        for k, v in a.items():
            if isinstance(v, np.generic):
                v = v.item()
            if v is None or v == "":
                continue
            w = b.get(k)
            if not _same(v, w):
                raise FigureDataError(
                    f"row {i}, column {k!r}: {v!r} ({type(v).__name__}) would read back from the CSV as "
                    f"{w!r} ({type(w).__name__}); give the column one type (e.g. all str, or prefix "
                    "numeric-looking labels)"
                )


def _write_csv_text(fields: list[str], enc: list[dict[str, str]], f: Any) -> None:
    w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(enc)


def _csv_text(rows: Sequence[Row]) -> str:
    """The CSV text of ``rows``, after checking that it reads back unchanged (see :func:`write_rows`)."""
    import io

    fields, enc = _encode(rows)
    buf = io.StringIO()
    _write_csv_text(fields, enc, buf)
    buf.seek(0)
    back = _decode(fields, list(csv.DictReader(buf)))
    _check_round_trip(rows, back)
    return buf.getvalue()


def write_rows(rows: Sequence[Row], path: str | Path) -> None:
    """Write ``rows`` to the CSV file ``path`` atomically, after checking that they read back unchanged.

    Parameters
    ----------
    rows : list of dict
        Values str, int, float, bool, None (see the module's rules).
    path : str or Path
        Target file; replaced only once the new content is fully written.

    Raises
    ------
    FigureDataError
        A value of an unsupported type, or one that would not read back equal (names row and column).
    """
    text = _csv_text(rows)
    with atomic_path(Path(path)) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        f.write(text)


def read_rows(path: str | Path) -> list[Row]:
    """Read a CSV written by :func:`write_rows` back into rows with their types.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of dict
        One dict per data line; empty cells are absent keys.

    Raises
    ------
    FigureError
        If the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FigureError(f"no stored data at {path}; run the figure without --replot first")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        raw = list(reader)
        fields = list(reader.fieldnames or [])
    return _decode(fields, raw)


# ------------------------------------------------------------------------------------------ atomic writes


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it over ``target``, else remove it.

    Parameters
    ----------
    target : Path
        The file to (re)place. Its folder is created if needed.

    Yields
    ------
    Path
        A hidden file ``.<name>.<random>.tmp`` in the same folder (same file system: the rename is atomic).

    Raises
    ------
    FigureError
        If ``target`` exists and is not a regular file (a folder, say): it is never replaced.
    """
    target = Path(target)
    if target.exists() and not target.is_file():
        raise FigureError(f"{target} exists and is not a regular file; not replacing it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


# ------------------------------------------------------------------------------------------------- running


def default_figures_dir() -> Path:
    """The repository's ``paper_figures/`` folder, located from the installed package's path.

    Returns
    -------
    Path
    """
    import mdpkit

    return Path(mdpkit.__file__).resolve().parents[1] / "paper_figures"


def default_out_dir(figures_dir: str | Path | None = None, *, quick: bool = False) -> Path:
    """Where outputs go by default: ``<figures_dir>/out``, or ``<figures_dir>/out/quick`` for quick runs.

    Quick outputs go to their own folder so a CI-sized run never replaces the full figures.

    Parameters
    ----------
    figures_dir : str or Path, optional
        Default :func:`default_figures_dir`.
    quick : bool

    Returns
    -------
    Path
    """
    base = Path(figures_dir) if figures_dir is not None else default_figures_dir()
    return base / "out" / "quick" if quick else base / "out"


def run_figure(
    spec: FigureSpec, out: str | Path, *, quick: bool = False, replot: bool = False
) -> FigureResult:
    """Make one figure: compute (or read back) its rows, draw them, write ``<out>/<name>.{csv,png,pdf}``.

    Parameters
    ----------
    spec : FigureSpec
    out : str or Path
        Output folder (created if needed).
    quick : bool
        Pass ``quick=True`` to ``spec.compute`` (small, fast version).
    replot : bool
        Do not compute: read the rows from ``<out>/<name>.csv`` (left unchanged) and redraw.

    Returns
    -------
    FigureResult
        Paths written, wall-clock seconds and summary.

    Raises
    ------
    FigureError
        If ``compute`` returns no list of dicts, ``plot`` returns no Figure, or ``replot`` finds no CSV.
    FigureDataError
        If the rows cannot be stored faithfully.
    Exception
        Whatever ``compute``, ``plot`` or ``summary`` raise; previous outputs are then left as they were.
    """
    use_agg_if_headless()
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    t0 = time.perf_counter()
    out = Path(out)
    csv_path, png_path, pdf_path = (out / f"{spec.name}.{ext}" for ext in ("csv", "png", "pdf"))
    if replot:
        rows = read_rows(csv_path)
    else:
        rows = spec.compute(bool(quick))
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise FigureError(f"figure {spec.name!r}: compute() must return a list of dicts")
        if not rows:
            raise FigureError(f"figure {spec.name!r}: compute() returned no rows")
    fig = spec.plot(rows)
    if not isinstance(fig, Figure):
        raise FigureError(f"figure {spec.name!r}: plot() returned a {type(fig).__name__}, not a Figure")
    try:
        text = None if replot else _csv_text(rows)  # checked before anything is written
        with contextlib.ExitStack() as stack:
            png_tmp = stack.enter_context(atomic_path(png_path))
            pdf_tmp = stack.enter_context(atomic_path(pdf_path))
            if text is not None:
                csv_tmp = stack.enter_context(atomic_path(csv_path))
                with csv_tmp.open("w", newline="", encoding="utf-8") as f:
                    f.write(text)
            fig.savefig(png_tmp, format="png", dpi=200)
            fig.savefig(pdf_tmp, format="pdf")
            # leaving the stack renames the three files (after all of them are written)
    finally:
        plt.close(fig)
    text = spec.summary(rows) if spec.summary is not None else f"{len(rows)} rows"
    return FigureResult([csv_path, png_path, pdf_path], time.perf_counter() - t0, str(text), rows)


def figure_main(spec: FigureSpec, argv: Sequence[str] | None = None) -> int:
    """Command line of one figure script: ``python paper_figures/<name>.py [--quick] [--replot] [--out DIR]``.

    Parameters
    ----------
    spec : FigureSpec
    argv : list of str, optional
        Default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 if the figure failed (the error is printed).
    """
    parser = argparse.ArgumentParser(
        prog=f"{spec.name}.py", description=spec.description or f"make the figure {spec.name}"
    )
    parser.add_argument("--quick", action="store_true", help="small version (seconds), as CI runs it")
    parser.add_argument("--replot", action="store_true", help="redraw from the stored CSV, no compute")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default paper_figures/out, or out/quick)"
    )
    args = parser.parse_args(list(argv) if argv is not None else sys.argv[1:])
    out = args.out if args.out is not None else default_out_dir(quick=args.quick)
    try:
        res = run_figure(spec, out, quick=args.quick, replot=args.replot)
    except Exception as exc:  # a script's command line reports, it does not dump a bare traceback
        if not isinstance(exc, MdpkitError):
            traceback.print_exc()
        print(f"{spec.name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(_describe(spec.name, res))
    return 0


def _describe(name: str, res: FigureResult) -> str:
    files = ", ".join(str(p) for p in res.paths)
    lines = [f"{name}: {res.seconds:.1f} s -> {files}"]
    lines += [f"  {line}" for line in res.summary.splitlines()]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- discovery


@dataclass
class Discovery:
    """The figure scripts of one folder: ``figures`` by name (in file order) and ``errors`` by file."""

    figures_dir: Path
    figures: dict[str, FigureSpec] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    errors: dict[Path, str] = field(default_factory=dict)
    tracebacks: dict[Path, str] = field(default_factory=dict)


def _figure_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if p.is_file() and not p.name.startswith("_"))


def scan(directory: str | Path | None = None) -> Discovery:
    """Load every figure script of ``directory`` and collect the failures instead of raising.

    Every ``*.py`` not starting with ``_`` must define ``FIGURE = FigureSpec(...)`` whose name is the file
    stem; files are loaded by path (:func:`mdpkit._modload.load_module`), with the folder on ``sys.path``
    so scripts may import ``_helpers.py`` next to them.

    Parameters
    ----------
    directory : str or Path, optional
        Default :func:`default_figures_dir`.

    Returns
    -------
    Discovery

    Raises
    ------
    FigureError
        If the folder does not exist.
    """
    folder = Path(directory) if directory is not None else default_figures_dir()
    if not folder.is_dir():
        raise FigureError(f"figures directory {folder} does not exist or is not a directory")
    found = Discovery(folder.resolve())
    for path in _figure_files(folder):
        try:
            module = load_module(path, "mdpkit_figures")
        except (Exception, SystemExit) as exc:  # one broken script must not hide the others
            found.errors[path] = f"import failed: {type(exc).__name__}: {exc}"
            found.tracebacks[path] = traceback.format_exc()
            continue
        spec = getattr(module, "FIGURE", None)
        if spec is None:
            found.errors[path] = (
                f"defines no FIGURE = FigureSpec(...) (rename it to _{path.name} if it is a helper)"
            )
        elif not isinstance(spec, FigureSpec):
            found.errors[path] = f"FIGURE is a {type(spec).__name__}, not a FigureSpec"
        elif spec.name != path.stem:
            found.errors[path] = f"FIGURE.name is {spec.name!r}; it must be the file stem {path.stem!r}"
        else:
            found.figures[spec.name] = spec
            found.paths[spec.name] = path
    return found


def discover(directory: str | Path | None = None) -> dict[str, FigureSpec]:
    """The figures of ``directory`` (default ``paper_figures/``) by name, in file order.

    Parameters
    ----------
    directory : str or Path, optional
        Default :func:`default_figures_dir`.

    Returns
    -------
    dict of str to FigureSpec

    Raises
    ------
    FigureLoadError
        If any script fails to import or does not define a valid ``FIGURE`` (all failures are listed,
        each with its file; :func:`scan` collects them instead).
    FigureError
        If the folder does not exist.
    """
    found = scan(directory)
    if found.errors:
        raise FigureLoadError(found.errors)
    return found.figures
