"""``mdpkit bench``: side-by-side benchmarks against peer libraries, reported as ratio tables.

A *suite* is one Python file ``benchmarks/<name>.py`` at the root of the repository (next to the
``mdpkit`` package). ``mdpkit bench --list`` lists the suites; ``mdpkit bench <name>`` runs one, prints its
tables as Markdown and writes ``benchmarks/out/<name>.md`` and ``benchmarks/out/<name>.json``.

Writing a suite
---------------
Adding a suite is adding one file. It needs

* a module docstring, whose first line is the one-line description shown by ``--list``;
* a function ``run(args: argparse.Namespace) -> Report``.

``args`` carries the options every suite understands: ``quick`` (toy sizes, for smoke tests), ``repeat``
(timed repeats per measurement; report the median), ``budget`` (seconds one measurement may take before it
is abandoned), ``seed``, ``eps_rel`` (target relative accuracy) and ``only`` (case names to keep, or None).
A suite builds a :class:`Report` of :class:`Table` objects; the helpers here do the common chores:
:func:`time_repeats` (median-of-k timing), :func:`run_isolated` (run a peer in a forked child under a
time limit, so one pathological case cannot stall a whole run), :func:`memory_bandwidth` and
:func:`environment` (library versions, BLAS, CPU). A suite should verify the *answers* it times (a fast
wrong answer must not win) and set ``Report.ok = False`` when one of ours is wrong; ``mdpkit bench`` then
exits with status 1.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import inspect
import json
import math
import multiprocessing as mp
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from mdpkit.errors import InvalidArgumentError

__all__ = [
    "Table",
    "Report",
    "Isolated",
    "benchmarks_dir",
    "discover",
    "describe",
    "load_suite",
    "time_repeats",
    "median",
    "fmt",
    "run_isolated",
    "run_fresh",
    "memory_bandwidth",
    "environment",
    "add_arguments",
    "main",
]


# --------------------------------------------------------------------------- report data model
@dataclass
class Table:
    """One Markdown table: a title, column names, rows of cells and footnotes.

    Cells may be any object; floats are rendered with :func:`fmt`, everything else with ``str``.
    """

    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        """Append one row (as many cells as columns)."""
        if len(cells) != len(self.columns):
            raise InvalidArgumentError(
                f"row {cells!r} has {len(cells)} cells; table {self.title!r} has {len(self.columns)} columns"
            )
        self.rows.append(list(cells))

    def to_markdown(self) -> str:
        """The table as GitHub-flavoured Markdown (title as a level-3 heading, notes as a list below)."""
        header = " | ".join(c.replace("|", "\\|") for c in self.columns)
        lines = [f"### {self.title}", "", f"| {header} |"]
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(fmt(c).replace("|", "\\|") for c in row) + " |")
        if self.notes:
            lines.append("")
            lines.extend(f"- {n}" for n in self.notes)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": self.columns,
            "rows": _jsonable(self.rows),
            "notes": self.notes,
        }


@dataclass
class Report:
    """What a suite's ``run(args)`` returns: tables, notes, the run's environment and raw records.

    Attributes
    ----------
    suite : str
        Suite name (the file's stem).
    title : str
        Heading of the Markdown report.
    tables : list of Table
        Rendered in order.
    notes : list of str
        Free-form findings (shortfalls, skips, methodology), rendered after the tables.
    meta : dict
        Environment and parameters (see :func:`environment`); rendered as a short list and stored in JSON.
    records : list of dict
        Raw machine-readable measurements (every timing, every check), stored in JSON only.
    ok : bool
        False when a correctness check of *our* code failed; ``mdpkit bench`` then exits with status 1.
    """

    suite: str
    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True

    def to_markdown(self) -> str:
        parts = [f"## {self.title}", ""]
        for t in self.tables:
            parts += [t.to_markdown(), ""]
        if self.notes:
            parts += ["### Findings", ""] + [f"- {n}" for n in self.notes] + [""]
        if self.meta:
            parts += ["### Environment", ""]
            parts += [f"- {k}: {_flat(v)}" for k, v in self.meta.items()] + [""]
        return "\n".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "title": self.title,
            "ok": self.ok,
            "tables": [t.to_json() for t in self.tables],
            "notes": self.notes,
            "meta": _jsonable(self.meta),
            "records": _jsonable(self.records),
        }


def fmt(x: Any) -> str:
    """Compact rendering of a table cell: 4 significant digits for floats, ``-`` for None."""
    if x is None:
        return "-"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, float | np.floating):
        x = float(x)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == 0:
            return "0"
        if 1e-3 <= abs(x) < 1e5:
            return f"{x:.4g}"
        return f"{x:.3g}"
    return str(x)


def _flat(v: Any) -> str:
    if isinstance(v, dict):
        return "; ".join(f"{k}={_flat(x)}" for k, x in v.items())
    return str(v)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        x = float(x)
        return x if math.isfinite(x) else str(x)
    if x is None or isinstance(x, str | int | bool):
        return x
    return str(x)


# --------------------------------------------------------------------------- suite discovery
def benchmarks_dir() -> Path:
    """The repository's ``benchmarks/``: ``Path(mdpkit.__file__).resolve().parents[1] / "benchmarks"``."""
    import mdpkit

    return Path(mdpkit.__file__).resolve().parents[1] / "benchmarks"


def discover(root: Path | None = None) -> dict[str, Path]:
    """Suites in ``root`` (default :func:`benchmarks_dir`): ``{stem: path}`` of ``*.py`` not named ``_*``."""
    root = benchmarks_dir() if root is None else Path(root)
    if not root.is_dir():
        return {}
    return {p.stem: p for p in sorted(root.glob("*.py")) if not p.name.startswith("_")}


def describe(path: Path) -> str:
    """First line of a suite's module docstring, read without importing it."""
    try:
        doc = ast.get_docstring(ast.parse(Path(path).read_text(encoding="utf-8")))
    except (OSError, SyntaxError) as exc:
        return f"(unreadable: {exc})"
    return doc.strip().splitlines()[0] if doc else "(no description)"


def load_suite(name: str, root: Path | None = None) -> ModuleType:
    """Import ``benchmarks/<name>.py`` as a module; it must define ``run(args) -> Report``."""
    suites = discover(root)
    if name not in suites:
        known = ", ".join(suites) or "none"
        raise InvalidArgumentError(
            f"no benchmark suite {name!r} in {root or benchmarks_dir()} (known: {known})"
        )
    spec = importlib.util.spec_from_file_location(f"mdpkit_bench_suite_{name}", suites[name])
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    if not callable(getattr(mod, "run", None)):
        raise InvalidArgumentError(f"benchmark suite {name!r} ({suites[name]}) defines no run(args) function")
    return mod


# --------------------------------------------------------------------------- measurement helpers
def time_repeats(
    fn: Callable[..., Any],
    repeat: int,
    budget: float = math.inf,
    setup: Callable[[], Any] | None = None,
) -> tuple[list[float], Any]:
    """Wall times of up to ``repeat`` calls of ``fn()`` (or ``fn(setup())``) and the last call's result.

    Always makes one call; a further call starts only while the calls so far took less than ``budget / 3``
    seconds in total, so a slow measurement is reported from fewer repeats instead of stalling the run.
    ``setup``, when given, is called before every timed call, untimed (e.g. a fresh solver object).
    Report :func:`median` of the times (robust to the odd preempted run on a shared machine).
    """
    times: list[float] = []
    result = None
    for _ in range(max(1, int(repeat))):
        arg = None if setup is None else setup()
        t0 = time.perf_counter()
        result = fn() if setup is None else fn(arg)
        times.append(time.perf_counter() - t0)
        if sum(times) >= budget / 3:
            break
    return times, result


@dataclass
class Isolated:
    """Outcome of :func:`run_isolated`: ``status`` is ``"ok"``, ``"timeout"`` or ``"error"``."""

    status: str
    value: Any = None
    error: str = ""
    setup_s: float = float("nan")


def _child(conn, setup: Callable[[], Any], work: Callable[[Any], Any]) -> None:  # pragma: no cover - child
    try:
        t0 = time.perf_counter()
        state = setup()
        conn.send(("ready", time.perf_counter() - t0))
        conn.send(("ok", work(state)))
    except BaseException as exc:  # noqa: BLE001 - report anything back to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))
    finally:
        conn.close()


def run_isolated(setup: Callable[[], Any], work: Callable[[Any], Any], timeout: float) -> Isolated:
    """Run ``work(setup())`` in a forked child process; give up on ``work`` after ``timeout`` seconds.

    ``setup`` (e.g. building a peer library's model object) is not counted against ``timeout`` but is itself
    capped at ``timeout`` too. The child inherits the parent's memory (fork), so closures over large arrays
    cost nothing; ``work``'s return value must be picklable. Use this for peers whose run time or memory
    on a case is not known in advance. Do not call numba ``parallel=True`` kernels in the child after the
    parent has used them: the GNU OpenMP runtime is not fork-safe (numba documentation, "Threading layers").
    """
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, setup, work), daemon=True)
    proc.start()
    send.close()
    out = Isolated("timeout")
    try:
        if not recv.poll(timeout):
            out = Isolated("timeout", error=f"setup took more than {timeout:g} s")
            return out
        tag, payload = recv.recv()
        if tag == "error":
            out = Isolated("error", error=payload)
            return out
        setup_s = float(payload)
        if not recv.poll(timeout):
            out = Isolated("timeout", error=f"no answer within {timeout:g} s", setup_s=setup_s)
            return out
        tag, payload = recv.recv()
        out = Isolated(tag, value=payload if tag == "ok" else None, error="" if tag == "ok" else payload)
        out.setup_s = setup_s
        return out
    except EOFError:
        out = Isolated("error", error=f"child exited with code {proc.exitcode} (killed, e.g. out of memory?)")
        return out
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join()


