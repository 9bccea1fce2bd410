"""Smoke run of ``mdpkit bench combinatorial --quick``: tables produced, every answer checked (no timings)."""

from __future__ import annotations

import argparse

from mdpkit import bench


def test_combinatorial_suite_quick() -> None:
    mod = bench.load_suite("combinatorial")
    args = argparse.Namespace(quick=True, repeat=1, budget=None, seed=0, eps_rel=1e-6, only=None)
    report = mod.run(args)
    assert report.ok
    titles = [t.title for t in report.tables]
    assert len(titles) == 3 and titles[0].startswith("Held-Karp")
    held_karp, vs, counts = report.tables
    assert all(row[-1] == "ok" for row in held_karp.rows)
    assert all(row[-1] is True for row in vs.rows)
    tsp10 = [row for row in counts.rows if row[0].startswith("TSP") and row[1] == 10][0]
    assert (tsp10[2], tsp10[3]) == ("986410", "2305")
    assert "| n |" in report.to_markdown()
