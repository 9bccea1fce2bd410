r"""Sweeps: a declarative grid of cells, each a pure function ``(config, seed) -> record``.

A sweep is the cartesian product of its ``grid`` axes (e.g. algorithm x instance x size), completed by fixed
``params`` and crossed with ``seeds``. Each cell's configuration is a JSON object; its key is the SHA-256 of
``(experiment, config, seed)``, so a cell is the same cell in every run of every sweep that contains it.
:func:`run_sweep` skips the cells already stored, runs the others on a backend
(:mod:`mdpkit.experiments.backends`) and appends each record to the store the moment it arrives.

The TOML form (``mdpkit run SWEEP.toml``)::

    [sweep]
    name = "riverswim-baselines"        # letters, digits, '.', '_', '-'
    experiment = "regret"               # built-in name or "package.module:function"
    seeds = 10                          # 0..9, or a list [0, 5, 7], or {start = 100, count = 10}
    results = "results/riverswim.sqlite"  # relative to this file (default results/<name>.sqlite)

    [params]                            # the same in every cell
    instance = "riverswim"
    T = 100000

    [grid]                              # one axis per key; every value is a non-empty list
    size = [3, 4, 6]
    algorithm = [{ name = "ucbvi", setting = "episodic", H = 8 }, { name = "ucrl2", setting = "continuing" }]

An experiment may carry a ``validate(config)`` attribute (see :func:`experiment`); every cell is validated
before any runs, so a bad configuration fails at once with the offending cell named.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdpkit.errors import InvalidArgumentError, MdpkitError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib
from mdpkit.experiments.backends import Backend, WorkerLostError, make_backend
from mdpkit.experiments.store import ResultsStore, dumps, to_jsonable

__all__ = [
    "SweepConfigError",
    "Cell",
    "Sweep",
    "SweepReport",
    "load_sweep",
    "run_sweep",
    "experiment",
    "resolve_experiment",
    "experiment_ref",
    "EXPERIMENTS",
]


class SweepConfigError(InvalidArgumentError):
    """A sweep description (TOML file or dict) or one of its cells' configurations is invalid."""


#: built-in experiments: name -> "module:function"
EXPERIMENTS: dict[str, str] = {"regret": "mdpkit.experiments.cells:regret"}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def experiment(validate: Callable[[dict], None] | None = None) -> Callable[[Callable], Callable]:
    """Decorator marking ``fn(config, seed) -> dict`` as an experiment, with an optional validator.

    ``validate(config)`` must raise :class:`~mdpkit.InvalidArgumentError` (or any MdpkitError) with a
    clear message for a configuration the experiment cannot run; it is called on every cell before a sweep
    starts.
    """

    def wrap(fn: Callable) -> Callable:
        fn.validate = validate  # type: ignore[attr-defined]
        return fn

    return wrap


def resolve_experiment(ref: str | Callable) -> Callable:
    """The experiment function of a built-in name (:data:`EXPERIMENTS`), ``"module:function"`` or callable."""
    if callable(ref):
        return ref
    if not isinstance(ref, str) or not ref:
        raise SweepConfigError(
            f"experiment = {ref!r} must be a built-in name {sorted(EXPERIMENTS)} or 'module:function'"
        )
    target = EXPERIMENTS.get(ref, ref)
    if ":" not in target:
        raise SweepConfigError(
            f"unknown experiment {ref!r}; built-in experiments: {sorted(EXPERIMENTS)}, "
            "or give 'package.module:function'"
        )
    mod, _, name = target.partition(":")
    try:
        fn = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError) as exc:
        raise SweepConfigError(f"experiment {ref!r} cannot be imported: {exc}") from None
    if not callable(fn):
        raise SweepConfigError(f"experiment {ref!r} is not callable")
    return fn


def experiment_ref(ref: str | Callable) -> str:
    """The canonical ``"module:qualname"`` of an experiment (built-in names are expanded)."""
    if callable(ref):
        return f"{ref.__module__}:{ref.__qualname__}"
    resolve_experiment(ref)
    return EXPERIMENTS.get(ref, ref)