def run_fresh(
    suite: str,
    func: str,
    kwargs: dict[str, Any],
    timeout: float,
    startup: float = 60.0,
    root: Path | None = None,
) -> Isolated:
    """Call ``func(**kwargs)`` of ``benchmarks/<suite>.py`` in a fresh Python interpreter.

    For code that must not run in a fork of this process: e.g. numba ``parallel=True`` kernels or torch after
    numba's OpenMP threads were used here (the GNU OpenMP runtime is not fork-safe). ``kwargs`` must be
    JSON-serialisable; results travel back pickled through a file.

    When ``func`` is a generator its items are streamed back as they are produced and ``timeout`` applies
    to each item: the child is killed when no new item arrives within ``timeout`` seconds (``timeout +
    startup`` for the first one, which also pays for the imports). The items finished before a kill are
    kept: ``value`` is the list of items, also when ``status == "timeout"``. For a plain function,
    ``timeout + startup`` bounds the whole call. ``root`` is the suites' directory (default
    :func:`benchmarks_dir`).
    """
    with tempfile.TemporaryDirectory(prefix="mdpkit-bench-") as tmp:
        out = Path(tmp) / "result.pkl"
        out.touch()
        where = str(benchmarks_dir() if root is None else Path(root))
        cmd = [sys.executable, "-m", "mdpkit.bench", "--fresh-child", where, suite, func, str(out)]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(json.dumps(kwargs))
        proc.stdin.close()
        messages: list[tuple[str, Any]] = []
        pos = 0
        deadline = time.monotonic() + timeout + startup
        status = "running"
        with out.open("rb") as fh:

            def drain() -> None:
                nonlocal pos, deadline
                while True:
                    fh.seek(pos)
                    try:
                        msg = pickle.load(fh)
                    except Exception:  # noqa: BLE001 - nothing more yet, or a record still being written
                        return
                    pos = fh.tell()
                    messages.append(msg)
                    deadline = time.monotonic() + timeout

            while proc.poll() is None:
                drain()
                if time.monotonic() > deadline:
                    proc.kill()
                    status = "timeout"
                    break
                time.sleep(0.02)
            proc.wait()
            drain()
        stderr = proc.stderr.read()
        proc.stderr.close()
    items = [payload for tag, payload in messages if tag == "item"]
    for tag, payload in messages:
        if tag == "ok":
            return Isolated("ok", value=payload)
        if tag == "done":
            return Isolated("ok", value=items)
        if tag == "error":
            return Isolated("error", value=items, error=payload)
    if status == "timeout":
        return Isolated("timeout", value=items, error=f"no answer within {timeout:g} s")
    tail = stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
    return Isolated("error", value=items, error=f"child died: {tail[0]}")


