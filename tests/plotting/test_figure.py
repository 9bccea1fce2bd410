"""The figure protocol: CSV round trip, atomic outputs, run/replot, discovery errors."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from mdpkit.plotting import (
    FigureDataError,
    FigureError,
    FigureLoadError,
    FigureSpec,
    discover,
    figure_main,
    read_rows,
    run_figure,
    scan,
    write_rows,
)
from mdpkit.plotting.figure import atomic_path
from tests.plotting.conftest import write_script

matplotlib.use("Agg")


def _plot(rows):
    import matplotlib.pyplot as plt

    from mdpkit.plotting import style

    with style():
        fig, ax = plt.subplots()
        ax.plot([r["x"] for r in rows], [r["y"] for r in rows])
    return fig


def _spec(rows, name="fig", plot=_plot):
    return FigureSpec(name=name, compute=lambda quick: rows, plot=plot)


# ------------------------------------------------------------------------------------------------ CSV


def test_csv_round_trip_keeps_types_and_values(tmp_path: Path) -> None:
    rows = [
        {"name": "a", "n": 1, "x": 0.1, "flag": True, "big": 10**18, "neg": -3},
        {"name": 'b,c "quoted"', "n": 2, "x": float("nan"), "flag": False, "big": 2, "neg": 0},
        {"name": "d", "n": np.int64(3), "x": np.float64(1e-300), "flag": np.bool_(True), "big": 5, "neg": 1},
        {"name": "e", "x": float("inf"), "only_here": 1 / 3},  # missing keys and a column of one value
        {"name": "f", "n": 5, "x": -float("inf"), "flag": False, "big": 7, "neg": 2, "whole": 2.0},
    ]
    path = tmp_path / "rows.csv"
    write_rows(rows, path)
    back = read_rows(path)
    assert len(back) == len(rows)
    for a, b in zip(rows, back, strict=True):
        assert set(b) == set(a)
        for k, v in a.items():
            v = v.item() if isinstance(v, np.generic) else v
            w = b[k]
            assert type(w) is type(v), (k, v, w)
            assert (math.isnan(v) and math.isnan(w)) if isinstance(v, float) and math.isnan(v) else v == w
    assert back[4]["whole"] == 2.0 and isinstance(back[4]["whole"], float)
    assert back[3]["only_here"] == 1 / 3  # repr round trip is exact


def test_csv_columns_are_the_union_of_keys_in_first_appearance_order(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    write_rows([{"b": 1, "a": "x"}, {"c": 2.5, "a": "y"}], path)
    assert path.read_text().splitlines()[0] == "b,a,c"
    assert read_rows(path) == [{"b": 1, "a": "x"}, {"c": 2.5, "a": "y"}]


def test_none_and_empty_strings_read_back_as_absent_keys(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    write_rows([{"a": 1, "b": None, "c": ""}, {"a": 2, "b": 3.5, "c": "z"}], path)
    assert read_rows(path) == [{"a": 1}, {"a": 2, "b": 3.5, "c": "z"}]


def test_a_str_column_that_would_read_back_as_numbers_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    with pytest.raises(FigureDataError, match=r"row 0, column 'label'"):
        write_rows([{"label": "1"}, {"label": "2"}], path)
    assert not path.exists()
    with pytest.raises(FigureDataError, match=r"column 'v'"):
        write_rows([{"v": 1}, {"v": "one"}], path)  # mixed int/str: the int would come back as str


def test_unsupported_values_name_row_and_column(tmp_path: Path) -> None:
    with pytest.raises(FigureDataError, match=r"row 1, column 'arr'.*ndarray"):
        write_rows([{"arr": 1.0}, {"arr": np.zeros(3)}], tmp_path / "x.csv")
    with pytest.raises(FigureDataError, match="not a dict"):
        write_rows([{"a": 1}, [1, 2]], tmp_path / "x.csv")


def test_read_rows_of_a_missing_file_says_run_without_replot(tmp_path: Path) -> None:
    with pytest.raises(FigureError, match="without --replot"):
        read_rows(tmp_path / "nothing.csv")


# ------------------------------------------------------------------------------------- atomic outputs


def test_atomic_path_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_atomic_path_never_replaces_a_directory(tmp_path: Path) -> None:
    (tmp_path / "d.png").mkdir()
    with pytest.raises(FigureError, match="not a regular file"), atomic_path(tmp_path / "d.png"):
        pass
    assert (tmp_path / "d.png").is_dir()


def test_run_figure_writes_csv_png_pdf_and_replots(tmp_path: Path) -> None:
    rows = [{"x": i, "y": float(i * i)} for i in range(4)]
    res = run_figure(_spec(rows), tmp_path)
    assert [p.name for p in res.paths] == ["fig.csv", "fig.png", "fig.pdf"]
    assert all(p.stat().st_size > 0 for p in res.paths)
    assert res.paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert res.paths[2].read_bytes()[:5] == b"%PDF-"
    assert res.summary == "4 rows" and res.seconds >= 0
    assert read_rows(res.paths[0]) == rows

    def no_compute(quick):
        raise AssertionError("replot must not compute")

    csv_before = res.paths[0].read_bytes()
    seen = []
    spec = FigureSpec("fig", no_compute, lambda r: (seen.append(r), _plot(r))[1], summary=lambda r: "s")
    res2 = run_figure(spec, tmp_path, replot=True)
    assert seen == [rows] and res2.summary == "s"
    assert res.paths[0].read_bytes() == csv_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.csv", "fig.pdf", "fig.png"]


def test_a_failing_plot_leaves_previous_outputs_untouched(tmp_path: Path) -> None:
    run_figure(_spec([{"x": 0, "y": 1.0}]), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(rows):
        raise ValueError("plot failed")

    with pytest.raises(ValueError, match="plot failed"):
        run_figure(_spec([{"x": 0, "y": 2.0}], plot=broken), tmp_path)
    with pytest.raises(FigureError, match="not a Figure"):
        run_figure(_spec([{"x": 0, "y": 2.0}], plot=lambda rows: "nope"), tmp_path)
    with pytest.raises(FigureDataError):  # drawn fine, but the CSV cannot hold the rows: nothing replaced
        run_figure(_spec([{"x": 0, "y": 2.0, "bad": object()}]), tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_run_figure_checks_what_compute_returns(tmp_path: Path) -> None:
    with pytest.raises(FigureError, match="no rows"):
        run_figure(_spec([]), tmp_path)
    with pytest.raises(FigureError, match="list of dicts"):
        run_figure(FigureSpec("fig", lambda q: {"x": 1}, _plot), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_figure_spec_validates_name_and_callables() -> None:
    with pytest.raises(FigureError, match="file stem"):
        FigureSpec("bad/name", lambda q: [], _plot)
    with pytest.raises(FigureError, match="compute is not callable"):
        FigureSpec("ok", 3, _plot)  # type: ignore[arg-type]


def test_figure_main_quick_replot_and_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[bool] = []

    def compute(quick):
        calls.append(quick)
        return [{"x": 1, "y": 2.0}]

    spec = FigureSpec("main_fig", compute, _plot, summary=lambda r: "the summary")
    assert figure_main(spec, ["--quick", "--out", str(tmp_path)]) == 0
    assert calls == [True]
    out = capsys.readouterr().out
    assert "main_fig" in out and "the summary" in out and str(tmp_path / "main_fig.png") in out
    assert figure_main(spec, ["--replot", "--out", str(tmp_path)]) == 0
    assert calls == [True]
    assert figure_main(spec, ["--replot", "--out", str(tmp_path / "empty")]) == 1
    assert "main_fig: FAILED" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- discovery


def test_discover_loads_every_script_by_name(figures_dir: Path) -> None:
    figs = discover(figures_dir)
    assert list(figs) == ["alpha", "beta"]
    assert all(isinstance(s, FigureSpec) for s in figs.values())
    assert figs["alpha"].description == "a tiny test figure"


def test_discover_ignores_private_helpers_and_lets_scripts_import_them(figures_dir: Path) -> None:
    (figures_dir / "_shared.py").write_text("VALUE = 7\n")
    write_script(
        figures_dir,
        "gamma",
        "from _shared import VALUE\nfrom mdpkit.plotting import FigureSpec\n"
        "FIGURE = FigureSpec(name='gamma', compute=lambda q: [{'v': VALUE}], plot=lambda r: None)\n",
    )
    assert list(discover(figures_dir)) == ["alpha", "beta", "gamma"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import no_such_module_xyz\n", "import failed: ModuleNotFoundError"),
        ("raise SystemExit(3)\n", "import failed: SystemExit"),
        ("X = 1\n", "defines no FIGURE"),
        ("FIGURE = 42\n", "FIGURE is a int, not a FigureSpec"),
        (
            "from mdpkit.plotting import FigureSpec\n"
            "FIGURE = FigureSpec(name='other', compute=lambda q: [], plot=lambda r: None)\n",
            "must be the file stem 'broken'",
        ),
    ],
)
def test_discover_names_the_file_that_fails(figures_dir: Path, source: str, message: str) -> None:
    write_script(figures_dir, "broken", source)
    with pytest.raises(FigureLoadError, match=message) as info:
        discover(figures_dir)
    assert "broken.py" in str(info.value)
    found = scan(figures_dir)
    assert list(found.figures) == ["alpha", "beta"]  # the others still load
    assert [p.name for p in found.errors] == ["broken.py"]


def test_discover_of_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FigureError, match="does not exist"):
        discover(tmp_path / "nope")
