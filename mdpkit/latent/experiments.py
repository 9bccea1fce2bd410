r"""Sweep cells for learning in latent MDPs (issue #7, experiments (a)–(d)).

One cell, :func:`latent_regret`, runs one optimistic agent (:mod:`mdpkit.latent.learning`) for ``K``
episodes on one LMDP and returns its exact cumulative regret at log-spaced checkpoints, with the instance's
:math:`V^\star`, :math:`\mathrm{Var}^*` and :math:`\Gamma`. Use it from a sweep TOML with
``experiment = "mdpkit.latent.experiments:latent_regret"`` (see ``examples/sweeps/latent_*.toml``).

Configuration keys:

=================  ==========================================================================================
``family``         ``"random"`` (:func:`mdpkit.latent.instances.random_lmdp`), ``"hard"``
                   (:func:`mdpkit.latent.instances.hard_instance`, the :math:`\Gamma = 2` family),
                   ``"revealing"`` (:func:`revealing_lmdp`, the horizon-free family whose first transition
                   reveals the context) or ``"signal"`` (:func:`mdpkit.latent.instances.signal_lmdp`, the
                   genuinely latent horizon-free family: beliefs are tracked all episode)
``instance``       keyword arguments of the family (table), e.g. ``{S = 3, A = 2, M = 2, H = 5, noise = 0.05,
                   support = 2, reward_observed = false, seed = 0}``
``algorithm``      ``"value-optimistic"`` / ``"model-optimistic"`` or a table ``{name, label?, delta?,
                   bonus_scale?}``
``K``              episodes
``checkpoints``    number of log-spaced episodes at which the regret is recorded (default 40)
=================  ==========================================================================================

The instance is fixed by the configuration (its own ``seed``); the cell's seed drives the environment (the
context draws and transitions) only, so seeds are independent replicates on one instance.
"""

from __future__ import annotations

import math
import numbers
import time
from pathlib import Path
from typing import Any

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments.cells import checkpoint_grid
from mdpkit.experiments.sweep import experiment
from mdpkit.latent.instances import hard_instance, random_lmdp, signal_lmdp
from mdpkit.latent.learning import AGENTS, LatentSpec, belief_plan, make_latent_agent, run_latent
from mdpkit.latent.model import LatentMDP

__all__ = [
    "latent_regret",
    "revealing_lmdp",
    "build_instance",
    "validate_latent_regret",
    "VAR_STAR_MAX_TREE",
    "SWEEP_RESULTS",
    "SWEEPS",
    "REDUCED",
    "load_records",
    "reduced_records",
    "records_for",
    "regret_matrix",
    "slope_rows",
    "horizon_rows",
    "variance_rows",
    "hard_rows",
]

KEYS = {"family", "instance", "algorithm", "K", "checkpoints"}
FAMILIES = ("random", "hard", "revealing", "signal")
#: Var* is computed by history enumeration only when (S A)^H is at most this
VAR_STAR_MAX_TREE = 200_000


