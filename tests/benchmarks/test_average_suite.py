"""Smoke run of ``mdpkit bench average --quick``: gains verified, peers agree, EVI twins agree."""

from __future__ import annotations

import argparse

from mdpkit import bench


def test_average_suite_quick() -> None:
    mod = bench.load_suite("average")
    args = argparse.Namespace(quick=True, repeat=1, budget=None, seed=0, eps_rel=1e-6, only=None)
    report = mod.run(args)
    assert report.ok
    gains, evi = report.tables
    assert len(gains.rows) == 3 and all(row[-1] is True for row in gains.rows)
    for row in gains.rows:  # every peer answered, within eps of ours (no "WRONG", no timeout)
        assert all(isinstance(c, float) for c in row[6:9]), row
    assert evi.rows and all(row[-1] is True and row[-2] <= 1e-8 for row in evi.rows)
