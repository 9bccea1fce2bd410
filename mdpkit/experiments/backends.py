"""Where the cells of a sweep run: in this process, on local cores (joblib processes), on a Dask distributed
cluster or on a Ray cluster. The sweep code is the same for all of them.

Every backend calls :func:`execute_cell` in a worker and streams its outcome back as soon as the cell
finishes; only the driver writes to the results store. A cell that raises is an *outcome* (a failure,
logged and not retried: it would raise again); a worker that dies is *lost work*, which the driver runs again
(:func:`mdpkit.experiments.sweep.run_sweep`, ``max_retries``).
"""

from __future__ import annotations

import os
import time
import traceback
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from mdpkit.errors import BackendUnavailableError, InvalidArgumentError, MdpkitError

__all__ = [
    "BACKENDS",
    "Backend",
    "SerialBackend",
    "JoblibBackend",
    "DaskBackend",
    "RayBackend",
    "WorkerLostError",
    "execute_cell",
    "make_backend",
]

BACKENDS = ("local", "serial", "dask", "ray")


class WorkerLostError(MdpkitError):
    """A worker process died (killed, out of memory, node lost) while running cells; they are re-run."""


def _resolve(experiment: str | Callable) -> Callable:
    if callable(experiment):
        return experiment
    from mdpkit.experiments.sweep import resolve_experiment

    return resolve_experiment(experiment)


def execute_cell(experiment: str | Callable, config: dict, seed: int, key: str) -> dict[str, Any]:
    """Run one cell in the current process and return its outcome as plain data.

    The experiment is called as ``fn(config, seed)`` with numba limited to one thread (a sweep already uses
    every core, one cell per core; this also keeps the result independent of the worker's thread count).
    Its record is turned into canonical JSON *here*, so every backend hands the driver the same text.
    A ``"_timings"`` dict in the record is moved to the outcome's timings (wall-clock times are not part of
    a deterministic result).

    Returns
    -------
    dict
        ``{"key", "ok": True, "record_json", "timings", "provenance"}`` or
        ``{"key", "ok": False, "error", "traceback", "provenance"}``.
    """
    from mdpkit.experiments.provenance import provenance
    from mdpkit.experiments.store import dumps

    prov = provenance()
    started = time.time()
    t0 = time.perf_counter()
    try:
        import numba

        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            fn = _resolve(experiment)
            record = fn(dict(config), int(seed))
        finally:
            numba.set_num_threads(threads)
        if not isinstance(record, dict):
            raise InvalidArgumentError(
                f"experiment {experiment!r} returned {type(record).__name__}; it must return a dict record"
            )
        record = dict(record)
        extra = record.pop("_timings", {}) or {}
        record_json = dumps(record)
    except Exception as exc:  # noqa: BLE001 - a failing cell is data, reported to the driver
        prov = {**prov, "started_at": started, "finished_at": time.time()}
        return {
            "key": key,
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "provenance": prov,
        }
    wall = time.perf_counter() - t0
    timings = {"wall_s": wall, **{k: float(v) for k, v in dict(extra).items()}}
    prov = {**prov, "started_at": started, "finished_at": time.time()}
    return {"key": key, "ok": True, "record_json": record_json, "timings": timings, "provenance": prov}


class Backend(ABC):
    """Runs cells and yields their outcomes (dicts of :func:`execute_cell`) as they complete."""

    name = "abstract"

    @abstractmethod
    def run(self, cells: Sequence[Any]) -> Iterator[dict[str, Any]]:
        """Yield one outcome per cell, in completion order. A cell whose worker died is yielded as
        ``{"key", "lost": True, "error"}``; a failure that loses several cells at once raises
        :class:`WorkerLostError` (the driver re-runs what is missing)."""

    def close(self) -> None:  # noqa: B027 - most backends hold nothing
        """Release what the backend started (a local cluster, a pool)."""

    def describe(self) -> str:
        """The backend in a few words (stored with each run)."""
        return self.name

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialBackend(Backend):
    """Every cell in this process, one after the other (debugging, tiny sweeps)."""

    name = "serial"

    def run(self, cells: Sequence[Any]) -> Iterator[dict[str, Any]]:
        for c in cells:
            yield execute_cell(c.experiment, c.config, c.seed, c.key)


class JoblibBackend(Backend):
    """Local cores with joblib's ``loky`` process pool (the default backend).

    Parameters
    ----------
    n_jobs : int or None
        Worker processes (None or -1: one per core).
    """

    name = "local"

    def __init__(self, n_jobs: int | None = None) -> None:
        if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0):
            raise InvalidArgumentError(f"n_jobs = {n_jobs!r} must be a non-zero int or None")
        self.n_jobs = -1 if n_jobs is None else n_jobs

    def describe(self) -> str:
        return f"local (joblib loky, n_jobs={self.n_jobs})"

    def run(self, cells: Sequence[Any]) -> Iterator[dict[str, Any]]:
        from joblib import Parallel, delayed
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        if not cells:
            return
        par = Parallel(
            n_jobs=self.n_jobs, backend="loky", return_as="generator_unordered", pre_dispatch="all"
        )
        gen = par(delayed(execute_cell)(c.experiment, c.config, c.seed, c.key) for c in cells)
        try:
            yield from gen
        except TerminatedWorkerError as exc:
            raise WorkerLostError(f"a local worker process died: {str(exc).splitlines()[0]}") from None