def revealing_lmdp(
    S: int,
    A: int,
    M: int,
    H: int,
    seed: int | np.random.Generator = 0,
    support: int = 2,
    noise: float | None = None,
) -> LatentMDP:
    r"""An LMDP whose first transition reveals the context, then :math:`H - 1` noisy steps (horizon-free).

    States: a start state 0, one "signal" state :math:`1 + m` per context (reached deterministically from 0
    whatever the action in context :math:`m`), and :math:`S` work states shared by the contexts. From the
    signal state and from every work state, context :math:`m` moves by its own random row on ``support``
    work states (Dirichlet(1), or mass :math:`1-\epsilon` on one state and :math:`\epsilon` spread evenly
    when ``noise`` is :math:`\epsilon`). Rewards :math:`R_m(s, a) = u_m(s, a) / H` with
    :math:`u \sim U[0, 1]` drawn once, so every episode's total is at most 1 and, for a fixed ``seed``, the
    members with different :math:`H` share the kernels and :math:`u` (only the reward scale and the horizon
    change): the family on which a horizon-free bound predicts nearly the same regret for every :math:`H`.

    Parameters
    ----------
    S : int
        Work states.
    A : int
        Actions.
    M : int
        Contexts.
    H : int
        Horizon (>= 2).
    seed : int or Generator
        Randomness of the kernels and rewards.
    support : int
        Row support :math:`\Gamma` among the work states.
    noise : float or None
        ``None`` for Dirichlet rows, else the near-deterministic :math:`\epsilon`.

    Returns
    -------
    LatentMDP
        With ``1 + M + S`` states, stationary kernels, uniform weights, start state 0.
    """
    for v, n in ((S, "S"), (A, "A"), (M, "M"), (H, "H")):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or int(v) < 1:
            raise InvalidArgumentError(f"{n} = {v!r} must be a positive int")
    if H < 2:
        raise InvalidArgumentError(f"H = {H} must be at least 2 (one step reveals the context)")
    rng = np.random.default_rng(seed)
    G = min(int(support), S)
    n = 1 + M + S
    work = np.arange(1 + M, n)
    P = np.zeros((M, n, A, n))
    for m in range(M):
        P[m, 0, :, 1 + m] = 1.0
        for s in range(1, n):
            for a in range(A):
                supp = work[rng.choice(S, size=G, replace=False)]
                if noise is None:
                    P[m, s, a, supp] = rng.dirichlet(np.ones(G))
                elif G == 1 or noise == 0:
                    P[m, s, a, supp[0]] = 1.0
                else:
                    P[m, s, a, supp[0]] = 1.0 - noise
                    P[m, s, a, supp[1:]] = noise / (G - 1)
    u = rng.uniform(size=(M, n, A))
    u[:, 0, :] = 0.0
    return LatentMDP(P, u / H, H, np.full(M, 1.0 / M), np.eye(n)[0])


def build_instance(config: dict) -> tuple[LatentMDP, dict]:
    """The LMDP of a configuration and facts known in closed form (the hard family's Var*).

    Parameters
    ----------
    config : dict
        A :func:`latent_regret` configuration.

    Returns
    -------
    lmdp : LatentMDP
    known : dict
        ``{"var_star": ...}`` for the hard family, else empty.
    """
    family = config.get("family")
    kw = dict(config.get("instance", {}))
    if family == "random":
        for k in ("S", "A", "M", "H"):
            if k not in kw:
                raise InvalidArgumentError(f"instance.{k} is required by the random family")
        return random_lmdp(**kw), {}
    if family == "hard":
        inst = hard_instance(**kw)
        return inst.lmdp, {"var_star": float(inst.var_star), "optimal_value": float(inst.optimal_value)}
    if family == "revealing":
        return revealing_lmdp(**kw), {}
    if family == "signal":
        return signal_lmdp(**kw), {}
    raise InvalidArgumentError(f"family = {family!r} must be one of {FAMILIES}")


def _algorithm(config: dict) -> tuple[str, str, dict]:
    algo = config.get("algorithm")
    if isinstance(algo, str):
        algo = {"name": algo}
    if not isinstance(algo, dict) or "name" not in algo:
        raise InvalidArgumentError(f"algorithm = {algo!r} must be a name or a table with a 'name'")
    name = algo["name"]
    if name not in AGENTS:
        raise InvalidArgumentError(f"algorithm {name!r} is not one of {sorted(AGENTS)}")
    params = {k: v for k, v in algo.items() if k not in ("name", "label")}
    unknown = sorted(set(params) - {"delta", "bonus_scale"})
    if unknown:
        raise InvalidArgumentError(f"algorithm {name!r} got unknown parameter(s) {unknown}")
    return name, str(algo.get("label", name)), params


def validate_latent_regret(config: dict) -> None:
    """Check a :func:`latent_regret` configuration without running it (builds the instance).

    Parameters
    ----------
    config : dict

    Raises
    ------
    InvalidArgumentError
        Unknown keys, a missing key, a bad family, algorithm or ``K``.
    """
    if not isinstance(config, dict):
        raise InvalidArgumentError(f"a configuration is a table, got {type(config).__name__}")
    unknown = sorted(set(config) - KEYS)
    if unknown:
        raise InvalidArgumentError(f"unknown key(s) {unknown} for latent_regret; known: {sorted(KEYS)}")
    for req in ("family", "instance", "algorithm", "K"):
        if req not in config:
            raise InvalidArgumentError(f"latent_regret needs {req!r}")
    K = config["K"]
    if isinstance(K, bool) or not isinstance(K, numbers.Integral) or K < 1:
        raise InvalidArgumentError(f"K = {K!r} must be a positive integer")
    _algorithm(config)
    build_instance(config)
    checkpoint_grid(config.get("checkpoints", 40), int(K))