def _fresh_child(root: str, suite: str, func: str, out: str) -> None:  # pragma: no cover - child process
    kwargs = json.loads(sys.stdin.read() or "{}")
    with open(out, "wb") as fh:
        try:
            result = getattr(load_suite(suite, Path(root)), func)(**kwargs)
            if inspect.isgenerator(result):
                for item in result:
                    pickle.dump(("item", item), fh)
                    fh.flush()
                pickle.dump(("done", None), fh)
            else:
                pickle.dump(("ok", result), fh)
        except BaseException as exc:  # noqa: BLE001 - report anything back to the parent
            pickle.dump(("error", f"{type(exc).__name__}: {exc}"), fh)


def memory_bandwidth(nbytes: int = 512 * 2**20, repeat: int = 5) -> dict[str, float]:
    r"""Memory bandwidth measured by large ``numpy`` copies (arrays far larger than the caches).

    ``copy_1t``: one ``np.copyto(b, a)`` of two ``nbytes`` float64 arrays, counted as ``2 * nbytes``
    (read + write) per copy, best of ``repeat``. ``copy_threads``: the same copy split into one contiguous
    chunk per core, copied by concurrent threads (numpy releases the GIL in ``copyto``), which shows what
    several cores can draw. Write-allocate traffic (a store first reads the line) is not counted, as in the
    STREAM ``Copy`` convention (McCalpin, "Memory bandwidth and machine balance", 1995). Values in bytes/s.
    """
    n = max(1, int(nbytes) // 8)
    a = np.ones(n)
    b = np.zeros(n)
    np.copyto(b, a)
    best = math.inf
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    cores = max(1, os.cpu_count() or 1)
    edges = np.linspace(0, n, cores + 1).astype(int)

    def chunk(i: int) -> None:
        np.copyto(b[edges[i] : edges[i + 1]], a[edges[i] : edges[i + 1]])

    best_t = math.inf
    for _ in range(max(1, repeat)):
        threads = [threading.Thread(target=chunk, args=(i,)) for i in range(cores)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        best_t = min(best_t, time.perf_counter() - t0)
    return {"copy_1t": 2 * a.nbytes / best, "copy_threads": 2 * a.nbytes / best_t, "threads": cores}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _blas() -> str:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} ({blas.get('openblas configuration', '').strip()})"
    except Exception as exc:  # noqa: BLE001 - informational only
        return f"unknown ({exc})"


def environment(packages: Sequence[str] = ()) -> dict[str, Any]:
    """Versions of Python and of ``packages`` (distribution names), numpy's BLAS, CPU and thread settings."""
    import numba

    import mdpkit

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "mdpkit": mdpkit.__version__,
        "numpy": np.__version__,
        "blas": _blas(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
    }
    try:
        env["numba_threading_layer"] = numba.threading_layer()
    except ValueError:
        env["numba_threading_layer"] = "not initialised yet"
    for p in packages:
        env[p] = _version(p)
    thread_vars = (
        "OMP_NUM_THREADS",
        "OMP_WAIT_POLICY",
        "GOMP_SPINCOUNT",
        "NUMBA_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
    )
    env["thread_env"] = {k: os.environ[k] for k in thread_vars if k in os.environ} or "defaults"
    return env


def median(xs: Sequence[float]) -> float:
    """Median of a non-empty sequence (nan when empty)."""
    return statistics.median(xs) if len(xs) else float("nan")


# --------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mdpkit bench`` (shared by every suite)."""
    parser.add_argument("suite", nargs="?", help="suite to run (a file benchmarks/<suite>.py); see --list")
    parser.add_argument("--list", action="store_true", help="list the available suites and exit")
    parser.add_argument("--quick", action="store_true", help="toy sizes (smoke test; timings meaningless)")
    parser.add_argument("--repeat", type=int, default=3, metavar="K", help="timed repeats, median reported")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SEC",
        help="seconds one measurement may take before it is abandoned (default: suite's choice)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random instances")
    parser.add_argument(
        "--eps-rel",
        type=float,
        default=1e-6,
        metavar="E",
        help="target accuracy, relative to the value scale max|r|/(1-gamma)",
    )
    parser.add_argument("--only", default=None, metavar="NAMES", help="comma-separated case names to run")
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="output directory (default benchmarks/out)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; write no files")


