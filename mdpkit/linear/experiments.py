r"""Experiment cells for sweeps (:mod:`mdpkit.experiments.sweep`): DR-RPO's robust regret and robustness.

Two cell functions ``(config, seed) -> record``, usable as ``experiment = "mdpkit.linear.experiments:NAME"``
in a sweep TOML (``examples/sweeps/drrpo_*.toml``):

``regret``
    One learner (:func:`mdpkit.linear.drrpo.drrpo`) for ``K`` episodes on the nominal model; records the
    cumulative robust regret :math:`\sum_{k} \mu_0^\top(V^*_0 - V^{\pi_k}_0)` (regularised, exact, against the
    learner's own objective: radius ``rho``, weight ``lam``) at log-spaced checkpoints.
``robustness``
    One policy — a learner's last policy after ``K`` episodes on the nominal model, or the exact regularised
    robust optimum of :func:`mdpkit.linear.robust.robust_dp` (``name = "exact"``) — evaluated exactly
    (:func:`mdpkit.linear.robust.evaluate_under`) under perturbed test dynamics: the instance rebuilt with
    ``perturb.param`` set to each of ``perturb.values`` (e.g. ``q`` of the simulated MDP).

Configuration keys:

===================  ========================================================================================
``instance``         ``"simulated"`` (:func:`~mdpkit.linear.instances.simulated_linear_mdp`),
                     ``"american_put"`` or ``"random"``
                     (:func:`~mdpkit.linear.instances.random_linear_mdp`; give its ``seed`` in
                     ``instance_params``)
``instance_params``  keyword arguments of the instance (table)
``algorithm``        table ``{name = "drrpo" | "oppo" | "exact", label?, rho?, divergence?, lam?,
                     bonus_scale?, eta?, beta?, ridge?, delta?}``; ``oppo`` is DR-RPO with ``rho = 0``
``K``                episodes (learners)
``checkpoints``      (``regret``) number of log-spaced checkpoints (default 40) or a list of episodes
``perturb``          (``robustness``) ``{param = "q", values = [0.0, 0.1, ...]}``
``backend``          ``"numba"`` (default) or ``"torch"``
===================  ========================================================================================
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from mdpkit.errors import InvalidArgumentError, MdpkitError
from mdpkit.experiments.cells import checkpoint_grid
from mdpkit.experiments.sweep import experiment
from mdpkit.linear.drrpo import DIVERGENCES, drrpo
from mdpkit.linear.instances import american_put, random_linear_mdp, simulated_linear_mdp
from mdpkit.linear.model import LinearMDP

__all__ = [
    "regret",
    "robustness",
    "build_instance",
    "algorithm_params",
    "sweep_records",
    "MissingRecordsError",
    "INSTANCES",
]

#: Instance families by name.
INSTANCES = {"simulated": simulated_linear_mdp, "american_put": american_put, "random": random_linear_mdp}
_ALGOS = ("drrpo", "oppo", "exact")
_ALGO_KEYS = {"name", "label", "rho", "divergence", "lam", "bonus_scale", "eta", "beta", "ridge", "delta"}
_COMMON = {"instance", "instance_params", "algorithm", "K", "backend"}
_REGRET_KEYS = _COMMON | {"checkpoints"}
_ROBUST_KEYS = _COMMON | {"perturb"}


def build_instance(config: dict, **override: object) -> LinearMDP:
    """The configuration's instance, with ``override`` added to its ``instance_params``.

    Parameters
    ----------
    config : dict
        A cell configuration (``instance``, optional ``instance_params``).
    **override
        Instance parameters to set (e.g. ``q=0.3``).

    Returns
    -------
    LinearMDP
    """
    name = config.get("instance")
    if name not in INSTANCES:
        raise InvalidArgumentError(f"instance = {name!r} is not one of {sorted(INSTANCES)}")
    params = config.get("instance_params", {})
    if not isinstance(params, dict):
        raise InvalidArgumentError(f"instance_params = {params!r} must be a table")
    try:
        return INSTANCES[name](**{**params, **override})
    except TypeError as exc:
        raise InvalidArgumentError(f"instance {name!r}: {exc}") from None


def algorithm_params(config: dict) -> tuple[str, str, dict]:
    """``(name, label, keyword arguments of drrpo)`` of a configuration's ``algorithm`` table (validated).

    Parameters
    ----------
    config : dict

    Returns
    -------
    tuple of (str, str, dict)
    """
    algo = config.get("algorithm")
    if isinstance(algo, str):
        algo = {"name": algo}
    if not isinstance(algo, dict) or algo.get("name") not in _ALGOS:
        raise InvalidArgumentError(f"algorithm = {algo!r} must be a table with name in {_ALGOS}")
    unknown = sorted(set(algo) - _ALGO_KEYS)
    if unknown:
        raise InvalidArgumentError(f"algorithm has unknown key(s) {unknown}; allowed: {sorted(_ALGO_KEYS)}")
    name = algo["name"]
    kw = {k: v for k, v in algo.items() if k not in ("name", "label")}
    if name == "oppo":
        if kw.get("rho", 0.0) != 0.0:
            raise InvalidArgumentError(f"algorithm 'oppo' is DR-RPO with rho = 0; got rho = {kw['rho']!r}")
        kw["rho"] = 0.0
    if kw.get("divergence", "tv") not in DIVERGENCES:
        raise InvalidArgumentError(f"divergence = {kw['divergence']!r} is not one of {DIVERGENCES}")
    if name == "exact":
        extra = sorted(set(kw) - {"rho", "divergence", "lam"})
        if extra:
            raise InvalidArgumentError(f"algorithm 'exact' takes rho, divergence and lam only; got {extra}")
    label = str(algo.get("label", name))
    return name, label, kw


def _check_common(config: dict, keys: set[str]) -> None:
    if not isinstance(config, dict):
        raise InvalidArgumentError(f"a configuration is a table, got {type(config).__name__}")
    unknown = sorted(set(config) - keys)
    if unknown:
        raise InvalidArgumentError(f"unknown key(s) {unknown}; known: {sorted(keys)}")
    for req in ("instance", "algorithm", "K"):
        if req not in config:
            raise InvalidArgumentError(f"the configuration needs {req!r}")
    K = config["K"]
    if isinstance(K, bool) or not isinstance(K, int) or K < 1:
        raise InvalidArgumentError(f"K = {K!r} must be a positive integer")
    if config.get("backend", "numba") not in ("numba", "torch"):
        raise InvalidArgumentError(f"backend = {config['backend']!r} is not 'numba' or 'torch'")
    algorithm_params(config)
    if config["instance"] not in INSTANCES:
        raise InvalidArgumentError(f"instance = {config['instance']!r} is not one of {sorted(INSTANCES)}")


def validate_regret(config: dict) -> None:
    """Check a ``regret`` configuration (called on every cell before a sweep runs).

    Parameters
    ----------
    config : dict
    """
    _check_common(config, _REGRET_KEYS)
    if algorithm_params(config)[0] == "exact":
        raise InvalidArgumentError("the regret experiment needs a learner ('drrpo' or 'oppo'), not 'exact'")
    checkpoint_grid(config.get("checkpoints", 40), config["K"])


def validate_robustness(config: dict) -> None:
    """Check a ``robustness`` configuration (called on every cell before a sweep runs).

    Parameters
    ----------
    config : dict
    """
    _check_common(config, _ROBUST_KEYS)
    pert = config.get("perturb")
    if not isinstance(pert, dict) or set(pert) != {"param", "values"}:
        raise InvalidArgumentError(f"perturb = {pert!r} must be a table {{param = NAME, values = [...]}}")
    vals = pert["values"]
    if not isinstance(vals, list) or not vals:
        raise InvalidArgumentError(f"perturb.values = {vals!r} must be a non-empty list")


class MissingRecordsError(MdpkitError):
    """A sweep's results store lacks cells that a figure or report needs (the message says how to run it)."""


