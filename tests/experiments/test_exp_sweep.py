"""Sweeps: grid expansion, validation of bad configs, determinism across backends, resume, lost workers."""

from __future__ import annotations

import os
import signal

import pytest

from mdpkit.errors import BackendUnavailableError, InvalidArgumentError
from mdpkit.experiments import ResultsStore, Sweep, SweepConfigError, load_sweep, regret, run_sweep
from mdpkit.experiments.backends import execute_cell, make_backend
from mdpkit.experiments.sweep import cell_key

ALGOS = [
    {"name": "ucbvi", "setting": "episodic", "H": 5},
    {"name": "ucrl2"},
    {"name": "random", "setting": "continuing"},
]


def tiny(tmp_path, T: int = 2000, seeds: int | list = 2, name: str = "tiny", **grid) -> Sweep:
    return Sweep.from_dict(
        {
            "sweep": {"name": name, "seeds": seeds, "results": "r.sqlite"},
            "params": {"instance": "riverswim", "T": T, "checkpoints": 12},
            "grid": {"size": [3, 4], "algorithm": ALGOS, **grid},
        },
        base_dir=tmp_path,
    )


def stored(path) -> dict[str, str]:
    with ResultsStore(path, readonly=True) as store:
        return {r.key: r.record_json for r in store.records()}


def test_grid_expansion_and_keys(tmp_path):
    sw = tiny(tmp_path, seeds=3)
    cells = sw.cells()
    assert len(cells) == 2 * 3 * 3 and len({c.key for c in cells}) == len(cells)
    assert cells[0].config == {
        "instance": "riverswim",
        "T": 2000,
        "checkpoints": 12,
        "size": 3,
        "algorithm": ALGOS[0],
    }
    assert [c.seed for c in cells[:3]] == [0, 1, 2]
    assert cells[0].key == cell_key("mdpkit.experiments.cells:regret", cells[0].config, 0)
    # the same cell in another sweep (other name, other grid order) has the same key
    other = tiny(tmp_path, seeds=[2, 0], name="other")
    assert {c.key for c in other.cells()} <= {c.key for c in cells}
    assert sw.results == (tmp_path / "r.sqlite").resolve()


def test_the_regret_cell_is_a_pure_function_of_config_and_seed():
    cfg = {"instance": "riverswim", "size": 4, "T": 3000, "algorithm": {"name": "ucrl2"}, "checkpoints": 10}
    a, b, c = regret(cfg, 5), regret(cfg, 5), regret(cfg, 6)
    for r in (a, b, c):
        r.pop("_timings")
    assert a == b and a != c
    out1 = execute_cell("regret", cfg, 5, "k")
    out2 = execute_cell("mdpkit.experiments.cells:regret", cfg, 5, "k")
    assert out1["ok"] and out1["record_json"] == out2["record_json"]
    assert set(out1["timings"]) == {"wall_s", "build_s", "interaction_s", "evaluation_s"}


def test_local_processes_give_the_same_bits_as_serial(tmp_path):
    sw = tiny(tmp_path)
    serial = run_sweep(sw, results=tmp_path / "serial.sqlite", backend="serial", progress=False)
    local = run_sweep(sw, results=tmp_path / "local.sqlite", backend="local", n_jobs=2, progress=False)
    assert serial.complete and local.complete and serial.ran == local.ran == 12
    assert stored(tmp_path / "serial.sqlite") == stored(tmp_path / "local.sqlite")


def test_rerun_skips_finished_cells_and_extends_with_new_ones(tmp_path):
    sw = tiny(tmp_path, seeds=2)
    first = run_sweep(sw, backend="serial", progress=False)
    assert (first.total, first.skipped, first.ran) == (12, 0, 12)
    again = run_sweep(sw, backend="serial", progress=False)
    assert (again.total, again.skipped, again.ran) == (12, 12, 0) and again.complete
    more = run_sweep(tiny(tmp_path, seeds=3), backend="serial", progress=False)
    assert (more.total, more.skipped, more.ran) == (18, 12, 6)
    with ResultsStore(sw.results, readonly=True) as store:
        assert len(store) == 18 and len(store.runs()) == 2


def test_failing_cells_are_reported_and_retried_by_the_next_run(tmp_path):
    # passes validation (the family exists) but its constructor rejects the parameter at run time
    sw = tiny(tmp_path, seeds=1, instance_params=[{"p_right": 0.35}, {"p_right": 0.9}])
    rep = run_sweep(sw, backend="serial", progress=False)
    assert rep.ran == 6 and len(rep.failed) == 6 and not rep.complete
    assert all("p_right + p_stay" in err for _, err in rep.failed)
    with ResultsStore(sw.results, readonly=True) as store:
        assert len(store.failures()) == 6 and len(store) == 6
    rep2 = run_sweep(sw, backend="serial", progress=False)
    assert rep2.skipped == 6 and len(rep2.failed) == 6


def test_a_local_worker_killed_mid_sweep_is_replaced_and_the_sweep_completes(tmp_path):
    """SIGKILL the worker process that delivered the first record (loky then fails the cells in flight);
    the sweep re-runs what is missing on a fresh pool and ends with the same records as a serial run."""
    sw = tiny(tmp_path, T=20_000, seeds=2)
    killed = []

    def kill_one(cell, out):
        if not killed:
            pid = out["provenance"]["pid"]
            assert pid != os.getpid()
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    rep = run_sweep(sw, backend="local", n_jobs=2, progress=False, on_record=kill_one)
    assert killed and rep.complete and rep.lost >= 1
    ref = run_sweep(sw, results=tmp_path / "ref.sqlite", backend="serial", progress=False)
    assert ref.complete
    assert stored(sw.results) == stored(tmp_path / "ref.sqlite")


