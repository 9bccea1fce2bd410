"""A sweep from Python: the grid of examples/sweeps/riverswim_baselines.toml, run and summarised.

    python examples/experiment_sweep.py                  # local cores (joblib processes)
    python examples/experiment_sweep.py dask             # a Dask LocalCluster started here
    python examples/experiment_sweep.py dask tcp://host:8786   # an existing Dask cluster

Same as ``mdpkit run examples/sweeps/riverswim_baselines.toml`` followed by ``mdpkit report ...``. Cells
already in the results file are skipped, so running this twice costs nothing the second time.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mdpkit.experiments import ResultsStore, curves, load_sweep, regret_plot, run_sweep, summary_table
from mdpkit.experiments.analysis import format_table


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "local"
    address = sys.argv[2] if len(sys.argv) > 2 else None
    sweep = load_sweep(Path(__file__).parent / "sweeps" / "riverswim_baselines.toml")
    rep = run_sweep(sweep, backend=backend, address=address)
    print(
        f"{rep.ran} cells run, {rep.skipped} already stored, {len(rep.failed)} failed in {rep.wall_s:.1f} s"
    )

    with ResultsStore(rep.results, readonly=True) as store:
        records = list(store.records(sweep=sweep.name))
    cs = curves(records, y="regret")  # one curve per (algorithm, setting, instance, size), seeds stacked
    print(format_table(summary_table(cs, t_range=(1e3, 1e5))))
    out = rep.results.with_name("riverswim_baselines-report") / "regret.png"
    regret_plot(cs, panel_by="size", t_range=(1e3, 1e5), title=sweep.name, path=out)
    print(f"figure: {out}")


if __name__ == "__main__":  # needed: the local and Dask backends start worker processes
    main()
