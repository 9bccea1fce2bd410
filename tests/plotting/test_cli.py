"""``mdpkit figures`` on a temporary folder of tiny figure scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdpkit.cli import main as mdpkit_main
from mdpkit.plotting import read_rows
from tests.plotting.conftest import write_script


def run(*argv: str) -> int:
    return mdpkit_main(["figures", *argv])


def test_figures_makes_every_figure_and_prints_outputs_time_summary(
    figures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert run("--figures-dir", str(figures_dir), "--out", str(out)) == 0
    text = capsys.readouterr().out
    for name in ("alpha", "beta"):
        assert all((out / f"{name}.{ext}").is_file() for ext in ("csv", "png", "pdf"))
        assert f"{name}: " in text and str(out / f"{name}.png") in text
        assert len(read_rows(out / f"{name}.csv")) == 6  # full version
    assert "6 rows" in text and "2 figure(s) made" in text


def test_quick_goes_to_out_quick_by_default_and_names_select(figures_dir: Path) -> None:
    assert run("beta", "--quick", "--figures-dir", str(figures_dir)) == 0
    quick = figures_dir / "out" / "quick"
    assert sorted(p.name for p in quick.iterdir()) == ["beta.csv", "beta.pdf", "beta.png"]
    assert len(read_rows(quick / "beta.csv")) == 3
    assert not (figures_dir / "out" / "alpha.csv").exists()
    assert run("b*", "--quick", "--replot", "--figures-dir", str(figures_dir)) == 0


def test_a_failing_figure_is_named_and_the_others_still_run(
    figures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_script(figures_dir, "boom", "failing")
    write_script(figures_dir, "cannot_import", "import no_such_module_xyz\n")
    out = tmp_path / "out"
    assert run("--figures-dir", str(figures_dir), "--out", str(out)) == 1
    captured = capsys.readouterr()
    assert "boom: FAILED: RuntimeError: compute exploded on purpose" in captured.err
    assert "cannot_import: FAILED to load" in captured.err and "ModuleNotFoundError" in captured.err
    assert "FAILED: cannot_import, boom" in captured.out
    assert (out / "alpha.png").is_file() and (out / "beta.png").is_file()
    assert not (out / "boom.png").exists()
    # selecting only the good ones succeeds
    assert run("alpha", "beta", "--figures-dir", str(figures_dir), "--out", str(out)) == 0


def test_list_and_unknown_names(figures_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--list", "--figures-dir", str(figures_dir)) == 0
    assert "alpha  a tiny test figure" in capsys.readouterr().out
    assert not (figures_dir / "out").exists()
    assert run("gamma", "--figures-dir", str(figures_dir)) == 2
    err = capsys.readouterr().err
    assert "no figure matches 'gamma'" in err and "alpha, beta" in err


def test_replot_without_stored_data_fails_by_name(
    figures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("alpha", "--replot", "--figures-dir", str(figures_dir), "--out", str(tmp_path / "o")) == 1
    assert "alpha: FAILED: FigureError: no stored data" in capsys.readouterr().err


def test_missing_figures_dir_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--figures-dir", str(tmp_path / "none")) == 2
    assert "does not exist" in capsys.readouterr().err
