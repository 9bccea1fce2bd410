"""The experiment engine: online-learning protocol with exact regret, baseline agents, sweeps over seeds and
configurations on local cores or a cluster, an append-only results store, and the analysis behind every
regret claim (mean bands over seeds, log-log slopes with confidence intervals, the standard regret plot).

A regret experiment in four lines::

    from mdpkit.envs import riverswim
    from mdpkit.experiments import UCRL2, run_continuing
    run = run_continuing(riverswim(4), UCRL2(4, 2, seed=0), T=100_000, seed=0)
    run.regret()[-1], run.pseudo_regret()[-1], run.n_switches

A sweep (``mdpkit run examples/sweeps/riverswim_baselines.toml``; ``mdpkit report`` to summarise)::

    from mdpkit.experiments import load_sweep, run_sweep
    report = run_sweep(load_sweep("examples/sweeps/riverswim_baselines.toml"), backend="local")

Modules: :mod:`~mdpkit.experiments.protocol` (Agent, runners, exact regret),
:mod:`~mdpkit.experiments.agents` (UCBVI, UCRL2, random), :mod:`~mdpkit.experiments.sweep` (grids, the
runner), :mod:`~mdpkit.experiments.backends` (joblib, Dask, Ray), :mod:`~mdpkit.experiments.store`
(SQLite results), :mod:`~mdpkit.experiments.analysis` (bands, slopes, plots),
:mod:`~mdpkit.experiments.cells` (the built-in ``regret`` experiment).
"""

import importlib

#: public name -> module that defines it (imported on first use, so that a sweep's worker processes and
#: ``import mdpkit.experiments`` stay light: the analysis helpers pull in scipy.stats and matplotlib)
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        [
            "Agent",
            "Observation",
            "Transition",
            "EnvSpec",
            "TabularEnv",
            "EpisodicRun",
            "ContinuingRun",
            "run_episodic",
            "run_continuing",
        ],
        "protocol",
    ),
    **dict.fromkeys(["UCBVI", "UCRL2", "RandomAgent", "make_agent"], "agents"),
    "regret": "cells",
    **dict.fromkeys(
        ["experiment", "Cell", "Sweep", "SweepReport", "SweepConfigError", "load_sweep", "run_sweep"], "sweep"
    ),
    **dict.fromkeys(["BACKENDS", "make_backend", "WorkerLostError"], "backends"),
    **dict.fromkeys(["ResultsStore", "StoredRecord", "StoreError"], "store"),
    **dict.fromkeys(
        ["Band", "Curve", "SlopeFit", "curves", "mean_band", "loglog_slope", "regret_plot", "summary_table"],
        "analysis",
    ),
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mdpkit.experiments' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mdpkit.experiments.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