def _var_star(lmdp: LatentMDP, known: dict) -> float | None:
    if "var_star" in known:
        return known["var_star"]
    if (lmdp.S * lmdp.A) ** lmdp.H > VAR_STAR_MAX_TREE:
        return None
    return float(lmdp.var_star)


@experiment(validate=validate_latent_regret)
def latent_regret(config: dict, seed: int) -> dict:
    r"""Run one optimistic agent on one LMDP for ``K`` episodes; exact regret at log-spaced checkpoints.

    Parameters
    ----------
    config : dict
        See the module docstring.
    seed : int
        Environment randomness (contexts, transitions).

    Returns
    -------
    dict
        ``algorithm`` (label), ``family``, ``M``, ``S``, ``A``, ``H``, ``gamma`` (:math:`\Gamma`),
        ``var_star`` (:math:`\mathrm{Var}^*`, None when the history tree is too large), ``v_star``,
        ``k`` (checkpoint episodes), ``t`` (the same in steps, :math:`kH`, for ``mdpkit report``),
        ``regret`` (exact :math:`\sum_{j \le k} V^\star - V^{\pi_j}`),
        ``realized_regret``, ``scale`` (:math:`\sqrt{\mathrm{Var}^* M S A k}` at each checkpoint, or None),
        ``optimism_violations`` (episodes whose optimistic value was below :math:`V^\star - 10^{-9}`),
        ``min_episode_regret``, ``n_plans``, ``agent_stats``, ``_timings``.
    """
    validate_latent_regret(config)
    t0 = time.perf_counter()
    name, label, params = _algorithm(config)
    lmdp, known = build_instance(config)
    K = int(config["K"])
    v_star, _ = belief_plan(lmdp)
    var_star = _var_star(lmdp, known)
    build_s = time.perf_counter() - t0
    agent = make_latent_agent(name, LatentSpec.of(lmdp), K, **params)
    run = run_latent(lmdp, agent, K, seed=int(seed), v_star=v_star)
    ks = checkpoint_grid(config.get("checkpoints", 40), K)
    per_episode = run.v_star - run.values
    out: dict[str, Any] = {
        "algorithm": label,
        "family": config["family"],
        "M": lmdp.M,
        "S": lmdp.S,
        "A": lmdp.A,
        "H": lmdp.H,
        "gamma": lmdp.gamma_degree,
        "var_star": var_star,
        "v_star": float(v_star),
        "k": ks.tolist(),
        "t": (ks * lmdp.H).tolist(),
        "regret": run.regret()[ks - 1].tolist(),
        "realized_regret": run.realized_regret()[ks - 1].tolist(),
        "scale": None
        if var_star is None
        else [math.sqrt(var_star * lmdp.M * lmdp.S * lmdp.A * int(k)) for k in ks],
        "optimism_violations": int(np.sum(run.optimistic < run.v_star - 1e-9)),
        "min_episode_regret": float(per_episode.min()),
        "n_plans": run.n_plans,
        "agent_stats": dict(run.stats),
        "_timings": {"build_s": build_s, "interaction_s": run.wall_time, "evaluation_s": run.eval_time},
    }
    return out


# ---------------------------------------------------------------------------------------------------------
# stored sweeps, reduced sweeps and the fits the claims and figures read
# ---------------------------------------------------------------------------------------------------------

#: where ``examples/sweeps/latent_*.toml`` store their records
SWEEP_RESULTS = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "results"

#: the sweeps of issue #7: key -> (TOML stem, number of cells when complete); experiment (b) has two, on the
#: revealing family (``horizon``) and on the genuinely latent signal family (``horizon_latent``)
SWEEPS: dict[str, tuple[str, int]] = {
    "regret_k": ("latent_regret_k", 30),
    "horizon": ("latent_horizon", 40),
    "horizon_latent": ("latent_horizon_latent", 40),
    "variance": ("latent_variance", 100),
    "hard": ("latent_hard", 80),
}

