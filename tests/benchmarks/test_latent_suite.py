"""Smoke run of ``mdpkit bench latent --quick``: planner = brute force = belief DP (no timings)."""

from __future__ import annotations

import argparse

from mdpkit import bench


def test_latent_suite_quick() -> None:
    mod = bench.load_suite("latent")
    args = argparse.Namespace(quick=True, repeat=1, budget=None, seed=0, eps_rel=1e-6, only=None)
    report = mod.run(args)
    assert report.ok
    (table,) = report.tables
    assert {row[0] for row in table.rows} == {"det", "rand", "revealing"}
    assert all(row[-1] is True for row in table.rows)
    # brute force ran (and agreed) on at least one horizon of every family
    for fam in ("det", "rand", "revealing"):
        assert any(row[0] == fam and row[4] is not None for row in table.rows)
    for rec in report.records:
        assert rec["errors"] and max(rec["errors"]) <= 1e-10
