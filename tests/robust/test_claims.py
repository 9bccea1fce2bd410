"""Every robust / IWOCS claim file returns its expected verdict under the quick budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdpkit.claims import Budget
from mdpkit.claims.registry import load_claim_file

ROOT = Path(__file__).resolve().parents[2] / "proofs"
PROOFS = sorted([*ROOT.glob("robust_*.py"), *ROOT.glob("iwocs_*.py")])
CLAIMS = [c for p in PROOFS for c in load_claim_file(p)]


def test_claim_files_exist():
    ids = {c.id for c in CLAIMS}
    assert {
        "iwocs.property1",
        "iwocs.property2",
        "iwocs.robust-vi-when-converged",
        "iwocs.never-stalls-rectangular",
        "robust.static-gt-dynamic",
        "iwocs.static-optimum-on-certified-instance",
    } <= ids


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_verdict_matches_expected(claim):
    verdict = claim.check(Budget.named("quick"))
    assert verdict.status == claim.expected, verdict.evidence
    json.dumps(verdict.data)
    json.dumps(verdict.counterexample)
    if verdict.status == "refuted":
        assert verdict.counterexample
