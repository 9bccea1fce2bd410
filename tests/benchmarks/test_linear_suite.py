"""Smoke run of ``mdpkit bench linear --quick``: DP answers certified, matched by cvxpy."""

from __future__ import annotations

import argparse

from mdpkit import bench


def test_linear_suite_quick() -> None:
    mod = bench.load_suite("linear")
    args = argparse.Namespace(quick=True, repeat=1, budget=None, seed=0, eps_rel=1e-6, only=None)
    report = mod.run(args)
    assert report.ok
    (table,) = report.tables
    cases = {(row[0], row[5]) for row in table.rows}
    assert cases == {(c, dv) for c in ("sim5", "put", "rand-d4-S10-H3") for dv in ("tv", "kl")}
    for row in table.rows:
        err, tol, ok = row[-3:]
        assert ok is True and err <= tol
    for rec in report.records:
        assert rec["certificate"] <= rec["certificate_tol"]  # worst_mu is in the ball and reproduces V
        assert len(rec["max_err"]) == 2 and max(rec["max_err"]) <= rec["tol"]  # both cvxpy variants agree
    assert "| x vs primal |" in report.to_markdown()
