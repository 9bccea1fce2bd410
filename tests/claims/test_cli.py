"""``mdpkit verify``: exit codes, stdout table, report files, archiving of previous reports."""

from __future__ import annotations

import argparse
import json
import sys

import pytest

import mdpkit.cli
from mdpkit.claims import cli


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.main(parser.parse_args([*argv, "--no-progress"]))


def test_all_match_exits_0_and_writes_both_reports(proofs, tmp_path, capsys):
    folder = proofs("one")
    out = tmp_path / "out"
    assert _run("--proofs", str(folder), "--out", str(out)) == 0
    stdout = capsys.readouterr().out
    assert "one" in stdout and "1 claims: 1 match, 0 mismatch (0 errors)" in stdout
    doc = json.loads((out / "report.json").read_text())
    assert doc["summary"] == {"claims": 1, "matches": 1, "mismatches": 0, "errors": 0, "exit_code": 0}
    assert doc["results"][0]["id"] == "one" and doc["results"][0]["match"] is True
    assert doc["meta"]["budget"] == "quick" and doc["meta"]["seed"] == 0
    md = (out / "report.md").read_text()
    assert "| id | paper | expected | verdict | match | time (s) |" in md
    assert "**Statement.** a statement" in md and "computed with seed 0" in md
    assert not list(out.glob(".*.tmp"))


def test_expected_differs_exits_1(proofs, tmp_path, capsys):
    proofs("fine")
    folder = proofs("wrong", status="refuted", expected="holds")
    out = tmp_path / "out"
    assert _run("--proofs", str(folder), "--out", str(out), "--seed", "7", "--budget", "full") == 1
    assert "NO" in capsys.readouterr().out
    doc = json.loads((out / "report.json").read_text())
    assert doc["summary"]["mismatches"] == 1 and doc["summary"]["exit_code"] == 1
    assert doc["meta"]["seed"] == 7 and doc["meta"]["max_examples"] == 500
    assert {r["id"]: r["match"] for r in doc["results"]} == {"fine": True, "wrong": False}
    # selecting only the matching claim exits 0
    assert _run("--proofs", str(folder), "--out", str(out), "fine") == 0


def test_failing_import_is_an_error_row_and_exits_1(proofs, tmp_path):
    proofs("fine")
    folder = proofs("broken", source="raise RuntimeError('half-written claim file')\n")
    out = tmp_path / "out"
    assert _run("--proofs", str(folder), "--out", str(out)) == 1
    doc = json.loads((out / "report.json").read_text())
    rows = {r["id"]: r for r in doc["results"]}
    assert rows["<broken.py>"]["status"] == "error"
    assert "half-written claim file" in rows["<broken.py>"]["evidence"]
    assert rows["fine"]["status"] == "holds"
    assert doc["summary"]["errors"] == 1


def test_check_that_raises_exits_1(proofs, tmp_path):
    folder = proofs(
        "raises",
        source="""
        from mdpkit.claims import Claim
        def check(budget):
            raise ValueError("bad instance")
        CLAIM = Claim("raises", "p", "s", "a", check, "holds")
        """,
    )
    out = tmp_path / "out"
    assert _run("--proofs", str(folder), "--out", str(out)) == 1
    md = (out / "report.md").read_text()
    assert "check raised ValueError: bad instance" in md and "**Error.**" in md


def test_previous_reports_are_archived_never_overwritten(proofs, tmp_path):
    folder = proofs("flip", status="holds", expected="holds")
    out = tmp_path / "out"
    assert _run("--proofs", str(folder), "--out", str(out)) == 0
    first_md, first_json = (out / "report.md").read_bytes(), (out / "report.json").read_bytes()
    proofs("flip", status="refuted", expected="holds")
    assert _run("--proofs", str(folder), "--out", str(out)) == 1
    assert _run("--proofs", str(folder), "--out", str(out)) == 1
    hist = sorted((out / "history").iterdir())
    assert len(hist) == 4  # two previous runs, .md and .json each, with distinct names
    assert len({p.name for p in hist}) == 4
    assert any(p.read_bytes() == first_md for p in hist if p.suffix == ".md")
    assert any(p.read_bytes() == first_json for p in hist if p.suffix == ".json")
    doc = json.loads((out / "report.json").read_text())
    assert doc["results"][0]["status"] == "refuted"
    assert doc["changes"] == []  # the third run repeats the second
    second = [json.loads(p.read_text()) for p in hist if p.suffix == ".json"]
    assert any(d["changes"] == [{"id": "flip", "before": "holds", "now": "refuted"}] for d in second)
    assert any("| `flip` | holds | refuted |" in p.read_text() for p in hist if p.suffix == ".md")


def test_counterexample_is_printed_as_matrices(proofs, tmp_path):
    cx = (
        "__import__('mdpkit.claims.exact', fromlist=['x']).counterexample_dict("
        "([[[0.5, 0.5], [1, 0]], [[0, 1], [0.25, 0.75]]], [[1, 0], [0, 2]], 0.9), policy=[0, 1])"
    )
    folder = proofs("cex", status="refuted", expected="refuted", counterexample=cx)
    out = tmp_path / "out"
    assert _run("--proofs", str(folder), "--out", str(out)) == 0
    md = (out / "report.md").read_text()
    assert "S = 2, A = 2, gamma = 9/10" in md
    assert "P[s, a=1, s']" in md
    assert "    [ 1/2  1/2 ]\n    [   0    1 ]" in md  # P[s, a=0, s'], columns aligned
    assert "policy = [0, 1]" in md


def test_list_and_usage_errors(proofs, tmp_path, capsys, monkeypatch):
    proofs("listed")
    folder = proofs("broken", source="raise RuntimeError('x')\n")
    assert _run("--proofs", str(folder), "--list") == 1  # a file failed to load
    text = capsys.readouterr().out
    assert "listed" in text and "<broken.py>" in text
    out = tmp_path / "out"
    # unknown ids and duplicate ids are usage errors: exit 2 through the top-level CLI, no report written
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    assert (
        mdpkit.cli.main(["verify", "--proofs", str(folder), "--out", str(out), "--no-progress", "nope"]) == 2
    )
    assert "no claim matches 'nope'" in capsys.readouterr().err
    proofs("listed2", cid="listed")
    assert mdpkit.cli.main(["verify", "--proofs", str(folder), "--out", str(out), "--no-progress"]) == 2
    assert "defined in listed.py and listed2.py" in capsys.readouterr().err
    assert not out.exists()


def test_negative_seed_is_rejected(proofs):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--seed", "-1"])


def test_unreadable_previous_report_is_archived_and_noted(proofs, tmp_path):
    folder = proofs("one")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("{ not json")
    (out / "report.md").write_text("old report")
    assert _run("--proofs", str(folder), "--out", str(out)) == 0
    kept = sorted(p.read_text() for p in (out / "history").iterdir())
    assert kept == ["old report", "{ not json"]
    assert "could not be read" in (out / "report.md").read_text()
    assert json.loads((out / "report.json").read_text())["summary"]["exit_code"] == 0
