"""The four foundation claims: each holds under the quick budget, and each check detects a planted bug."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mdpkit
from mdpkit.claims import Budget
from mdpkit.claims.registry import default_proofs_dir, load_claim_file

FILES = ("core_solvers_agree", "core_average_bellman", "pdl_identity", "pgt_identity")


def _claim(name: str):
    (claim,) = load_claim_file(default_proofs_dir() / f"{name}.py")
    return claim


@pytest.mark.parametrize("name", FILES)
def test_claim_holds_under_quick_budget(name):
    claim = _claim(name)
    verdict = claim.check(Budget.named("quick"))
    assert verdict.status == claim.expected == "holds", verdict.evidence
    assert verdict.evidence and verdict.counterexample is None


def test_solvers_agree_detects_a_value_off_by_more_than_its_bound(monkeypatch):
    solve = mdpkit.solve

    def biased(mdp, method="pi", tol=1e-10, **kw):
        sol = solve(mdp, method=method, tol=tol, **kw)
        if method == "mpi":
            return dataclasses.replace(sol, V=sol.V + 1e-6)
        return sol

    monkeypatch.setattr(mdpkit, "solve", biased)
    verdict = _claim("core_solvers_agree").check(Budget.named("quick"))
    assert verdict.status == "refuted"
    assert verdict.counterexample["method"] == "mpi"
    assert "mpi on dyadic#0" in verdict.evidence
    assert verdict.counterexample["exact"] is True  # the failing small model is printed exactly


def test_pdl_detects_a_wrong_library_result(monkeypatch):
    pd = mdpkit.performance_difference
    monkeypatch.setattr(
        mdpkit, "performance_difference", lambda m, n, o: tuple(x + 1e-7 for x in pd(m, n, o))
    )
    verdict = _claim("pdl_identity").check(Budget.named("quick"))
    assert verdict.status == "refuted" and "mdpkit.performance_difference" in verdict.evidence


def test_average_detects_a_wrong_gain(monkeypatch):
    avg = mdpkit.average_reward

    def shifted(mdp, method="rvi", tol=1e-10, **kw):
        sol = avg(mdp, method=method, tol=tol, **kw)
        return dataclasses.replace(sol, gain=sol.gain + 1e-6) if method == "rvi" else sol

    monkeypatch.setattr(mdpkit, "average_reward", shifted)
    verdict = _claim("core_average_bellman").check(Budget.named("quick"))
    assert verdict.status == "refuted" and "optimality-equation residual" in verdict.evidence


def test_pgt_detects_a_wrong_gradient(monkeypatch):
    claim = _claim("pgt_identity")
    module = __import__("sys").modules[claim.check.__module__]
    right = module.pgt_gradient
    monkeypatch.setattr(module, "pgt_gradient", lambda *a: right(*a) * (1 + 1e-9))
    verdict = claim.check(Budget.named("quick"))
    assert verdict.status == "refuted" and np.asarray(verdict.counterexample["theta"]).shape[0] >= 1
