"""A sweep killed with SIGKILL half-way and run again loses nothing, duplicates nothing, and ends with the
same records as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from mdpkit.experiments import ResultsStore, load_sweep, run_sweep

pytestmark = pytest.mark.timeout(300)

SWEEP = """
[sweep]
name = "resume-test"
seeds = 2
results = "{results}"

[params]
instance = "riverswim"
T = 20000
checkpoints = 12

[grid]
size = [3, 4]
algorithm = [
    {{ name = "ucbvi", setting = "episodic", H = 5 }},
    {{ name = "ucrl2" }},
    {{ name = "random", setting = "continuing" }},
]
"""


def _count(path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _records(path) -> dict[str, str]:
    with ResultsStore(path, readonly=True) as store:
        return {r.key: r.record_json for r in store.records()}


@pytest.mark.parametrize("backend", ["serial", "local"])
def test_sigkill_half_way_then_resume_equals_an_uninterrupted_run(tmp_path, backend):
    toml = tmp_path / "sweep.toml"
    toml.write_text(SWEEP.format(results="killed.sqlite"))
    db = tmp_path / "killed.sqlite"
    cmd = [sys.executable, "-m", "mdpkit.cli", "run", str(toml), "--backend", backend, "--no-progress"]
    if backend == "local":
        cmd += ["-j", "2"]
    # a new session: the run and its worker processes form one process group, which we kill at once
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    try:
        while _count(db) < 3:
            assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.stderr.read()!r}"
            assert time.monotonic() < deadline, "no record appeared in time"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    partial = _records(db)
    assert 3 <= len(partial) < 12, len(partial)

    sweep = load_sweep(toml)
    rep = run_sweep(sweep, backend="serial", progress=False)
    assert rep.skipped == len(partial) and rep.ran == 12 - len(partial) and rep.complete
    resumed = _records(db)
    assert len(resumed) == 12
    assert all(resumed[k] == v for k, v in partial.items())  # nothing stored before the kill changed

    clean = run_sweep(sweep, results=tmp_path / "clean.sqlite", backend="serial", progress=False)
    assert clean.complete
    assert resumed == _records(tmp_path / "clean.sqlite")
    with ResultsStore(db, readonly=True) as store:
        assert store.conflicts() == [] and len(store.runs()) == 2