#: the reduced ``horizon_latent`` sweep: episodes and horizons (H = 40 costs ~0.5 s per plan, so the quick
#: check stops at H = 20)
HORIZON_LATENT_QUICK_K = 100
HORIZON_LATENT_QUICK_H = (5, 10, 20)

_VO = {"name": "value-optimistic", "label": "value-optimistic", "delta": 0.05}
_MO = {"name": "model-optimistic", "label": "model-optimistic", "delta": 0.05}

#: reduced versions of the sweeps (a few seconds on one core) for the quick checks and ``--quick`` figures
REDUCED: dict[str, dict[str, Any]] = {
    "regret_k": {
        "params": {
            "family": "random",
            "instance": {"S": 3, "A": 2, "M": 2, "H": 5, "support": 2, "reward_observed": False, "seed": 0},
            "K": 6000,
            "checkpoints": 20,
        },
        "grid": {"algorithm": [_VO]},
    },
    "horizon": {
        "params": {"family": "revealing", "algorithm": _VO, "K": 300, "checkpoints": 10},
        "grid": {
            "instance": [{"S": 3, "A": 2, "M": 2, "H": H, "support": 2, "seed": 0} for H in (5, 10, 20, 40)]
        },
    },
    "horizon_latent": {
        "params": {"family": "signal", "algorithm": _VO, "K": HORIZON_LATENT_QUICK_K, "checkpoints": 10},
        "grid": {
            "instance": [
                {"W": 2, "A": 2, "M": 2, "H": H, "noise": 0.2, "seed": 0} for H in HORIZON_LATENT_QUICK_H
            ]
        },
    },
    "variance": {
        "params": {"family": "random", "algorithm": _VO, "K": 3000, "checkpoints": 10},
        "grid": {
            "instance": [
                {
                    "S": 3,
                    "A": 2,
                    "M": 2,
                    "H": 5,
                    "support": 2,
                    "noise": eps,
                    "reward_observed": False,
                    "seed": 0,
                }
                for eps in (0.0, 0.5)
            ]
        },
    },
    "hard": {
        "params": {"family": "hard", "algorithm": _VO, "K": 1000, "checkpoints": 10},
        "grid": {
            "instance": [
                {"M": M, "L": L, "A": A, "eps": 0.2, "scale": sc, "seed": 0}
                for (M, L, A) in ((2, 2, 2), (4, 2, 2), (2, 2, 4))
                for sc in (0.25, 1.0)
            ]
        },
    },
}


def load_records(key: str, complete: bool = True) -> list[dict]:
    """The stored records of the sweep ``key`` of :data:`SWEEPS` as ``{"config", "seed", "record"}`` dicts.

    Parameters
    ----------
    key : str
        ``"regret_k"``, ``"horizon"``, ``"horizon_latent"``, ``"variance"`` or ``"hard"``.
    complete : bool
        Return ``[]`` unless every cell of the sweep is stored.

    Returns
    -------
    list of dict
        Empty when the results file is missing (or incomplete and ``complete``).
    """
    from mdpkit.experiments.store import ResultsStore

    if key not in SWEEPS:
        raise InvalidArgumentError(f"sweep {key!r} is not one of {sorted(SWEEPS)}")
    stem, n_cells = SWEEPS[key]
    path = SWEEP_RESULTS / f"{stem}.sqlite"
    if not path.exists() or path.stat().st_size == 0:
        return []
    with ResultsStore(path, readonly=True) as store:
        recs = [{"config": r.config, "seed": r.seed, "record": r.record} for r in store.records()]
    if complete and len(recs) < n_cells:
        return []
    return recs


def reduced_records(key: str, seeds: int = 3) -> list[dict]:
    """Run the reduced sweep ``key`` of :data:`REDUCED` in this process, one cell after the other.

    Parameters
    ----------
    key : str
        A key of :data:`REDUCED`.
    seeds : int
        Seeds ``0..seeds-1``.

    Returns
    -------
    list of dict
        ``{"config", "seed", "record"}`` per cell.
    """
    if key not in REDUCED:
        raise InvalidArgumentError(f"reduced sweep {key!r} is not one of {sorted(REDUCED)}")
    spec = REDUCED[key]
    ((axis, values),) = spec["grid"].items()
    out = []
    for v in values:
        cfg = dict(spec["params"], **{axis: v})
        for sd in range(int(seeds)):
            rec = latent_regret(cfg, sd)
            rec.pop("_timings", None)
            out.append({"config": cfg, "seed": sd, "record": rec})
    return out


