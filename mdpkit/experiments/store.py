"""An append-only, crash-safe results store in one SQLite file.

Every finished cell of a sweep becomes one row of ``records``, committed in its own transaction (SQLite's
write-ahead log with ``synchronous=FULL``): a process killed at any instant (SIGKILL included) leaves every
committed record intact and no partial one. A record is keyed by the hash of ``(experiment, config,
seed)``; the key is the table's primary key and triggers forbid ``UPDATE`` and ``DELETE``, so a stored
result can never be overwritten or lost by a later run. A second result for a stored key is not written over
the first: it goes to ``conflicts`` (with whether it is bit-identical) and a warning is raised.

Tables: ``records`` (results with config, seed, package version, git commit, host, timings), ``runs`` (one
row per invocation of a sweep: its spec, backend, code version), ``failures`` (cells that raised, with the
traceback), ``conflicts``, ``meta`` (format and schema version).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import sqlite3
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mdpkit.errors import InvalidArgumentError, MdpkitError

__all__ = ["ResultsStore", "StoredRecord", "StoreError", "to_jsonable", "dumps", "FORMAT", "SCHEMA_VERSION"]

FORMAT = "mdpkit-results"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sweep TEXT NOT NULL,
    spec TEXT NOT NULL,
    source TEXT,
    backend TEXT NOT NULL,
    started_at TEXT NOT NULL,
    mdpkit_version TEXT,
    git_commit TEXT,
    git_dirty INTEGER,
    host TEXT
);
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    experiment TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    record TEXT NOT NULL,
    timings TEXT NOT NULL,
    mdpkit_version TEXT,
    git_commit TEXT,
    git_dirty INTEGER,
    python TEXT,
    numpy TEXT,
    host TEXT,
    pid INTEGER,
    backend TEXT,
    run_id INTEGER REFERENCES runs(id),
    started_at REAL,
    finished_at REAL,
    wall_s REAL,
    inserted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_sweep ON records (sweep);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    sweep TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    error TEXT NOT NULL,
    traceback TEXT,
    run_id INTEGER REFERENCES runs(id),
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    record TEXT NOT NULL,
    identical INTEGER NOT NULL,
    run_id INTEGER REFERENCES runs(id),
    at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS records_append_only_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'mdpkit results are append-only: records cannot be updated'); END;
CREATE TRIGGER IF NOT EXISTS records_append_only_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'mdpkit results are append-only: records cannot be deleted'); END;
"""


class StoreError(MdpkitError):
    """The results file is not an mdpkit store, has another schema version, or cannot be written."""


def to_jsonable(obj: Any, where: str = "record") -> Any:
    """``obj`` with numpy arrays and scalars turned into lists and Python numbers (floats keep every bit:
    ``json`` writes the shortest repr that reads back to the same double). Raises on other objects."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise InvalidArgumentError(f"{where} has a non-string key {k!r}; records are JSON objects")
            out[k] = to_jsonable(v, f"{where}[{k!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist(), where)
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if obj is None or isinstance(obj, str):
        return obj
    raise InvalidArgumentError(
        f"{where} = {obj!r} ({type(obj).__name__}) cannot be stored; "
        "use numbers, strings, lists, dicts or arrays"
    )


def dumps(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): the same object always gives the same text."""
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=True)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class StoredRecord:
    """One row of ``records``.

    Attributes
    ----------
    key, sweep, experiment : str
        Cell key, the sweep that produced it, the experiment function.
    config : dict
        The cell's configuration.
    seed : int
        Its seed.
    record : dict
        What the experiment returned (deterministic in ``(config, seed)``).
    timings : dict
        Wall-clock measurements (``wall_s`` and what the experiment reported); not part of the result.
    provenance : dict
        ``mdpkit_version``, ``git_commit``, ``git_dirty``, ``python``, ``numpy``, ``host``, ``pid``,
        ``backend``, ``run_id``, ``started_at``, ``finished_at``, ``inserted_at``.
    """

    key: str
    sweep: str
    experiment: str
    config: dict
    seed: int
    record: dict
    timings: dict
    provenance: dict

    @property
    def record_json(self) -> str:
        """The canonical JSON text of ``record`` (compare two runs bit for bit with it)."""
        return dumps(self.record)