def sweep_records(
    toml: str | Path, quick: bool = False, quick_params: dict | None = None, quick_seeds: int = 3
) -> list[dict]:
    """The records of a sweep: stored ones, or those of a reduced copy run now (``quick``).

    Parameters
    ----------
    toml : path
        The sweep file (e.g. ``examples/sweeps/drrpo_regret.toml``).
    quick : bool
        ``False``: read every cell of the sweep from its results store (:class:`MissingRecordsError` if
        one is missing). ``True``: run the same grid with ``quick_params`` replacing parameters and
        ``quick_seeds`` seeds, serially, into a temporary store (seconds; for CI), and return those.
    quick_params : dict, optional
        Parameters to override in quick mode (e.g. ``{"K": 2000}``).
    quick_seeds : int
        Seeds of the quick run.

    Returns
    -------
    list of dict
        ``{"config", "seed", "record"}`` per cell, in the sweep's cell order.
    """
    from mdpkit.experiments.store import ResultsStore
    from mdpkit.experiments.sweep import Sweep, load_sweep, run_sweep

    sweep = load_sweep(toml)
    if quick:
        sweep = Sweep(
            name=sweep.name + "-quick",
            experiment=sweep.experiment,
            grid=sweep.grid,
            params={**sweep.params, **(quick_params or {})},
            seeds=quick_seeds,
        )
    cells = sweep.validate()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "quick.sqlite" if quick else sweep.results
        if quick:
            run_sweep(sweep, path, backend="serial", progress=False)
        if path is None or not Path(path).is_file():
            raise MissingRecordsError(f"no results store {path}; run: mdpkit run {toml}")
        with ResultsStore(path, readonly=True) as store:
            recs = {r.key: r for r in store.records(sweep.name)}
    missing = [c for c in cells if c.key not in recs]
    if missing:
        raise MissingRecordsError(
            f"{len(missing)} of {len(cells)} cells of sweep {sweep.name!r} are not in {path} "
            f"(first: {missing[0].describe()}); run: mdpkit run {toml}"
        )
    return [{"config": c.config, "seed": c.seed, "record": recs[c.key].record} for c in cells]


