"""The results store: append-only, crash-safe, provenance on every record, conflicts never overwrite."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments.provenance import code_version
from mdpkit.experiments.store import ResultsStore, StoreError, dumps, to_jsonable

PROV = {"mdpkit_version": "0.1.0", "git_commit": "abc", "git_dirty": False, "python": "3.11", "pid": 1}


def _add(store: ResultsStore, key: str, record: dict, run_id: int | None = None) -> bool:
    return store.add(key, "sw", "mod:fn", {"x": 1}, 0, dumps(record), {"wall_s": 0.5}, PROV, "serial", run_id)


def test_records_round_trip_with_every_bit(tmp_path):
    values = np.array([0.1, 1 / 3, np.pi * 1e-300, -2.5e17, np.nextafter(1.0, 2.0), np.nan, np.inf])
    rec = {"y": values, "n": np.int64(7), "flag": np.bool_(True), "nested": {"z": [np.float32(0.5)]}}
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run = store.begin_run("sw", {"name": "sw"}, "serial")
        assert _add(store, "k1", rec, run)
        (got,) = list(store.records())
    y = np.array(got.record["y"])
    assert y.tobytes() == values.tobytes()  # NaN and inf included, bit for bit
    assert got.record["n"] == 7 and got.record["flag"] is True and got.record["nested"] == {"z": [0.5]}
    assert got.config == {"x": 1} and got.seed == 0 and got.timings == {"wall_s": 0.5}
    assert got.provenance["git_commit"] == "abc" and got.provenance["run_id"] == run
    assert got.provenance["backend"] == "serial" and got.provenance["inserted_at"]


def test_records_cannot_be_updated_or_deleted(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        _add(store, "k1", {"a": 1})
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE records SET record = '{}' WHERE key = 'k1'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM records")
    conn.close()
    with ResultsStore(path) as store:
        assert [r.record for r in store.records()] == [{"a": 1}]


def test_a_second_result_for_a_stored_cell_is_logged_not_written(tmp_path):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        assert _add(store, "k1", {"a": 1})
        with pytest.warns(UserWarning, match="identical"):
            assert not _add(store, "k1", {"a": 1})
        with pytest.warns(UserWarning, match="DIFFERENT"):
            assert not _add(store, "k1", {"a": 2})
        assert [r.record for r in store.records()] == [{"a": 1}]
        conflicts = store.conflicts()
        assert [(c["key"], c["identical"], json.loads(c["record"])) for c in conflicts] == [
            ("k1", 1, {"a": 1}),
            ("k1", 0, {"a": 2}),
        ]
        assert len(store) == 1 and store.done_keys() == {"k1"}


def test_failures_are_logged_and_not_records(tmp_path):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        store.add_failure("k9", "sw", {"x": 2}, 3, "ValueError: boom", "Traceback ...", None)
        assert store.done_keys() == set()
        (f,) = store.failures()
        assert f["error"] == "ValueError: boom" and f["seed"] == 3 and json.loads(f["config"]) == {"x": 2}


def test_foreign_files_are_refused(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not an mdpkit results store"):
        ResultsStore(junk)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('format', 'something-else')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="format = 'something-else'"):
        ResultsStore(other)
    with pytest.raises(StoreError, match="does not exist"):
        ResultsStore(tmp_path / "missing.sqlite", readonly=True)


def test_readonly_store_cannot_write(tmp_path):
    path = tmp_path / "r.sqlite"
    ResultsStore(path).close()
    with ResultsStore(path, readonly=True) as store, pytest.raises(StoreError, match="read-only"):
        _add(store, "k", {})


def test_unstorable_values_are_rejected_with_their_location():
    with pytest.raises(InvalidArgumentError, match=r"record\['a'\]\[1\] = .*object"):
        to_jsonable({"a": [1, object()]})
    with pytest.raises(InvalidArgumentError, match="non-string key"):
        to_jsonable({1: 2})


def test_canonical_json_is_order_independent():
    assert dumps({"b": 1, "a": [1.5, {"d": 2, "c": 3}]}) == dumps({"a": [1.5, {"c": 3, "d": 2}], "b": 1})


def test_provenance_names_the_code():
    cv = code_version()
    assert cv["mdpkit_version"] == __import__("mdpkit").__version__
    assert cv["git_commit"] is None or len(cv["git_commit"]) == 40