def records_for(key: str, quick: bool, seeds: int = 3) -> tuple[list[dict], str]:
    """Stored records of ``key`` when the sweep is complete, else (``quick``) the reduced sweep.

    Parameters
    ----------
    key : str
    quick : bool
        Whether a reduced sweep may stand in for missing records.
    seeds : int
        Seeds of the reduced sweep.

    Returns
    -------
    records : list of dict
    source : str
        Where they come from (for the verdict's evidence and the figure's CSV).

    Raises
    ------
    InvalidArgumentError
        No complete stored sweep and ``quick`` is False.
    """
    recs = load_records(key)
    if recs:
        return recs, f"stored sweep {SWEEPS[key][0]} ({len(recs)} cells)"
    if not quick:
        raise InvalidArgumentError(
            f"no complete stored sweep {SWEEPS[key][0]}: run "
            f"`mdpkit run examples/sweeps/{SWEEPS[key][0]}.toml`"
        )
    recs = reduced_records(key, seeds)
    return recs, f"reduced sweep {key!r} run now ({len(recs)} cells, {seeds} seeds)"


def _group(records: list[dict], field_fn) -> dict[Any, list[dict]]:
    out: dict[Any, list[dict]] = {}
    for r in records:
        out.setdefault(field_fn(r), []).append(r)
    for v in out.values():
        v.sort(key=lambda r: r["seed"])
    return out


def _label(r: dict) -> str:
    return str(r["record"]["algorithm"])


