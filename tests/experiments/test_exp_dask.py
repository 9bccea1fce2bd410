"""The Dask backend on a LocalCluster bound to the loopback interface: same bits as the local backend, and a
worker killed mid-sweep does not stop the sweep."""

from __future__ import annotations

import os
import signal

import pytest

from mdpkit.experiments import ResultsStore, Sweep, run_sweep

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as lc:
        yield lc


def _sweep(tmp_path, T: int, seeds: int) -> Sweep:
    return Sweep.from_dict(
        {
            "sweep": {"name": "dask-test", "seeds": seeds, "results": "r.sqlite"},
            "params": {"instance": "riverswim", "T": T, "checkpoints": 12},
            "grid": {
                "size": [3, 4],
                "algorithm": [
                    {"name": "ucbvi", "setting": "episodic", "H": 5},
                    {"name": "ucrl2"},
                    {"name": "random", "setting": "continuing"},
                ],
            },
        },
        base_dir=tmp_path,
    )


def _stored(path) -> dict[str, str]:
    with ResultsStore(path, readonly=True) as store:
        return {r.key: r.record_json for r in store.records()}


def test_dask_results_are_identical_to_the_local_backend(tmp_path, cluster):
    sw = _sweep(tmp_path, T=2000, seeds=2)
    rep = run_sweep(
        sw,
        results=tmp_path / "dask.sqlite",
        backend="dask",
        address=cluster.scheduler_address,
        progress=False,
    )
    assert rep.complete and rep.ran == 12 and rep.backend.startswith("dask")
    ref = run_sweep(sw, results=tmp_path / "serial.sqlite", backend="serial", progress=False)
    assert ref.complete
    assert _stored(tmp_path / "dask.sqlite") == _stored(tmp_path / "serial.sqlite")
    with ResultsStore(tmp_path / "dask.sqlite", readonly=True) as store:
        assert {r.provenance["backend"] for r in store.records()} == {"dask"}
        pids = {r.provenance["pid"] for r in store.records()}
    assert os.getpid() not in pids  # the cells ran in the workers


def test_a_dask_worker_killed_mid_sweep_and_the_sweep_still_completes(tmp_path, cluster):
    sw = _sweep(tmp_path, T=20_000, seeds=2)
    killed = []
    with distributed.Client(cluster.scheduler_address) as client:
        worker_pids = list(client.run(os.getpid).values())

        def kill_one(cell, out):
            if not killed:
                victim = next(p for p in worker_pids if p != out["provenance"]["pid"])
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        rep = run_sweep(
            sw, backend="dask", address=cluster.scheduler_address, progress=False, on_record=kill_one
        )
        assert killed and rep.complete and rep.ran == 12
        client.wait_for_workers(2, timeout=60)  # the nanny restarted the killed worker
    ref = run_sweep(sw, results=tmp_path / "serial.sqlite", backend="serial", progress=False)
    assert _stored(sw.results) == _stored(tmp_path / "serial.sqlite")
    assert ref.complete
