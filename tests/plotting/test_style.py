"""The shared style: sizes, palette, the style context and the band helpers."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from mdpkit.errors import InvalidArgumentError
from mdpkit.plotting import COLUMN_WIDTH, PAGE_WIDTH, PALETTE, STYLE, band, figsize, seed_band, style

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_figsize_column_and_page_widths() -> None:
    assert figsize(1) == (COLUMN_WIDTH, 0.75 * COLUMN_WIDTH)
    assert figsize(2, 0.3) == (PAGE_WIDTH, 0.3 * PAGE_WIDTH)
    assert figsize(2, 0.25, rows=3) == (PAGE_WIDTH, pytest.approx(0.75 * PAGE_WIDTH))
    assert figsize(1.5, 0.5)[0] == pytest.approx(1.5 * COLUMN_WIDTH)
    with pytest.raises(InvalidArgumentError, match="positive"):
        figsize(0)
    with pytest.raises(InvalidArgumentError, match="positive"):
        figsize(1, rows=0)


def test_palette_is_okabe_ito_and_the_style_uses_it() -> None:
    assert len(PALETTE) == 8 and len(set(PALETTE)) == 8
    assert {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"} == set(
        PALETTE
    )
    assert STYLE["axes.prop_cycle"].by_key()["color"] == PALETTE
    assert 7 <= STYLE["font.size"] <= 9 and STYLE["figure.constrained_layout.use"] is True


def test_style_applies_and_restores_rc_params() -> None:
    before = plt.rcParams["font.size"], plt.rcParams["axes.spines.top"]
    with style({"font.size": 6.5}):
        assert plt.rcParams["font.size"] == 6.5
        assert plt.rcParams["axes.spines.top"] is False
        assert plt.rcParams["axes.prop_cycle"].by_key()["color"] == PALETTE
    assert (plt.rcParams["font.size"], plt.rcParams["axes.spines.top"]) == before


def test_band_draws_line_and_shaded_band_in_one_colour() -> None:
    with style():
        fig, ax = plt.subplots()
        x = np.arange(5.0)
        line = band(ax, x, x, x - 1, x + 1, label="m", color=PALETTE[2])
        assert line.get_label() == "m" and line.get_color() == PALETTE[2]
        assert len(ax.collections) == 1
        np.testing.assert_allclose(
            ax.collections[0].get_facecolor()[0][:3], matplotlib.colors.to_rgb(PALETTE[2])
        )
        band(ax, x, x, label=None)  # no band
        assert len(ax.collections) == 1
        with pytest.raises(InvalidArgumentError, match="shape"):
            band(ax, x, x[:3], label="bad")
        with pytest.raises(InvalidArgumentError, match="lo has shape"):
            band(ax, x, x, x[:2], x, label="bad")
    plt.close(fig)


def test_seed_band_is_the_t_interval_of_mean_band() -> None:
    from mdpkit.experiments.analysis import mean_band

    Y = np.random.default_rng(0).normal(size=(6, 10))
    with style():
        fig, ax = plt.subplots()
        line = seed_band(ax, np.arange(10), Y, label="s")
        np.testing.assert_allclose(line.get_ydata(), Y.mean(axis=0))
        b = mean_band(Y)
        verts = ax.collections[0].get_paths()[0].vertices
        assert verts[:, 1].min() == pytest.approx(b.lo.min()) and verts[:, 1].max() == pytest.approx(
            b.hi.max()
        )
        seed_band(ax, np.arange(10), Y[:1], label="one seed")  # a single seed: the line only
        assert len(ax.collections) == 1
    plt.close(fig)


def test_experiments_analysis_uses_the_shared_style() -> None:
    from mdpkit.experiments import analysis

    assert analysis.STYLE["axes.prop_cycle"] is STYLE["axes.prop_cycle"]
    assert analysis.STYLE["font.size"] == STYLE["font.size"]