def cell_key(experiment: str, config: dict, seed: int) -> str:
    """SHA-256 (hex) of the canonical JSON of ``(experiment, config, seed)``."""
    text = dumps({"experiment": experiment, "config": config, "seed": int(seed)})
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Cell:
    """One unit of work: ``experiment(config, seed)``; ``key`` identifies it in the results store."""

    experiment: str | Callable
    config: dict
    seed: int
    key: str

    def describe(self) -> str:
        """``config`` and seed in one line, for messages."""
        return f"{dumps(self.config)} seed={self.seed}"


def _check_seeds(seeds: object) -> tuple[int, ...]:
    if isinstance(seeds, bool):
        raise SweepConfigError(f"seeds = {seeds!r}: give a count, a list of ints or {{start, count}}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise SweepConfigError(f"seeds = {seeds} must be a positive count")
        return tuple(range(seeds))
    if isinstance(seeds, dict):
        unknown = set(seeds) - {"start", "count"}
        if unknown or "count" not in seeds:
            raise SweepConfigError(
                f"seeds = {seeds!r}: a table needs exactly 'count' (and optionally 'start')"
            )
        start, count = seeds.get("start", 0), seeds["count"]
        for name, v in (("start", start), ("count", count)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if name == "count" else 0):
                raise SweepConfigError(
                    f"seeds.{name} = {v!r} must be an int >= {1 if name == 'count' else 0}"
                )
        return tuple(range(start, start + count))
    if isinstance(seeds, (list, tuple)):
        if not seeds:
            raise SweepConfigError("seeds = [] is empty")
        for i, s in enumerate(seeds):
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise SweepConfigError(f"seeds[{i}] = {s!r} must be a non-negative int")
        if len(set(seeds)) != len(seeds):
            dup = next(s for s in seeds if list(seeds).count(s) > 1)
            raise SweepConfigError(f"seeds lists {dup} more than once")
        return tuple(int(s) for s in seeds)
    raise SweepConfigError(f"seeds = {seeds!r}: give a count, a list of ints or {{start, count}}")


@dataclass(frozen=True)
class Sweep:
    """A grid of cells.

    Attributes
    ----------
    name : str
        Identifies the sweep in the results store.
    experiment : str or callable
        The cell function ``(config, seed) -> dict`` (built-in name, ``"module:function"`` or a callable).
    grid : dict[str, list]
        Axes of the cartesian product (in order); each value a JSON-able scalar or table.
    params : dict
        Keys shared by every cell's configuration.
    seeds : tuple of int
        The seeds every grid point runs with.
    results : Path or None
        Default results file.
    source : str or None
        The TOML text the sweep was read from (stored with each run).
    """

    name: str
    experiment: str | Callable
    grid: dict[str, list]
    params: dict = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    results: Path | None = None
    source: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise SweepConfigError(
                f"sweep name {self.name!r} must start with a letter or digit and use only letters, digits, "
                "'.', '_' and '-'"
            )
        resolve_experiment(self.experiment)
        if not isinstance(self.grid, dict):
            raise SweepConfigError(f"grid must be a table of axes, got {type(self.grid).__name__}")
        if not isinstance(self.params, dict):
            raise SweepConfigError(f"params must be a table, got {type(self.params).__name__}")
        for axis, values in self.grid.items():
            if not isinstance(values, (list, tuple)):
                raise SweepConfigError(f"grid.{axis} = {values!r} must be a list of values")
            if not values:
                raise SweepConfigError(f"grid.{axis} is an empty list: the sweep would have no cells")
            texts = [dumps(self._jsonable(v, f"grid.{axis}[{i}]")) for i, v in enumerate(values)]
            if len(set(texts)) != len(texts):
                dup = next(t for t in texts if texts.count(t) > 1)
                raise SweepConfigError(f"grid.{axis} lists the value {dup} more than once")
            if axis in self.params:
                raise SweepConfigError(f"{axis!r} is both a grid axis and a fixed parameter; keep one")
        self._jsonable(self.params, "params")
        object.__setattr__(
            self, "seeds", _check_seeds(list(self.seeds) if isinstance(self.seeds, tuple) else self.seeds)
        )

    @staticmethod
    def _jsonable(value: Any, where: str) -> Any:
        try:
            return to_jsonable(value, where)
        except InvalidArgumentError as exc:
            raise SweepConfigError(str(exc)) from None

    @property
    def experiment_ref(self) -> str:
        """Canonical ``"module:qualname"`` of the experiment."""
        return experiment_ref(self.experiment)

    def configs(self) -> list[dict]:
        """The grid points (without seeds), in product order."""
        axes = list(self.grid)
        out = []
        for combo in itertools.product(*(self.grid[a] for a in axes)):
            cfg = dict(to_jsonable(self.params))
            cfg.update({a: to_jsonable(v) for a, v in zip(axes, combo, strict=True)})
            out.append(cfg)
        return out

    def cells(self) -> list[Cell]:
        """Every cell (grid point x seed), seeds innermost."""
        ref = self.experiment_ref
        exp = self.experiment if callable(self.experiment) else ref
        return [Cell(exp, cfg, s, cell_key(ref, cfg, s)) for cfg in self.configs() for s in self.seeds]

    def validate(self) -> list[Cell]:
        """Validate every grid point with the experiment's ``validate`` hook; return the cells."""
        fn = resolve_experiment(self.experiment)
        check = getattr(fn, "validate", None)
        if check is not None:
            for cfg in self.configs():
                try:
                    check(cfg)
                except MdpkitError as exc:
                    raise SweepConfigError(f"sweep {self.name!r}, cell {dumps(cfg)}: {exc}") from None
        return self.cells()

    def spec(self) -> dict:
        """The sweep as a JSON object (stored with each run)."""
        return {
            "name": self.name,
            "experiment": self.experiment_ref,
            "grid": to_jsonable(self.grid),
            "params": to_jsonable(self.params),
            "seeds": list(self.seeds),
        }

    @classmethod
    def from_dict(cls, data: dict, base_dir: str | Path | None = None, source: str | None = None) -> Sweep:
        """Build a sweep from the TOML layout (sections ``sweep``, ``params``, ``grid``)."""
        if not isinstance(data, dict):
            raise SweepConfigError(f"a sweep description is a table, got {type(data).__name__}")
        unknown = set(data) - {"sweep", "params", "grid"}
        if unknown:
            raise SweepConfigError(
                f"unknown section(s) {sorted(unknown)}; a sweep file has [sweep], [params] and [grid]"
            )
        head = data.get("sweep")
        if not isinstance(head, dict):
            raise SweepConfigError("missing [sweep] section (with name, experiment, seeds)")
        unknown = set(head) - {"name", "experiment", "seeds", "results", "description"}
        if unknown:
            raise SweepConfigError(
                f"unknown key(s) {sorted(unknown)} in [sweep]; "
                "allowed: name, experiment, seeds, results, description"
            )
        for req in ("name", "seeds"):
            if req not in head:
                raise SweepConfigError(f"[sweep] needs a {req!r}")
        if "grid" not in data:
            raise SweepConfigError("missing [grid] section (at least one axis, e.g. size = [3, 4, 6])")
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        results = head.get("results", f"results/{head['name']}.sqlite")
        if not isinstance(results, str) or not results:
            raise SweepConfigError(f"[sweep] results = {results!r} must be a file path")
        return cls(
            name=head["name"],
            experiment=head.get("experiment", "regret"),
            grid=data["grid"],
            params=data.get("params", {}),
            seeds=head["seeds"],
            results=(base / results).resolve(),
            source=source,
            description=str(head.get("description", "")),
        )


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep from a TOML file (see the module docstring); paths inside are relative to the file."""
    path = Path(path)
    if not path.is_file():
        raise SweepConfigError(f"sweep file {path} does not exist")
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        return Sweep.from_dict(data, base_dir=path.parent, source=text)
    except SweepConfigError as exc:
        raise SweepConfigError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    total, skipped, ran : int
        Cells in the sweep; cells already stored before this run; cells stored by this run.
    failed : list of (Cell, str)
        Cells whose experiment raised (logged in the store's ``failures``; retried by the next run).
    lost : int
        Cell executions lost to dead workers and run again.
    wall_s : float
        Elapsed seconds.
    results : Path
        The results store.
    run_id : int
        This invocation's row in the store's ``runs``.
    backend : str
        The backend, described.
    """

    total: int
    skipped: int
    ran: int
    failed: list
    lost: int
    wall_s: float
    results: Path
    run_id: int
    backend: str

    @property
    def complete(self) -> bool:
        """Whether every cell of the sweep is now stored."""
        return self.skipped + self.ran == self.total


def run_sweep(
    sweep: Sweep,
    results: str | Path | None = None,
    backend: str | Backend = "local",
    n_jobs: int | None = None,
    address: str | None = None,
    progress: bool = True,
    max_retries: int = 3,
    on_record: Callable[[Cell, dict], None] | None = None,
) -> SweepReport:
    """Run the cells of ``sweep`` that the results store does not hold yet.

    Parameters
    ----------
    sweep : Sweep
        The grid (every cell is validated first).
    results : path, optional
        The SQLite results file (default ``sweep.results``).
    backend : {"local", "serial", "dask", "ray"} or Backend
        Where cells run (:func:`mdpkit.experiments.backends.make_backend`); ``"local"`` is one joblib process
        per core.
    n_jobs, address : optional
        Workers of the local pool or local Dask cluster; scheduler address of a Dask/Ray cluster.
    progress : bool
        Show a progress bar over cells (tqdm, on stderr).
    max_retries : int
        Rounds of re-running cells whose worker died.
    on_record : callable, optional
        ``on_record(cell, outcome)`` after each record is committed (monitoring, tests).

    Returns
    -------
    SweepReport
        Counts of skipped / run / failed cells. Records are committed one by one as they arrive, so an
        interrupted sweep resumes where it stopped and never stores a cell twice.
    """
    path = Path(results) if results is not None else sweep.results
    if path is None:
        raise SweepConfigError(f"sweep {sweep.name!r} names no results file; pass results=...")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidArgumentError(f"max_retries = {max_retries!r} must be an int >= 0")
    cells = sweep.validate()
    by_key = {c.key: c for c in cells}
    t0 = time.perf_counter()
    with ResultsStore(path) as store:
        done = store.done_keys()
        todo = [c for c in cells if c.key not in done]
        skipped = len(cells) - len(todo)
        ran = 0
        lost = 0
        failed: list[tuple[Cell, str]] = []
        if not todo:
            wall = time.perf_counter() - t0
            return SweepReport(len(cells), skipped, 0, [], 0, wall, path, -1, "none (nothing to run)")
        be = make_backend(backend, n_jobs, address) if isinstance(backend, str) else backend
        owns = isinstance(backend, str)
        bar = _progress(len(cells), skipped, sweep.name, progress)
        desc = be.describe()
        try:
            run_id = store.begin_run(sweep.name, sweep.spec(), desc, sweep.source)
            attempt = 0
            while todo:
                finished: set[str] = set()
                try:
                    for out in be.run(todo):
                        key = out["key"]
                        cell = by_key[key]
                        if out.get("lost"):
                            lost += 1
                            continue
                        finished.add(key)
                        if out["ok"]:
                            prov = out["provenance"]
                            store.add(
                                key,
                                sweep.name,
                                sweep.experiment_ref,
                                cell.config,
                                cell.seed,
                                out["record_json"],
                                out["timings"],
                                prov,
                                be.name,
                                run_id,
                            )
                            ran += 1
                            if on_record is not None:
                                on_record(cell, out)
                        else:
                            store.add_failure(
                                key,
                                sweep.name,
                                cell.config,
                                cell.seed,
                                out["error"],
                                out.get("traceback"),
                                run_id,
                            )
                            failed.append((cell, out["error"]))
                        bar.update(1)
                except WorkerLostError:
                    lost += 1
                todo = [c for c in todo if c.key not in finished]
                if todo:
                    attempt += 1
                    if attempt > max_retries:
                        break
        finally:
            bar.close()
            if owns:
                be.close()
    return SweepReport(len(cells), skipped, ran, failed, lost, time.perf_counter() - t0, path, run_id, desc)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, initial: int, name: str, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=name, unit="cell", dynamic_ncols=True)
