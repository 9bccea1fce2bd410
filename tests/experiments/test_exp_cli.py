"""``mdpkit run SWEEP.toml`` and ``mdpkit report RESULTS``."""

from __future__ import annotations

import sys

import pytest

from mdpkit.cli import main

TOML = """
[sweep]
name = "cli-test"
seeds = 2
results = "out/cli.sqlite"

[params]
instance = "riverswim"
T = 3000
checkpoints = 15

[grid]
size = [3]
algorithm = [
    {{ name = "ucbvi", label = "UCBVI-BF", setting = "episodic", H = 5 }},
    {{ name = "ucrl2", label = "UCRL2" }},
    {{ name = "random", setting = "continuing" }},
]
{extra}
"""


@pytest.fixture
def cli(monkeypatch, capsys):
    def run(*argv: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["mdpkit"])
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_run_then_report(tmp_path, cli):
    toml = tmp_path / "sweep.toml"
    toml.write_text(TOML.format(extra=""))
    code, out, _ = cli("run", str(toml), "--dry-run")
    assert code == 0 and "3 grid points x 2 seeds = 6 cells; 0 stored" in out
    code, out, _ = cli("run", str(toml), "--backend", "serial", "--no-progress")
    assert code == 0 and "6 cells, 0 already stored, 6 run now, 0 failed" in out
    code, out, _ = cli("run", str(toml), "--backend", "serial", "--no-progress")
    assert code == 0 and "6 already stored, 0 run now" in out
    code, out, _ = cli("report", str(toml), "--fit-range", "300", "3000")
    assert code == 0
    assert (
        "| algorithm | setting | instance | size | seeds | T | regret(T) [95% CI] | log-log slope [95% CI]"
        in out
    )
    assert "| UCBVI-BF | episodic | riverswim | 3 | 2 | 3000 |" in out
    report = tmp_path / "out" / "cli-report"
    for name in ("summary.md", "summary.csv", "regret.png", "regret.pdf"):
        assert (report / name).stat().st_size > 0
    # the report reads the results file directly too, and can summarise another field
    code, out, _ = cli("report", str(tmp_path / "out" / "cli.sqlite"), "--y", "pseudo_regret", "--no-plot")
    assert code == 0 and "| UCRL2 | continuing |" in out and "UCBVI-BF" not in out


def test_failed_cells_make_the_run_fail(tmp_path, cli):
    toml = tmp_path / "sweep.toml"
    toml.write_text(TOML.format(extra="instance_params = [{ p_stay = 0.9 }]"))
    code, out, err = cli("run", str(toml), "--backend", "serial", "--no-progress")
    assert code == 1 and "6 failed" in out
    assert "FAILED" in err and "p_right + p_stay" in err and "run again to retry" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sweep]\nname = 'x'\nseeds = 1\n[grid]\nsize = [3]\nalgorithm = ['ucrl2']\n", "needs 'instance'"),
        ("[sweep\nname = 'x'", "is not valid TOML"),
        ("[sweep]\nname = 'x'\nseeds = 1\n[grid]\nsize = [3]\n[oops]\n", "unknown section"),
    ],
)
def test_bad_sweep_files_exit_with_status_2_and_a_clear_message(tmp_path, cli, text, message):
    toml = tmp_path / "bad.toml"
    toml.write_text(text)
    code, _, err = cli("run", str(toml), "--backend", "serial")
    assert code == 2 and "SweepConfigError" in err and message in err


def test_report_errors(tmp_path, cli):
    code, _, err = cli("report", str(tmp_path / "none.sqlite"))
    assert code == 2 and "does not exist" in err
    code, _, err = cli("run", str(tmp_path / "none.toml"))
    assert code == 2 and "does not exist" in err
