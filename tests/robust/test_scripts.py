"""The windy-walk figure regenerates from its script; the robust benchmark suite runs and checks itself."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_windy_walk_figure_regenerates(tmp_path):
    from mdpkit.plotting import run_figure

    fig = _load(ROOT / "paper_figures" / "robust_windy_walk.py")
    result = run_figure(fig.FIGURE, tmp_path)
    for ext in ("png", "pdf", "csv"):
        assert (tmp_path / f"robust_windy_walk.{ext}").stat().st_size > 0
    rows = list(csv.DictReader((tmp_path / "robust_windy_walk.csv").open()))
    sweep = [r for r in rows if r["panel"] == "sweep"]
    assert len(sweep) == 25 and all(r["status"] == "converged" for r in sweep)
    assert max(abs(float(r["J_worst"]) - float(r["J_robust_vi"])) for r in sweep) < 1e-8
    replot = run_figure(fig.FIGURE, tmp_path, replot=True)
    assert replot.rows == result.rows


def test_benchmark_suite_quick():
    suite = _load(ROOT / "benchmarks" / "robust.py")
    args = argparse.Namespace(quick=True, repeat=1, budget=5.0, seed=0, eps_rel=1e-6, only=None)
    report = suite.run(args)
    assert report.ok
    assert [len(t.rows) for t in report.tables] == [3, 3]
    assert "robust" in report.to_markdown().lower()


@pytest.mark.parametrize("name", ["robust_l1_worst_case.py", "robust_iwocs_windy_walk.py"])
def test_examples_run(name, capsys):
    runpy.run_path(str(ROOT / "examples" / name), run_name="__main__")
    assert capsys.readouterr().out
