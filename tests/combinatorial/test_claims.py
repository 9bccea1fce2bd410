"""The BQ-NCO claim files (proofs/bq_*.py) load and return their expected verdict under the quick budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdpkit.claims import Budget
from mdpkit.claims.registry import load_claim_file

PROOFS = Path(__file__).resolve().parents[2] / "proofs"
FILES = sorted(PROOFS.glob("bq_*.py"))


def test_claim_files_exist():
    assert {f.stem for f in FILES} >= {"bq_optimal_policy", "bq_bisimulation"}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_claim_verdict_is_expected(path):
    (claim,) = load_claim_file(path)
    verdict = claim.check(Budget.named("quick"))
    assert verdict.status == claim.expected, verdict.evidence
    assert verdict.evidence