def _run_learner(config: dict, seed: int, kw: dict, model: LinearMDP):
    return drrpo(model, int(config["K"]), seed=int(seed), backend=config.get("backend", "numba"), **kw)


@experiment(validate=validate_regret)
def regret(config: dict, seed: int) -> dict:
    r"""DR-RPO (or its ``rho = 0`` counterpart) on the nominal model: cumulative robust regret at checkpoints.

    Parameters
    ----------
    config : dict
        See the module docstring.
    seed : int
        The learner's randomness (:func:`mdpkit.linear.drrpo.draw_uniforms`).

    Returns
    -------
    dict
        ``algorithm`` (label), ``rho``, ``divergence``, ``lam``, ``beta``, ``eta``, ``S``, ``A``, ``d``,
        ``H``, ``K``, ``t`` (episodes at the checkpoints), ``regret`` (cumulative exact robust regret there),
        ``v_star`` (:math:`\mu_0^\top V^*_0`), ``final_gap`` (mean gap over the last 1% of episodes),
        ``mean_return`` and ``_timings``.
    """
    validate_regret(config)
    t0 = time.perf_counter()
    name, label, kw = algorithm_params(config)
    model = build_instance(config)
    build_s = time.perf_counter() - t0
    res = _run_learner(config, seed, kw, model)
    run_s = time.perf_counter() - t0 - build_s
    K = int(config["K"])
    ks = checkpoint_grid(config.get("checkpoints", 40), K)
    tail = max(1, K // 100)
    return {
        "algorithm": label,
        "rho": res.rho,
        "divergence": res.divergence,
        "lam": res.lam,
        "beta": res.beta,
        "eta": res.eta,
        "S": model.S,
        "A": model.A,
        "d": model.d,
        "H": model.H,
        "K": K,
        "t": ks.tolist(),
        "regret": res.regret[ks - 1].tolist(),
        "v_star": float(res.v_star),
        "final_gap": float(res.gaps[-tail:].mean()),
        "mean_return": float(res.returns.mean()),
        "_timings": {"build_s": build_s, "run_s": run_s},
    }


@experiment(validate=validate_robustness)
def robustness(config: dict, seed: int) -> dict:
    r"""A learned (or the exact robust) policy's value under perturbed test dynamics.

    Parameters
    ----------
    config : dict
        See the module docstring.
    seed : int
        The learner's randomness (unused by ``exact``).

    Returns
    -------
    dict
        ``algorithm`` (label), ``rho``, ``lam``, ``param``, ``values`` (the perturbation levels),
        ``value`` (regularised value :math:`\mu_0^\top V^\pi_0` under each test model, same ``lam`` and
        reference as the objective), ``return`` (unregularised expected return under each), ``nominal_value``
        and ``_timings``.
    """
    from mdpkit.linear.robust import evaluate_under, robust_dp

    validate_robustness(config)
    t0 = time.perf_counter()
    name, label, kw = algorithm_params(config)
    model = build_instance(config)
    lam = float(kw.get("lam", 0.1))
    rho = float(kw.get("rho", 0.1))
    if name == "exact":
        policy = robust_dp(model, kw.get("divergence", "tv"), rho, lam=lam).policy
    else:
        res = _run_learner(config, seed, kw, model)
        policy, lam, rho = res.policy, res.lam, res.rho
    learn_s = time.perf_counter() - t0
    pert = config["perturb"]
    vals, rets = [], []
    for v in pert["values"]:
        test = build_instance(config, **{pert["param"]: v})
        if test.phi.shape != model.phi.shape or not np.array_equal(test.phi, model.phi):
            raise InvalidArgumentError(
                f"{pert['param']} = {v!r} changes the features; a test model must only change the factors"
            )
        vals.append(evaluate_under(model, policy, mu=test.mu, lam=lam).value)
        rets.append(evaluate_under(model, policy, mu=test.mu).value)
    return {
        "algorithm": label,
        "rho": rho,
        "lam": lam,
        "param": pert["param"],
        "values": [float(v) for v in pert["values"]],
        "value": vals,
        "return": rets,
        "nominal_value": evaluate_under(model, policy, lam=lam).value,
        "_timings": {"learn_s": learn_s, "eval_s": time.perf_counter() - t0 - learn_s},
    }
