"""The runner: verdicts, errors, timing, warnings and process state around each check."""

from __future__ import annotations

import json
import warnings
from fractions import Fraction

import numpy as np
import pytest

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.registry import discover
from mdpkit.claims.runner import ERROR, json_safe, run_claim, run_claims
from mdpkit.errors import InvalidArgumentError


def _claim(check, expected="holds", cid="t.claim"):
    return Claim(cid, "paper", "statement", "assumptions", check, expected)


def test_verdict_row_matches_expected():
    row = run_claim(
        _claim(lambda b: Verdict("holds", f"seed {b.seed}", data={"x": np.float64(0.5)})), Budget()
    )
    assert row.status == "holds" and row.match
    assert row.evidence == "seed 0"
    assert row.data == {"x": 0.5}
    assert row.seconds >= 0.0 and row.error is None


def test_mismatch_is_not_a_match():
    row = run_claim(_claim(lambda b: Verdict("refuted", "found one"), expected="holds"), Budget())
    assert row.status == "refuted" and not row.match


def test_exception_becomes_error_row_with_traceback():
    def check(budget):
        raise ZeroDivisionError("divided by zero in the check")

    row = run_claim(_claim(check), Budget())
    assert row.status == ERROR and not row.match
    assert "ZeroDivisionError: divided by zero" in row.evidence
    assert "divided by zero in the check" in row.error
    assert "def check" not in row.evidence


def test_non_verdict_return_is_an_error():
    row = run_claim(_claim(lambda b: "holds"), Budget())
    assert row.status == ERROR and "not a Verdict" in row.evidence


def test_error_never_matches_even_if_expected_would_be_error():
    row = run_claim(_claim(lambda b: 1 / 0, expected="inconclusive"), Budget())
    assert not row.match


def test_warnings_are_recorded_and_numpy_state_restored():
    before = np.geterr()

    def check(budget):
        np.seterr(all="ignore")
        np.set_printoptions(precision=2)
        for _ in range(3):  # the same warning from the same line is kept once
            warnings.warn("watch out", RuntimeWarning, stacklevel=1)
        return Verdict("holds", "ok")

    row = run_claim(_claim(check), Budget())
    assert np.geterr() == before
    assert np.get_printoptions()["precision"] == 8
    assert len(row.warnings) == 1 and "RuntimeWarning: watch out" in row.warnings[0]


def test_counterexample_and_data_are_json_safe():
    def check(budget):
        cx = {"P": np.array([[0.5, 0.5]]), "gap": Fraction(-1, 3), "policy": np.array([0, 1])}
        return Verdict("refuted", "x", counterexample=cx, data={"inf": float("inf"), "arr": np.arange(3)})

    row = run_claim(_claim(check), Budget())
    doc = json.loads(json.dumps(row.to_json(), allow_nan=False))
    assert doc["counterexample"] == {"P": [["1/2", "1/2"]], "gap": "-1/3", "policy": [0, 1]}
    assert doc["data"] == {"inf": "inf", "arr": [0, 1, 2]}
    assert doc["match"] is False


def test_json_safe_keeps_floats_as_numbers():
    assert json_safe({"a": np.float32(0.25), "b": (1, np.int64(2)), "c": np.bool_(True)}) == {
        "a": 0.25,
        "b": [1, 2],
        "c": True,
    }


def test_run_claims_orders_rows_by_file_and_adds_load_errors(proofs):
    proofs("b_second")
    proofs("a_broken", source="raise ImportError('cannot')\n")
    folder = proofs("c_third", status="refuted", expected="refuted")
    reg = discover(folder)
    rows = run_claims(reg.claims, Budget.named("quick", seed=5), reg.errors, progress=False)
    assert [r.id for r in rows] == ["<a_broken.py>", "b.second", "c.third"]
    assert [r.status for r in rows] == [ERROR, "holds", "refuted"]
    assert [r.match for r in rows] == [False, True, True]
    assert rows[1].evidence == "computed with seed 5"
    assert rows[0].expected is None and "ImportError: cannot" in rows[0].evidence


def test_budget_helpers_are_deterministic():
    b = Budget.named("full", seed=3)
    assert b.max_examples == 500 and b.pick(1, 2) == 2 and Budget.named("quick").pick(1, 2) == 1
    x = b.rng("claim.a").random(3)
    np.testing.assert_array_equal(x, Budget.named("full", seed=3).rng("claim.a").random(3))
    assert not np.array_equal(x, b.rng("claim.b").random(3))
    assert not np.array_equal(x, Budget.named("full", seed=4).rng("claim.a").random(3))
    with pytest.raises(InvalidArgumentError, match="'medium'"):
        Budget.named("medium")