def test_load_sweep_from_toml(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(
        """
[sweep]
name = "t"
seeds = { start = 5, count = 2 }
[params]
instance = "riverswim"
T = 500
[grid]
size = [3]
algorithm = ["ucrl2", { name = "random", setting = "continuing" }]
"""
    )
    sw = load_sweep(f)
    assert sw.seeds == (5, 6) and len(sw.validate()) == 4
    assert sw.results == (tmp_path / "results" / "t.sqlite").resolve()
    assert "seeds = { start = 5" in sw.source


BAD = [
    ({"sweep": {"name": "x", "seeds": 1}}, "missing \\[grid\\]"),
    ({"sweep": {"name": "x", "seeds": 1}, "grid": {}, "extra": {}}, "unknown section"),
    (
        {"sweep": {"name": "x", "seeds": 1, "nmae": 2}, "grid": {"size": [1]}},
        "unknown key\\(s\\) \\['nmae'\\]",
    ),
    ({"sweep": {"seeds": 1}, "grid": {"size": [1]}}, "needs a 'name'"),
    ({"sweep": {"name": "a b", "seeds": 1}, "grid": {"size": [1]}}, "sweep name 'a b'"),
    ({"sweep": {"name": "x", "seeds": 0}, "grid": {"size": [1]}}, "positive count"),
    ({"sweep": {"name": "x", "seeds": [1, 1]}, "grid": {"size": [1]}}, "lists 1 more than once"),
    ({"sweep": {"name": "x", "seeds": [-1]}, "grid": {"size": [1]}}, "seeds\\[0\\] = -1"),
    ({"sweep": {"name": "x", "seeds": 1}, "grid": {"size": []}}, "grid.size is an empty list"),
    ({"sweep": {"name": "x", "seeds": 1}, "grid": {"size": 3}}, "grid.size = 3 must be a list"),
    ({"sweep": {"name": "x", "seeds": 1}, "grid": {"size": [3, 3]}}, "lists the value 3 more than once"),
    ({"sweep": {"name": "x", "seeds": 1}, "grid": {"T": [3]}, "params": {"T": 2}}, "both a grid axis"),
    ({"sweep": {"name": "x", "seeds": 1, "experiment": "nope"}, "grid": {"size": [1]}}, "unknown experiment"),
    (
        {"sweep": {"name": "x", "seeds": 1, "experiment": "no.such:fn"}, "grid": {"size": [1]}},
        "cannot be imported",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_bad_sweep_descriptions_are_rejected(tmp_path, data, message):
    with pytest.raises(SweepConfigError, match=message):
        Sweep.from_dict(data, base_dir=tmp_path)


def _cell_error(tmp_path, **changes) -> str:
    params = {"instance": "riverswim", "T": 1000, **changes.pop("params", {})}
    grid = {"size": [3], "algorithm": [{"name": "ucrl2"}], **changes}
    sw = Sweep.from_dict(
        {"sweep": {"name": "x", "seeds": 1}, "params": params, "grid": grid}, base_dir=tmp_path
    )
    with pytest.raises(SweepConfigError) as err:
        run_sweep(sw, results=tmp_path / "r.sqlite", backend="serial", progress=False)
    assert not (tmp_path / "r.sqlite").exists() or len(ResultsStore(tmp_path / "r.sqlite")) == 0
    return str(err.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"algorithm": [{"name": "psrl"}]}, "unknown algorithm 'psrl'"),
        ({"algorithm": [{"name": "ucrl2", "gamma": 0.9}]}, "unknown parameter\\(s\\) \\['gamma'\\]"),
        ({"algorithm": [{"name": "ucrl2", "setting": "episodic", "H": 5}]}, "does not support the episodic"),
        ({"algorithm": [{"name": "ucbvi", "setting": "episodic"}]}, "needs a horizon H"),
        ({"algorithm": [{"name": "random"}]}, "say which with setting"),
        ({"algorithm": [{"name": "ucrl2", "H": 4}]}, "H = 4 has no meaning"),
        ({"algorithm": [{"name": "ucbvi", "H": 2000}]}, "shorter than one episode"),
        ({"size": [0]}, "size = 0 must be a positive integer"),
        ({"params": {"instance": "riverswimm"}}, "unknown instance 'riverswimm'"),
        ({"params": {"T": -5}}, "T = -5 must be a positive integer"),
        ({"params": {"horizon": 5}}, "unknown key\\(s\\) \\['horizon'\\]"),
        ({"params": {"reward_noise": "gauss"}}, "reward_noise = 'gauss'"),
        ({"params": {"checkpoints": [10, 5000]}}, "checkpoint 5000 is beyond"),
    ],
)
def test_bad_cell_configs_are_rejected_before_anything_runs(tmp_path, changes, message):
    import re

    msg = _cell_error(tmp_path, **changes)
    assert re.search(message, msg), msg
    assert "cell {" in msg  # the offending cell is named


def test_backend_errors():
    with pytest.raises(InvalidArgumentError, match="backend = 'spark'"):
        make_backend("spark")
    with pytest.raises(InvalidArgumentError, match="--address is for the dask and ray"):
        make_backend("local", address="tcp://127.0.0.1:1")
    try:
        import ray  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailableError, match="needs the ray package"):
            make_backend("ray")
