"""The teaching notebooks: each jupytext source ``notebooks/*.py`` runs top to bottom in fast mode, its
solutions pass their checks, and the committed ``.ipynb`` is the executed twin of the source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("jupytext")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

import nbformat  # noqa: E402  (after the skips: a dependency of nbclient)

from mdpkit import notebooks_build as nbb  # noqa: E402
from mdpkit.errors import InvalidArgumentError  # noqa: E402

SOURCES = nbb.sources()
IDS = [p.stem for p in SOURCES]
CHECK_CALL = re.compile(r"^check\(", re.MULTILINE)


def _solution_checks(nb) -> int:
    """Number of ``check(...)`` calls in the cells tagged ``solution``."""
    return sum(
        len(CHECK_CALL.findall(c.source))
        for c in nb.cells
        if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])
    )


def _stdout(nb) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )


def test_notebooks_exist():
    assert len(SOURCES) >= 6, f"expected the teaching notebooks in {nbb.NOTEBOOK_DIR}, found {IDS}"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_notebook_runs_in_fast_mode(source: Path):
    nb = nbb.read_source(source)
    n_checks = _solution_checks(nb)
    assert n_checks >= 2, f"{source.name}: expected at least two exercises with checked solutions"
    # raises nbclient's CellExecutionError, whose message shows the failing cell and its traceback
    nbb.execute(nb, source.parent, fast=True, timeout=300)
    out = _stdout(nb)
    correct = out.count(": correct (max error")
    assert correct == n_checks, (
        f"{source.name}: {correct} of the {n_checks} solution checks reported correct:\n{out[-2000:]}"
    )
    images = sum(
        "image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert images >= 1, f"{source.name} drew no figure"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_committed_notebook_matches_source(source: Path):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `bash scripts/notebooks.sh {source.stem[:2]}`"
    problems = nbb.in_sync(source, ipynb)
    assert not problems, (
        f"{ipynb.name} is out of date with {source.name} "
        f"(run `bash scripts/notebooks.sh {source.stem[:2]}`):\n" + "\n".join(problems)
    )
    nb = nbformat.read(ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    unexecuted = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not unexecuted, f"{ipynb.name}: code cells {unexecuted} were not executed"
    errors = [o.get("ename") for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{ipynb.name} holds error outputs {errors}"
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), f"{ipynb.name} has no plot"


def test_in_sync_reports_a_changed_cell(tmp_path: Path):
    src = tmp_path / "demo.py"
    src.write_text("# %% [markdown]\n# # Title\n\n# %%\nx = 1\n")
    nb = nbb.read_source(src)
    nbformat.write(nb, tmp_path / "demo.ipynb")
    assert nbb.in_sync(src, tmp_path / "demo.ipynb") == []
    src.write_text("# %% [markdown]\n# # Title\n\n# %%\nx = 2\n")
    problems = nbb.in_sync(src, tmp_path / "demo.ipynb")
    assert len(problems) == 1 and "cell 1" in problems[0] and "x = 2" in problems[0]
    src.write_text("# %% [markdown]\n# # Title\n\n# %%\nx = 1\n\n# %%\ny = 2\n")
    assert "3 cells in demo.py but 2 in demo.ipynb" in nbb.in_sync(src, tmp_path / "demo.ipynb")[0]


def test_sources_selects_by_prefix(tmp_path: Path):
    for name in ("01_basics.py", "02_robust.py", "_helper.py"):
        (tmp_path / name).write_text("# %%\n")
    assert [p.name for p in nbb.sources(tmp_path)] == ["01_basics.py", "02_robust.py"]
    assert [p.name for p in nbb.sources(tmp_path, ["robust"])] == ["02_robust.py"]
    assert [p.name for p in nbb.sources(tmp_path, ["01", "01_basics"])] == ["01_basics.py"]
    with pytest.raises(InvalidArgumentError, match="no notebook .* matches 'latent'"):
        nbb.sources(tmp_path, ["latent"])