_REC_COLS = (
    "key, sweep, experiment, config, seed, record, timings, mdpkit_version, git_commit, git_dirty, python, "
    "numpy, host, pid, backend, run_id, started_at, finished_at, wall_s, inserted_at"
)


class ResultsStore:
    """The results of one or more sweeps in an SQLite file (created on first use).

    Parameters
    ----------
    path : str or Path
        The ``.sqlite`` file. Its directory is created if needed.
    readonly : bool
        Open an existing store without creating or writing anything (for reports).

    Examples
    --------
    >>> with ResultsStore("results/riverswim.sqlite") as store:  # doctest: +SKIP
    ...     done = store.done_keys()
    ...     rows = list(store.records(sweep="riverswim-baselines"))
    """

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            if not self.path.exists():
                raise StoreError(f"{self.path} does not exist")
            uri = f"file:{self.path.resolve()}?mode=ro"
            self._conn = self._connect(uri, uri=True)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = self._connect(str(self.path))
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=FULL")
                self._conn.executescript(
                    "BEGIN IMMEDIATE;"
                    + _SCHEMA
                    + f"INSERT OR IGNORE INTO meta VALUES ('format', '{FORMAT}');"
                    + f"INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
                    + "COMMIT;"
                )
            except sqlite3.DatabaseError as exc:
                self._conn.close()
                raise StoreError(f"{self.path} is not an mdpkit results store (SQLite said: {exc})") from None
        self._check_format()

    @staticmethod
    def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(target, timeout=60.0, uri=uri, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn

    def _check_format(self) -> None:
        try:
            rows = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not an mdpkit results store (SQLite said: {exc})") from None
        if rows.get("format") != FORMAT:
            raise StoreError(f"{self.path} is not an mdpkit results store (format = {rows.get('format')!r})")
        if rows.get("schema_version") != str(SCHEMA_VERSION):
            raise StoreError(
                f"{self.path} has schema version {rows.get('schema_version')}, "
                f"this mdpkit reads {SCHEMA_VERSION}"
            )

    # ------------------------------------------------------------------ context manager
    def close(self) -> None:
        """Close the connection (every record is already committed)."""
        self._conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, params: tuple) -> sqlite3.Cursor:
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            cur = self._conn.execute(sql, params)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return cur

    # ------------------------------------------------------------------ writing
    def begin_run(self, sweep: str, spec: dict, backend: str, source: str | None = None) -> int:
        """Register one invocation of a sweep; returns its ``run_id``."""
        from mdpkit.experiments.provenance import code_version, environment

        cv = code_version()
        cur = self._write(
            "INSERT INTO runs (sweep, spec, source, backend, started_at, mdpkit_version, git_commit, "
            "git_dirty, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sweep,
                dumps(spec),
                source,
                backend,
                _now(),
                cv["mdpkit_version"],
                cv["git_commit"],
                None if cv["git_dirty"] is None else int(cv["git_dirty"]),
                environment()["host"],
            ),
        )
        return int(cur.lastrowid)

    def add(
        self,
        key: str,
        sweep: str,
        experiment: str,
        config: dict,
        seed: int,
        record_json: str,
        timings: dict,
        provenance: dict,
        backend: str,
        run_id: int | None = None,
    ) -> bool:
        """Append one record (one transaction). Returns True if written, False if ``key`` was already stored
        (the new result then goes to ``conflicts`` and a warning says whether it differs)."""
        json.loads(record_json)  # refuse a malformed payload before it reaches the file
        row = (
            key,
            sweep,
            experiment,
            dumps(config),
            int(seed),
            record_json,
            dumps(timings),
            provenance.get("mdpkit_version"),
            provenance.get("git_commit"),
            None if provenance.get("git_dirty") is None else int(bool(provenance.get("git_dirty"))),
            provenance.get("python"),
            provenance.get("numpy"),
            provenance.get("host"),
            provenance.get("pid"),
            backend,
            run_id,
            provenance.get("started_at"),
            provenance.get("finished_at"),
            timings.get("wall_s"),
            _now(),
        )
        try:
            self._write(f"INSERT INTO records ({_REC_COLS}) VALUES ({', '.join('?' * len(row))})", row)
            return True
        except sqlite3.IntegrityError:
            old = self._conn.execute("SELECT record FROM records WHERE key = ?", (key,)).fetchone()
            identical = old is not None and old["record"] == record_json
            self._write(
                "INSERT INTO conflicts (key, record, identical, run_id, at) VALUES (?, ?, ?, ?, ?)",
                (key, record_json, int(identical), run_id, _now()),
            )
            what = "an identical" if identical else "a DIFFERENT"
            warnings.warn(
                f"cell {key} is already stored in {self.path}; kept the stored record and logged {what} new "
                "one in table 'conflicts'",
                stacklevel=2,
            )
            return False

    def add_failure(
        self,
        key: str,
        sweep: str,
        config: dict,
        seed: int,
        error: str,
        traceback: str | None,
        run_id: int | None,
    ) -> None:
        """Log a cell that raised (it is not a result: a re-run tries it again)."""
        self._write(
            "INSERT INTO failures (key, sweep, config, seed, error, traceback, run_id, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, sweep, dumps(config), int(seed), error, traceback, run_id, _now()),
        )

    # ------------------------------------------------------------------ reading
    def done_keys(self) -> set[str]:
        """Keys of every stored record."""
        return {r[0] for r in self._conn.execute("SELECT key FROM records")}

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def sweeps(self) -> list[str]:
        """Names of the sweeps with stored records, in order of first appearance."""
        rows = self._conn.execute(
            "SELECT sweep, MIN(rowid) AS first FROM records GROUP BY sweep ORDER BY first"
        )
        return [r["sweep"] for r in rows]

    def records(self, sweep: str | None = None, keys: set[str] | None = None) -> Iterator[StoredRecord]:
        """The stored records (of one sweep if given; of the given keys if given), in insertion order."""
        sql = f"SELECT {_REC_COLS} FROM records"
        params: tuple = ()
        if sweep is not None:
            sql += " WHERE sweep = ?"
            params = (sweep,)
        sql += " ORDER BY rowid"
        for r in self._conn.execute(sql, params):
            if keys is not None and r["key"] not in keys:
                continue
            prov = {
                k: r[k]
                for k in (
                    "mdpkit_version",
                    "git_commit",
                    "python",
                    "numpy",
                    "host",
                    "pid",
                    "backend",
                    "run_id",
                    "started_at",
                    "finished_at",
                    "inserted_at",
                )
            }
            prov["git_dirty"] = None if r["git_dirty"] is None else bool(r["git_dirty"])
            yield StoredRecord(
                key=r["key"],
                sweep=r["sweep"],
                experiment=r["experiment"],
                config=json.loads(r["config"]),
                seed=int(r["seed"]),
                record=json.loads(r["record"]),
                timings=json.loads(r["timings"]),
                provenance=prov,
            )

    def failures(self) -> list[dict]:
        """Every logged failure (oldest first)."""
        return [dict(r) for r in self._conn.execute("SELECT * FROM failures ORDER BY id")]

    def conflicts(self) -> list[dict]:
        """Every logged conflict (a second result for a stored key)."""
        return [dict(r) for r in self._conn.execute("SELECT * FROM conflicts ORDER BY id")]

    def runs(self) -> list[dict]:
        """Every registered invocation (oldest first)."""
        return [dict(r) for r in self._conn.execute("SELECT * FROM runs ORDER BY id")]

    def total_wall(self, sweep: str | None = None) -> float:
        """Sum of the cells' wall-clock seconds (compute time, not elapsed time)."""
        sql = "SELECT SUM(wall_s) FROM records" + (" WHERE sweep = ?" if sweep else "")
        v = self._conn.execute(sql, (sweep,) if sweep else ()).fetchone()[0]
        return 0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
