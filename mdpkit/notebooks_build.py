r"""Build the teaching notebooks: jupytext percent-format ``notebooks/*.py`` (the source) to executed
``notebooks/*.ipynb`` (generated, with outputs, so that plots show on GitHub).

Usage::

    python -m mdpkit.notebooks_build                 # regenerate every notebook (full mode)
    python -m mdpkit.notebooks_build 01 03           # only the notebooks whose name starts with 01 or 03
    python -m mdpkit.notebooks_build --fast --check  # execute in fast mode, write nothing (what CI runs)
    bash scripts/notebooks.sh                         # the same as the first line, after bootstrap

Each notebook reads ``MDPKIT_FAST`` (``"1"``: small sizes, a few seconds each) from its environment. The
kernel is the interpreter running this module (``python3`` kernelspec with ``sys.executable``), so the
project's virtual environment is used without installing a kernelspec anywhere. Needs ``jupytext``,
``nbclient``, ``nbformat`` and ``ipykernel`` (imported lazily; they are test/docs extras, not runtime
dependencies).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdpkit.errors import InvalidArgumentError

__all__ = ["NOTEBOOK_DIR", "sources", "read_source", "cell_sources", "execute", "build", "in_sync", "main"]

#: the directory of the notebook sources (the repository's ``notebooks/``)
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def sources(directory: str | os.PathLike | None = None, names: list[str] | None = None) -> list[Path]:
    """The jupytext sources ``directory/*.py`` (sorted; files starting with ``_`` are helpers, skipped).

    Parameters
    ----------
    directory : path, optional
        Default :data:`NOTEBOOK_DIR`.
    names : list of str, optional
        Keep only the sources whose stem starts with one of these prefixes (e.g. ``["01", "robust"]``
        matches ``01_mdp_basics.py``; a prefix also matches after the ``NN_`` number).

    Returns
    -------
    list of Path

    Raises
    ------
    InvalidArgumentError
        When a prefix matches no notebook.
    """
    d = Path(directory) if directory is not None else NOTEBOOK_DIR
    found = sorted(p for p in d.glob("*.py") if not p.name.startswith("_"))
    if not names:
        return found
    keep = []
    for name in names:
        hits = [p for p in found if p.stem.startswith(name) or p.stem.split("_", 1)[-1].startswith(name)]
        if not hits:
            raise InvalidArgumentError(f"no notebook in {d} matches {name!r}; have {[p.stem for p in found]}")
        keep += [p for p in hits if p not in keep]
    return keep


def read_source(path: str | os.PathLike) -> Any:
    """Read a percent-format ``.py`` into an (unexecuted) ``nbformat`` notebook with jupytext.

    Parameters
    ----------
    path : path
        A jupytext percent-format script (cells separated by ``# %%`` lines).

    Returns
    -------
    nbformat.NotebookNode
        Version-4 notebook with the ``python3`` kernelspec and cell ids ``cell-000``, ``cell-001``, ...
    """
    import jupytext

    nb = jupytext.read(Path(path), fmt="py:percent")
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"  # stable ids: regenerating an unchanged notebook changes nothing
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def cell_sources(nb: Any) -> list[tuple[str, str]]:
    """``(cell_type, source)`` of every cell, trailing whitespace stripped.

    Parameters
    ----------
    nb : nbformat.NotebookNode

    Returns
    -------
    list of (str, str)
        What must agree between a notebook's ``.py`` source and its ``.ipynb``.
    """
    return [(c.cell_type, c.source.rstrip()) for c in nb.cells]


def execute(nb: Any, cwd: str | os.PathLike, fast: bool, timeout: int = 600) -> Any:
    """Execute ``nb`` in place with nbclient in a fresh ``python3`` kernel run by ``sys.executable``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
    cwd : path
        Working directory of the kernel.
    fast : bool
        Sets ``MDPKIT_FAST=1`` (else ``0``) in the kernel's environment.
    timeout : int
        Seconds allowed per cell.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        On the first failing cell; its message shows the cell's source and the traceback.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    class _ThisPython(KernelSpecManager):
        """The ``python3`` kernel run by the current interpreter (no installed kernelspec needed)."""

        def get_kernel_spec(self, kernel_name: str):
            from jupyter_client.kernelspec import KernelSpec

            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="Python 3",
                language="python",
                resource_dir=str(cwd),
            )

    env = {**os.environ, "MDPKIT_FAST": "1" if fast else "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,
        coalesce_streams=True,  # one stdout output per cell, however the kernel flushed it
    )
    from jupyter_client.manager import KernelManager

    client.km = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())
    client.execute(env=env, cwd=str(cwd))
    return nb


@dataclass(frozen=True)
class Built:
    """One executed notebook.

    Attributes
    ----------
    source : Path
        The ``.py`` source.
    output : Path or None
        The ``.ipynb`` written (None with ``write=False``).
    seconds : float
        Wall-clock seconds of conversion and execution.
    """

    source: Path
    output: Path | None
    seconds: float


def build(paths: list[Path], fast: bool = False, write: bool = True, timeout: int = 600) -> list[Built]:
    """Convert each source with jupytext, execute it and (with ``write``) save the ``.ipynb`` next to it.

    Parameters
    ----------
    paths : list of Path
        Notebook sources (see :func:`sources`).
    fast : bool
        Execute with ``MDPKIT_FAST=1``.
    write : bool
        Write ``<name>.ipynb`` next to each source (outputs included).
    timeout : int
        Seconds allowed per cell.

    Returns
    -------
    list of Built
    """
    import nbformat

    out = []
    for path in paths:
        t0 = time.perf_counter()
        nb = read_source(path)
        execute(nb, path.parent, fast=fast, timeout=timeout)
        target = None
        if write:
            target = path.with_suffix(".ipynb")
            nb.metadata.pop("widgets", None)
            nbformat.write(nb, target)
        out.append(Built(path, target, time.perf_counter() - t0))
    return out


def in_sync(source: str | os.PathLike, notebook: str | os.PathLike) -> list[str]:
    """Differences between the cells of a ``.py`` source and of its ``.ipynb`` (empty when in sync).

    Parameters
    ----------
    source : path
        The jupytext percent-format source.
    notebook : path
        The generated ``.ipynb``.

    Returns
    -------
    list of str
        One line per differing cell (index, type and the first differing line), or one line for a different
        number of cells.
    """
    import nbformat

    a = cell_sources(read_source(source))
    b = cell_sources(nbformat.read(Path(notebook), as_version=4))
    problems = []
    if len(a) != len(b):
        problems.append(f"{len(a)} cells in {Path(source).name} but {len(b)} in {Path(notebook).name}")
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            xl, yl = x[1].splitlines(), y[1].splitlines()
            j = next(
                (k for k, (p, q) in enumerate(zip(xl, yl, strict=False)) if p != q), min(len(xl), len(yl))
            )
            problems.append(
                f"cell {i} ({x[0]} vs {y[0]}), line {j}: {xl[j] if j < len(xl) else '<end>'!r} "
                f"vs {yl[j] if j < len(yl) else '<end>'!r}"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: regenerate (or, with ``--check``, only execute) the notebooks.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when every notebook ran, 1 when one failed, 2 for a name that matches no notebook.
    """
    ap = argparse.ArgumentParser(
        prog="python -m mdpkit.notebooks_build",
        description="Regenerate the executed teaching notebooks notebooks/*.ipynb from their sources "
        "notebooks/*.py with jupytext and nbclient (exit 1 if a notebook fails, 2 on a bad name).",
    )
    ap.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    ap.add_argument("--fast", action="store_true", help="execute with MDPKIT_FAST=1 (small sizes)")
    ap.add_argument("--check", action="store_true", help="execute only; do not write the .ipynb files")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = ap.parse_args(argv)
    try:
        paths = sources(names=args.names)
    except InvalidArgumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            (b,) = build([path], fast=args.fast, write=not args.check, timeout=args.timeout)
        except Exception as exc:  # noqa: BLE001 - report every notebook, then fail
            failed += 1
            print(f"FAILED {path.name}:\n{exc}", file=sys.stderr)
            continue
        where = f" -> {b.output.name}" if b.output else ""
        print(f"{path.name}{where}: {b.seconds:.1f} s ({'fast' if args.fast else 'full'} mode)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