def regret_matrix(records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """``(k, Y)``: the checkpoint episodes and the (n_seeds, n_points) regret curves of one group."""
    k = np.asarray(records[0]["record"]["k"], dtype=np.float64)
    Y = np.asarray([r["record"]["regret"] for r in records], dtype=np.float64)
    return k, Y


def slope_rows(records: list[dict], level: float = 0.95) -> list[dict]:
    """Experiment (a): per algorithm, the log-log slope of the mean regret over the last decade [K/10, K].

    Parameters
    ----------
    records : list of dict
    level : float
        Level of the bootstrap interval (:func:`mdpkit.experiments.analysis.loglog_slope`).

    Returns
    -------
    list of dict
        ``algorithm``, ``K``, ``slope``, ``lo``, ``hi``, ``seeds``, ``regret_K`` (mean), ``violations``.
    """
    from mdpkit.experiments.analysis import loglog_slope

    rows = []
    for alg, rs in _group(records, _label).items():
        k, Y = regret_matrix(rs)
        K = float(k[-1])
        fit = loglog_slope(k, Y, t_range=(K / 10, K), level=level)
        rows.append(
            {
                "algorithm": alg,
                "K": int(K),
                "slope": fit.slope,
                "lo": fit.lo,
                "hi": fit.hi,
                "seeds": len(rs),
                "regret_K": float(Y[:, -1].mean()),
                "violations": int(sum(r["record"]["optimism_violations"] for r in rs)),
            }
        )
    return rows


def _boot_slope(x: np.ndarray, Ys: list[np.ndarray], level: float, n_boot: int = 2000, seed: int = 0):
    """Slope of log(mean_i Y_i) on log x over groups, with a percentile bootstrap over each group's seeds."""
    lx = np.log(x)
    lx_c = lx - lx.mean()

    def fit(means: np.ndarray) -> float:
        ly = np.log(means)
        return float(lx_c @ (ly - ly.mean()) / (lx_c @ lx_c))

    slope = fit(np.array([Y.mean() for Y in Ys]))
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        boots[b] = fit(np.array([Y[rng.integers(0, Y.size, Y.size)].mean() for Y in Ys]))
    q = (1 - level) / 2
    return slope, float(np.quantile(boots, q)), float(np.quantile(boots, 1 - q))


def horizon_rows(records: list[dict], level: float = 0.95) -> tuple[list[dict], dict]:
    """Experiment (b): the mean regret at K max for each H, and the slope of log regret(K) against log H.

    Returns
    -------
    rows : list of dict
        ``H``, ``K``, ``regret_K`` (mean), ``lo``, ``hi`` (t-interval), ``seeds``.
    fit : dict
        ``slope``, ``lo``, ``hi`` (bootstrap over seeds), ``ratio`` (largest / smallest mean regret).
    """
    from mdpkit.experiments.analysis import mean_band

    rows, Ys, Hs = [], [], []
    for H, rs in sorted(_group(records, lambda r: r["record"]["H"]).items()):
        k, Y = regret_matrix(rs)
        band = mean_band(Y[:, -1:], level)
        rows.append(
            {
                "H": int(H),
                "K": int(k[-1]),
                "regret_K": float(band.mean[0]),
                "lo": float(band.lo[0]),
                "hi": float(band.hi[0]),
                "seeds": len(rs),
            }
        )
        Ys.append(Y[:, -1])
        Hs.append(float(H))
    slope, lo, hi = _boot_slope(np.array(Hs), Ys, level)
    means = [r["regret_K"] for r in rows]
    return rows, {"slope": slope, "lo": lo, "hi": hi, "ratio": max(means) / min(means)}


def variance_rows(records: list[dict], level: float = 0.95) -> list[dict]:
    """Experiment (c): per (algorithm, noise), Var* and the mean regret at K max with its t-interval."""
    from mdpkit.experiments.analysis import mean_band

    rows = []
    key = lambda r: (_label(r), float(r["config"]["instance"].get("noise", -1.0)))  # noqa: E731
    for (alg, noise), rs in sorted(_group(records, key).items()):
        k, Y = regret_matrix(rs)
        band = mean_band(Y[:, -1:], level)
        rows.append(
            {
                "algorithm": alg,
                "noise": noise,
                "var_star": float(rs[0]["record"]["var_star"]),
                "K": int(k[-1]),
                "regret_K": float(band.mean[0]),
                "lo": float(band.lo[0]),
                "hi": float(band.hi[0]),
                "seeds": len(rs),
            }
        )
    return rows


def hard_rows(records: list[dict], level: float = 0.95) -> tuple[list[dict], dict]:
    r"""Experiment (d): per hard instance, :math:`\sqrt{\mathrm{Var}^* M S A K}` and the regret at K max; the
    slope of log regret against log of that scale across instances (bootstrap over seeds).

    Returns
    -------
    rows : list of dict
        ``M``, ``L``, ``A``, ``S``, ``scale_r`` (reward scale), ``var_star``, ``K``, ``x`` (the scale),
        ``regret_K``, ``lo``, ``hi``, ``ratio`` (regret / x), ``seeds``.
    fit : dict
        ``slope``, ``lo``, ``hi``, ``ratio_min``, ``ratio_max``.
    """
    from mdpkit.experiments.analysis import mean_band

    rows, Ys, xs = [], [], []
    key = lambda r: tuple(sorted(r["config"]["instance"].items()))  # noqa: E731
    for _, rs in _group(records, key).items():
        rec = rs[0]["record"]
        inst = rs[0]["config"]["instance"]
        k, Y = regret_matrix(rs)
        band = mean_band(Y[:, -1:], level)
        x = float(rec["scale"][-1])
        rows.append(
            {
                "M": rec["M"],
                "L": int(inst["L"]),
                "A": rec["A"],
                "S": rec["S"],
                "scale_r": float(inst.get("scale", 1.0)),
                "var_star": float(rec["var_star"]),
                "K": int(k[-1]),
                "x": x,
                "regret_K": float(band.mean[0]),
                "lo": float(band.lo[0]),
                "hi": float(band.hi[0]),
                "ratio": float(band.mean[0]) / x,
                "seeds": len(rs),
            }
        )
        Ys.append(Y[:, -1])
        xs.append(x)
    slope, lo, hi = _boot_slope(np.array(xs), Ys, level)
    ratios = [r["ratio"] for r in rows]
    return rows, {"slope": slope, "lo": lo, "hi": hi, "ratio_min": min(ratios), "ratio_max": max(ratios)}
