"""``mdpkit bench``: suite discovery, the report model, the isolation helpers and a smoke run of ``core``.

No timing is asserted anywhere: the machine is shared. The smoke run checks that the tables are produced,
that every one of our solvers returns a certified eps-optimal policy, and that the ratios are finite.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import pytest

from mdpkit import bench
from mdpkit.cli import main as cli_main
from mdpkit.errors import InvalidArgumentError

TOY_SUITE = '''"""A toy suite used by the tests.

More text that --list does not show.
"""

from mdpkit.bench import Report, Table


def run(args):
    t = Table("toy", ["name", "value"])
    t.add("a", 1.5)
    return Report("toy", "Toy suite", tables=[t], ok=not args.quick)
'''


def _args(**kw: object) -> argparse.Namespace:
    base = dict(quick=True, repeat=1, budget=None, seed=0, eps_rel=1e-6, only=None, out=None, no_write=False)
    base.update(kw)
    return argparse.Namespace(**base)


def test_discover_lists_core_from_the_repository() -> None:
    suites = bench.discover()
    assert "core" in suites
    assert suites["core"].parent == bench.benchmarks_dir()
    assert bench.benchmarks_dir().name == "benchmarks"
    assert "QuantEcon" in bench.describe(suites["core"])


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["bench", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("core ") and "QuantEcon" in line for line in lines)
    assert len(lines) == len(bench.discover())


def test_a_suite_is_one_file(tmp_path: Path) -> None:
    (tmp_path / "toy.py").write_text(TOY_SUITE)
    (tmp_path / "_helper.py").write_text("x = 1\n")
    assert list(bench.discover(tmp_path)) == ["toy"]
    assert bench.describe(tmp_path / "toy.py") == "A toy suite used by the tests."
    report = bench.load_suite("toy", tmp_path).run(_args())
    md = report.to_markdown()
    assert "### toy" in md and "| a | 1.5 |" in md
    assert json.loads(json.dumps(report.to_json()))["tables"][0]["rows"] == [["a", 1.5]]
    with pytest.raises(InvalidArgumentError, match="no benchmark suite 'nope'"):
        bench.load_suite("nope", tmp_path)
    (tmp_path / "bad.py").write_text('"""No run function."""\n')
    with pytest.raises(InvalidArgumentError, match="defines no run"):
        bench.load_suite("bad", tmp_path)


def test_table_rows_must_match_columns() -> None:
    t = bench.Table("t", ["a", "b"])
    with pytest.raises(InvalidArgumentError, match="2 columns"):
        t.add(1, 2, 3)
    t.add(float("inf"), None)
    t.add(True, "x|y")
    assert "| inf | - |" in t.to_markdown()
    assert "| yes | x\\|y |" in t.to_markdown()
    assert t.to_json()["rows"][0] == ["inf", None]


def test_fmt() -> None:
    assert bench.fmt(0.000123456) == "0.000123"
    assert bench.fmt(12.3456) == "12.35"
    assert bench.fmt(1.5e7) == "1.5e+07"
    assert bench.fmt(float("nan")) == "nan"
    assert bench.fmt(0.0) == "0"


def test_time_repeats_counts_calls_and_respects_the_budget() -> None:
    calls: list[int] = []
    times, last = bench.time_repeats(lambda: calls.append(1) or len(calls), repeat=4)
    assert len(times) == 4 and last == 4 and all(t >= 0 for t in times)
    calls.clear()
    times, _ = bench.time_repeats(lambda: time.sleep(0.02), repeat=50, budget=0.03)
    assert len(times) == 1  # the first call already used a third of the budget
    made: list[int] = []
    times, res = bench.time_repeats(lambda x: x + 1, repeat=3, setup=lambda: made.append(0) or len(made))
    assert (len(times), res, len(made)) == (3, 4, 3)


def _sleep_forever(_state: object) -> None:
    time.sleep(60)


def _fail(_state: object) -> None:
    raise ValueError("boom 7")


def test_run_isolated_ok_timeout_error() -> None:
    ok = bench.run_isolated(lambda: 20, lambda s: s + 1, timeout=30)
    assert (ok.status, ok.value) == ("ok", 21)
    assert ok.setup_s >= 0
    slow = bench.run_isolated(lambda: None, _sleep_forever, timeout=0.5)
    assert slow.status == "timeout"
    bad = bench.run_isolated(lambda: None, _fail, timeout=30)
    assert bad.status == "error" and "ValueError: boom 7" in bad.error


STREAM_SUITE = '''"""Helpers for the run_fresh tests."""

import time


def run(args):
    raise NotImplementedError


def items(n, hang):
    for i in range(n):
        yield {"i": i}
    if hang:
        time.sleep(60)


def plain(x):
    return x * 2


def boom():
    raise ValueError("bad 3")
'''


def test_run_fresh_streams_items_and_keeps_them_on_timeout(tmp_path: Path) -> None:
    (tmp_path / "stream.py").write_text(STREAM_SUITE)
    ok = bench.run_fresh("stream", "items", {"n": 3, "hang": False}, timeout=30, root=tmp_path)
    assert (ok.status, ok.value) == ("ok", [{"i": 0}, {"i": 1}, {"i": 2}])
    plain = bench.run_fresh("stream", "plain", {"x": 21}, timeout=30, root=tmp_path)
    assert (plain.status, plain.value) == ("ok", 42)
    hung = bench.run_fresh("stream", "items", {"n": 2, "hang": True}, timeout=1.0, startup=30, root=tmp_path)
    assert hung.status == "timeout"
    assert hung.value == [{"i": 0}, {"i": 1}]
    bad = bench.run_fresh("stream", "boom", {}, timeout=30, root=tmp_path)
    assert bad.status == "error" and "ValueError: bad 3" in bad.error


def test_main_validates_options() -> None:
    with pytest.raises(InvalidArgumentError, match="--repeat"):
        bench.main(_args(suite="core", list=False, repeat=0))
    with pytest.raises(InvalidArgumentError, match="--eps-rel"):
        bench.main(_args(suite="core", list=False, eps_rel=2.0))
    assert cli_main(["bench", "no_such_suite", "--quick"]) == 2
    with pytest.raises(InvalidArgumentError, match="unknown case"):
        bench.main(_args(suite="core", list=False, only="dense,nope"))


def test_core_quick_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("quantecon")
    pytest.importorskip("mdptoolbox")
    rc = cli_main(["bench", "core", "--quick", "--repeat", "1", "--budget", "60", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "### Ratios" in printed and "### One dense Bellman sweep" in printed
    md = (tmp_path / "core.md").read_text()
    assert md.strip() == printed.strip()
    data = json.loads((tmp_path / "core.json").read_text())
    assert data["ok"] is True
    cases = [r for r in data["records"] if "case" in r]
    assert [c["case"] for c in cases] == ["dense", "garnet", "gridworld", "riverswim"]
    for c in cases:
        ours = [r for r in c["rows"] if r["library"] == "mdpkit"]
        assert sorted(r["method"] for r in ours) == ["mpi", "pi", "vi"]
        for r in ours:
            assert r["status"] == "ok" and r["check"]["ok"] is True, (c["case"], r)
            assert r["check"]["gap"] <= c["eps"]
        for key in ("ratio_quantecon", "ratio_pymdptoolbox"):
            assert isinstance(c[key], float) and math.isfinite(c[key]) and c[key] > 0, (c["case"], key)
        # peers are verified, not trusted: every peer row that ran carries a certified check
        for r in c["rows"]:
            if r["status"] == "ok":
                assert set(r["check"]) >= {"gap", "gap_over_eps", "ok"}
    bw = next(r["bandwidth"] for r in data["records"] if "bandwidth" in r)
    assert bw["copy_1t_GBs"] > 0
    kernels = {(s["kernel"], s["dtype"]) for s in bw["sweeps"]}
    assert ("mdpkit bellman (numba)", "float32") in kernels
    assert all(math.isfinite(s["GBs"]) and s["GBs"] > 0 for s in bw["sweeps"])


def test_markdown_escapes_pipes_in_headers_and_cells():
    """A column named ``max |dQ|`` must not split the rendered Markdown table."""
    md = bench.Table("t", ["max |dQ|", "b"], [[1.0, "a|b"]]).to_markdown().splitlines()
    assert md[2] == "| max \\|dQ\\| | b |"
    assert md[4] == "| 1 | a\\|b |"
