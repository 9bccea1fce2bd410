"""Every script of ``paper_figures/`` in quick mode, as CI runs ``mdpkit figures --quick``.

One test per figure (found by :func:`mdpkit.plotting.scan`, so new scripts are picked up without editing
this file): ``mdpkit figures NAME --quick --out <tmp>`` must succeed and write the CSV, PNG and PDF, and
``--replot`` must redraw from that CSV. A script that fails to load is a failing test named after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mdpkit.cli import main as mdpkit_main
from mdpkit.plotting import default_figures_dir, read_rows, scan

FOUND = scan(default_figures_dir())
NAMES = sorted([*FOUND.figures, *(p.stem for p in FOUND.errors)])


@pytest.mark.parametrize("name", NAMES)
def test_figure_quick(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = {p.stem: msg for p, msg in FOUND.errors.items()}
    if name in broken:
        pytest.fail(f"paper_figures/{name}.py fails to load: {broken[name]}")
    rc = mdpkit_main(["figures", name, "--quick", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 0, f"mdpkit figures {name} --quick failed:\n{captured.err[-4000:]}"
    for ext in ("csv", "png", "pdf"):
        assert (tmp_path / f"{name}.{ext}").stat().st_size > 0
    assert read_rows(tmp_path / f"{name}.csv")
    assert mdpkit_main(["figures", name, "--quick", "--replot", "--out", str(tmp_path)]) == 0, (
        capsys.readouterr().err[-4000:]
    )


def test_the_paper_figures_folder_has_figures() -> None:
    assert len(FOUND.figures) + len(FOUND.errors) >= 6
