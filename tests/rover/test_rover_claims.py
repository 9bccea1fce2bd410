"""Every ROVER claim file returns its expected verdict (reduced hypothesis budget)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdpkit.claims import Budget
from mdpkit.claims.registry import load_claim_file

PROOFS = sorted((Path(__file__).resolve().parents[2] / "proofs").glob("rover_*.py"))


def test_claim_files_exist():
    names = {p.stem for p in PROOFS}
    assert {"rover_thm31", "rover_thm31_nonbinary", "rover_thm31_stochastic", "rover_thm32"} <= names


@pytest.mark.parametrize("path", PROOFS, ids=[p.stem for p in PROOFS])
def test_claim_verdict_matches_expected(path):
    (claim,) = load_claim_file(path)
    assert claim.id.startswith("rover.")
    verdict = claim.check(Budget("quick", 20, 1))
    assert verdict.status == claim.expected, verdict.evidence
    json.dumps(verdict.counterexample)  # JSON-serialisable certificate
    json.dumps(verdict.data)
    if verdict.status == "refuted":
        assert verdict.counterexample
