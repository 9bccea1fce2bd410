"""The average_regret experiment on a reduced sweep (the CI run of the LOOP sweeps) and the fits."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit.average.experiments import (
    average_regret,
    load_records,
    regret_ratio,
    regret_slopes,
    span_fit,
    switch_fit,
)
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import load_sweep, run_sweep

TOML = """
[sweep]
name = "loop-ci"
experiment = "mdpkit.average.experiments:average_regret"
seeds = 3
results = "ci.sqlite"

[params]
instance = "mdpkit.average.instances:slow_chain"
size = 3
T = 3000
checkpoints = 12

[grid]
instance_params = [{ p = 0.8 }, { p = 0.2 }]
algorithm = [
    { name = "loop", label = "LOOP", beta_scale = 0.01 },
    { name = "ucrl2", label = "UCRL2", conf_scale = 0.1 },
    { name = "ucrl2-span", label = "UCRL2-span", conf_scale = 0.1, span_bound = "oracle*1.5" },
]
"""


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    (d / "ci.toml").write_text(TOML)
    report = run_sweep(load_sweep(d / "ci.toml"), backend="serial", progress=False)
    assert report.complete
    return load_records(d / "ci.sqlite")


def test_records_hold_curves_switches_and_ground_truth(records):
    assert len(records) == 18
    for r in records:
        rec = r.record
        assert rec["t"][-1] == 3000 and len(rec["switches"]) == len(rec["t"])
        assert np.all(np.diff(rec["switches"]) >= 0) and rec["switches"][-1] == rec["n_switches"]
        assert rec["span"] > 0 and 0 < rec["optimal"] <= 1
        # the regret can never exceed t * rho* (rewards are >= 0)
        assert np.all(np.asarray(rec["regret"]) <= np.asarray(rec["t"]) * rec["optimal"] + 1e-9)


def test_fits(records):
    slopes = regret_slopes(records, t_range=(300, 3000), y="pseudo_regret")
    assert len(slopes) == 6 and all(r["lo"] <= r["slope"] <= r["hi"] for r in slopes if not r["note"])
    assert sum(not r["note"] for r in slopes) >= 4
    sw = switch_fit(records, t_range=(30, 3000))
    assert all(r["b_lo"] <= r["b"] <= r["b_hi"] for r in sw)
    fit = span_fit(records, "LOOP")
    assert fit["spans"][0] < fit["spans"][1] and fit["seeds"] == 3
    ratios = regret_ratio(records, "LOOP", "UCRL2")
    assert len(ratios) == 2
    for row in ratios:
        assert row["ratio"] == pytest.approx(row["num_final"] / row["den_final"])
        assert row["lo"] <= row["ratio"] <= row["hi"]


def test_oracle_span_and_setting_checks():
    cfg = {
        "instance": "mdpkit.average.instances:slow_chain",
        "size": 3,
        "T": 200,
        "algorithm": {"name": "ucrl2-span", "span_bound": "oracle*x"},
    }
    with pytest.raises(InvalidArgumentError, match="oracle\\*FACTOR"):
        average_regret(cfg, 0)
    cfg["algorithm"] = {"name": "ucbvi", "setting": "episodic", "H": 5}
    with pytest.raises(InvalidArgumentError, match="continuing setting only"):
        average_regret.validate(cfg)
