"""Analysis helpers: bands over seeds, log-log slopes with intervals, grouping, tables, the regret plot."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import curves, loglog_slope, mean_band, regret_plot, summary_table
from mdpkit.experiments.analysis import format_table


def test_mean_band_is_the_student_t_interval():
    Y = np.array([[1.0, 10.0], [2.0, 14.0], [4.0, 9.0]])
    band = mean_band(Y, level=0.9)
    half = stats.t.ppf(0.95, 2) * Y.std(axis=0, ddof=1) / math.sqrt(3)
    np.testing.assert_allclose(band.mean, [7 / 3, 11.0])
    np.testing.assert_allclose(band.hi - band.mean, half)
    np.testing.assert_allclose(band.mean - band.lo, half)
    single = mean_band(Y[:1])
    assert single.n == 1 and np.all(np.isnan(single.lo))
    with pytest.raises(InvalidArgumentError, match="level"):
        mean_band(Y, level=95)


def test_slope_of_an_exact_power_law_is_exact():
    t = np.geomspace(10, 1e5, 30)
    Y = np.array([c * t**0.5 for c in (1.0, 2.0, 3.5)])
    for method in ("bootstrap", "per-seed"):
        fit = loglog_slope(t, Y, method=method)
        assert fit.slope == pytest.approx(0.5, abs=1e-12)
        assert fit.lo == pytest.approx(0.5, abs=1e-12) and fit.hi == pytest.approx(0.5, abs=1e-12)
    # the range selects the points; a broken power law is fitted piecewise
    Yb = np.where(t < 1e3, t, 1e3 * (t / 1e3) ** 0.25)[None]
    assert loglog_slope(t, Yb, (10, 900)).slope == pytest.approx(1.0, abs=1e-12)
    assert loglog_slope(t, Yb, (1e3, 1e5)).slope == pytest.approx(0.25, abs=1e-12)
    assert loglog_slope(t, Yb, (1e3, 1e5)).method == "single"


def test_slope_interval_covers_the_truth_under_seed_noise():
    rng = np.random.default_rng(0)
    t = np.geomspace(1e3, 1e5, 25)
    Y = np.exp(rng.normal(0, 0.3, size=(20, 1))) * t**0.6 * np.exp(rng.normal(0, 0.02, size=(20, t.size)))
    boot = loglog_slope(t, Y, level=0.95)
    per = loglog_slope(t, Y, method="per-seed")
    assert boot.lo < 0.6 < boot.hi and per.lo < 0.6 < per.hi
    assert 0 < boot.hi - boot.lo < 0.1
    assert str(boot).startswith(f"{boot.slope:.3f} [")
    assert (
        loglog_slope(t, Y, seed=1).slope == boot.slope
    )  # the point estimate does not depend on the bootstrap


def test_slope_errors_name_the_problem():
    t = np.array([1.0, 10.0, 100.0])
    with pytest.raises(InvalidArgumentError, match=r"<= 0 at t = 10"):
        loglog_slope(t, np.array([[1.0, -1.0, 5.0]]))
    with pytest.raises(InvalidArgumentError, match="only 1 horizon"):
        loglog_slope(t, np.ones((2, 3)), (50, 500))
    with pytest.raises(InvalidArgumentError, match="strictly increasing"):
        loglog_slope(t[::-1], np.ones((2, 3)))
    with pytest.raises(InvalidArgumentError, match="expected \\(n_seeds, 3\\)"):
        loglog_slope(t, np.ones((2, 4)))
    with pytest.raises(InvalidArgumentError, match="method"):
        loglog_slope(t, np.ones((2, 3)), method="ols")


def _rec(seed, algo, size, y, t=(10, 100, 1000)):
    return {
        "config": {"algorithm": {"name": algo.lower(), "label": algo}, "size": size, "instance": "riverswim"},
        "seed": seed,
        "record": {"t": list(t), "regret": list(y), "setting": "continuing"},
    }


def test_curves_group_records_and_check_grids():
    recs = [_rec(s, "A", 3, [1 + s, 10, 100]) for s in (1, 0)] + [_rec(0, "B", 3, [2, 4, 8])]
    cs = curves(recs)
    assert [c.group for c in cs] == [
        {"algorithm": "A", "setting": "continuing", "instance": "riverswim", "size": 3},
        {"algorithm": "B", "setting": "continuing", "instance": "riverswim", "size": 3},
    ]
    assert cs[0].seeds == (0, 1) and cs[0].Y[:, 0].tolist() == [1.0, 2.0]
    assert cs[0].label == "A, setting=continuing, instance=riverswim, size=3"
    with pytest.raises(InvalidArgumentError, match="seed 1 was recorded on another 't' grid"):
        curves([_rec(0, "A", 3, [1, 2, 3]), _rec(1, "A", 3, [1, 2, 3], t=(10, 100, 2000))])
    with pytest.raises(InvalidArgumentError, match="several records for the same seed"):
        curves([_rec(0, "A", 3, [1, 2, 3]), _rec(0, "A", 3, [1, 2, 4])])
    with pytest.raises(InvalidArgumentError, match="no records"):
        curves([])


def test_summary_table_and_plot(tmp_path):
    t = np.geomspace(10, 1e4, 12)
    recs = [_rec(s, "sqrt", 3, (1 + 0.1 * s) * t**0.5, t) for s in range(3)]
    recs += [_rec(s, "lin", 3, (1 + 0.1 * s) * t, t) for s in range(3)]
    recs += [_rec(s, "lin", 5, (1 + 0.1 * s) * t - 500, t) for s in range(3)]  # <= 0 at t = 100: no slope
    cs = curves(recs)
    rows = summary_table(cs)
    assert [r["slope"] for r in rows[:2]] == [pytest.approx(0.5), pytest.approx(1.0)]
    assert rows[0]["fit_from"] == pytest.approx(100.0) and rows[0]["T"] == pytest.approx(1e4)
    assert math.isnan(rows[2]["slope"]) and "<= 0" in rows[2]["note"]
    md = format_table(rows)
    assert "| sqrt | continuing | riverswim | 3 | 3 |" in md and "0.500 [0.500, 0.500]" in md and "n/a" in md
    csv = format_table(rows, "csv")
    assert csv.splitlines()[0].startswith("algorithm,setting,instance,size,seeds,T,final")
    fig = regret_plot(cs, path=tmp_path / "fig" / "regret.png", title="test")
    assert (tmp_path / "fig" / "regret.png").stat().st_size > 0 and (tmp_path / "fig" / "regret.pdf").exists()
    assert len(fig.axes) == 2  # one panel per size
    import matplotlib.pyplot as plt

    plt.close(fig)