class DaskBackend(Backend):
    """A Dask distributed cluster: the one at ``address``, or a ``LocalCluster`` of processes started here.

    Parameters
    ----------
    address : str or None
        Scheduler address, e.g. ``"tcp://10.0.0.5:8786"``. None starts a ``LocalCluster`` of ``n_jobs``
        single-threaded worker processes on the loopback interface (closed when the sweep ends).
    n_jobs : int or None
        Workers of the local cluster (default: one per core).
    retries : int
        Dask-level retries of a task whose worker died (besides the scheduler's own rescheduling).
    """

    name = "dask"

    def __init__(self, address: str | None = None, n_jobs: int | None = None, retries: int = 2) -> None:
        try:
            import distributed
        except ImportError:
            raise BackendUnavailableError(
                "backend 'dask' needs dask.distributed: pip install 'dask[distributed]' (or mdpkit[dist])"
            ) from None
        self._distributed = distributed
        self.address = address
        self.retries = retries
        self._cluster = None
        if address is None:
            n = (os.cpu_count() or 1) if n_jobs in (None, -1) else n_jobs
            self._cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
            address = self._cluster.scheduler_address
        try:
            self.client = distributed.Client(address, timeout="30s")
        except OSError as exc:
            self.close()
            raise BackendUnavailableError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def describe(self) -> str:
        where = self.address or f"LocalCluster {self.client.scheduler.address}"
        return f"dask ({where}, {len(self.client.scheduler_info().get('workers', {}))} workers)"

    def run(self, cells: Sequence[Any]) -> Iterator[dict[str, Any]]:
        d = self._distributed
        token = uuid.uuid4().hex[:8]
        futures = {}
        for c in cells:
            fut = self.client.submit(
                execute_cell,
                c.experiment,
                c.config,
                c.seed,
                c.key,
                key=f"mdpkit-cell-{c.key[:16]}-{token}",
                pure=False,
                retries=self.retries,
            )
            futures[fut] = c
        try:
            for fut in d.as_completed(list(futures)):
                c = futures[fut]
                try:
                    yield fut.result()
                except d.KilledWorker as exc:
                    yield {"key": c.key, "lost": True, "error": f"KilledWorker: {exc}"}
                except Exception as exc:  # noqa: BLE001 - e.g. CommClosedError on a lost node
                    yield {"key": c.key, "lost": True, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fut in futures:
                fut.release()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


class RayBackend(Backend):
    """A Ray cluster (``ray.init(address)``; None starts or joins a local one).

    Parameters
    ----------
    address : str or None
        ``"ray://host:10001"``, ``"auto"`` or None.
    retries : int
        Ray's ``max_retries`` for tasks whose worker died.
    """

    name = "ray"

    def __init__(self, address: str | None = None, retries: int = 2) -> None:
        try:
            import ray
        except ImportError:
            raise BackendUnavailableError(
                "backend 'ray' needs the ray package, which is not installed: pip install 'ray[default]' "
                "(or mdpkit[dist])"
            ) from None
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        self.address = address
        self._remote = ray.remote(max_retries=retries)(execute_cell)

    def describe(self) -> str:
        return f"ray ({self.address or 'local'})"

    def run(self, cells: Sequence[Any]) -> Iterator[dict[str, Any]]:
        ray = self._ray
        pending = {self._remote.remote(c.experiment, c.config, c.seed, c.key): c for c in cells}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                c = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayError as exc:
                    yield {"key": c.key, "lost": True, "error": f"{type(exc).__name__}: {exc}"}

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()


def make_backend(
    backend: str = "local", n_jobs: int | None = None, address: str | None = None, retries: int = 2
) -> Backend:
    """The backend called ``backend`` (one of :data:`BACKENDS`).

    ``address`` is only meaningful for ``"dask"`` and ``"ray"``; ``n_jobs`` for ``"local"`` and a local
    Dask cluster.
    """
    if backend not in BACKENDS:
        raise InvalidArgumentError(f"backend = {backend!r} is not one of {BACKENDS}")
    if address is not None and backend not in ("dask", "ray"):
        raise InvalidArgumentError(f"--address is for the dask and ray backends, not {backend!r}")
    if backend == "serial":
        return SerialBackend()
    if backend == "local":
        return JoblibBackend(n_jobs)
    if backend == "dask":
        return DaskBackend(address, n_jobs, retries)
    return RayBackend(address, retries)