def main(args: argparse.Namespace) -> int:
    """Run one suite (or list them); print Markdown, write ``<out>/<suite>.md`` and ``.json``."""
    suites = discover()
    if args.list or not args.suite:
        if not suites:
            print(f"no benchmark suites found in {benchmarks_dir()}")
            return 0 if args.list else 2
        width = max(len(n) for n in suites)
        for name, path in suites.items():
            print(f"{name:<{width}}  {describe(path)}")
        return 0 if args.list else 2
    if args.repeat < 1:
        raise InvalidArgumentError(f"--repeat = {args.repeat} must be >= 1")
    if args.budget is not None and not args.budget > 0:
        raise InvalidArgumentError(f"--budget = {args.budget} must be > 0")
    if not 0 < args.eps_rel < 1:
        raise InvalidArgumentError(f"--eps-rel = {args.eps_rel} must be in (0, 1)")
    if isinstance(args.only, str):
        args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    mod = load_suite(args.suite)
    t0 = time.perf_counter()
    report = mod.run(args)
    if not isinstance(report, Report):
        raise InvalidArgumentError(
            f"suite {args.suite!r}: run(args) returned {type(report).__name__}, not Report"
        )
    report.meta.setdefault("wall_time_s", round(time.perf_counter() - t0, 1))
    text = report.to_markdown()
    print(text)
    if not args.no_write:
        out = Path(args.out) if args.out else benchmarks_dir() / "out"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{args.suite}.md").write_text(text + "\n", encoding="utf-8")
        (out / f"{args.suite}.json").write_text(
            json.dumps(report.to_json(), indent=1) + "\n", encoding="utf-8"
        )
        print(f"\nwrote {out / (args.suite + '.md')} and {out / (args.suite + '.json')}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover - entry point of run_fresh's child interpreter
    if len(sys.argv) == 6 and sys.argv[1] == "--fresh-child":
        _fresh_child(*sys.argv[2:6])
    else:
        raise SystemExit("internal entry point of mdpkit.bench.run_fresh; use `mdpkit bench`")
