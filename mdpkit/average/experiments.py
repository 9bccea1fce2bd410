r"""The average-reward regret experiment and the fits behind the LOOP claims.

``average_regret`` is a sweep experiment (``experiment = "mdpkit.average.experiments:average_regret"`` in a
sweep TOML) with the configuration keys of the built-in ``regret`` experiment
(:mod:`mdpkit.experiments.cells`, continuing setting only). It runs :func:`mdpkit.experiments.run_continuing`
(exact regret and pseudo-regret with :func:`mdpkit.policy_gain`) and records, besides the regret curves, the
**number of policy switches** at every checkpoint and the exact :math:`\rho^*`, :math:`\mathrm{sp}(h^*)` of
the instance. An agent parameter
``span_bound = "oracle"`` (or ``"oracle*1.5"``) is replaced by :math:`\mathrm{sp}(h^*)` (times the factor):
the known-span baseline is told the true span.

Fits (all over seeds, the independent replicates):

* :func:`regret_slopes` — log-log slope of the mean regret against :math:`T` with a bootstrap interval
  (:func:`mdpkit.experiments.analysis.loglog_slope`);
* :func:`switch_fit` — switches against :math:`\log T`: least-squares :math:`n(T) \approx a + b\log T` and the
  log-log slope of :math:`n(T)` (0 for logarithmic growth, 0.5 for :math:`\sqrt T`), with bootstrap intervals;
* :func:`span_fit` — log-log slope of the regret at the last :math:`T` against :math:`\mathrm{sp}(h^*)` over a
  span family;
* :func:`regret_ratio` — ratio of two algorithms' mean final regrets, with a bootstrap interval.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from mdpkit.average.instances import ground_truth
from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments.agents import make_agent
from mdpkit.experiments.analysis import SlopeFit, curves, loglog_slope
from mdpkit.experiments.cells import algorithm_spec, checkpoint_grid, resolve_instance, validate_regret
from mdpkit.experiments.protocol import EnvSpec, run_continuing
from mdpkit.experiments.store import ResultsStore, StoredRecord
from mdpkit.experiments.sweep import experiment

__all__ = [
    "average_regret",
    "load_records",
    "regret_slopes",
    "switch_fit",
    "span_fit",
    "regret_ratio",
    "GROUP",
    "REDUCED",
    "SWEEP_RESULTS",
    "reduced_records",
    "decade_ratio",
]

#: how records are grouped into curves (instance_params separates members of a family)
GROUP = ("algorithm", "instance", "size", "instance_params")


def _validate(config: dict) -> None:
    validate_regret(config)
    _, _, setting, _, _ = algorithm_spec(config)
    if setting != "continuing":
        raise InvalidArgumentError(
            f"average_regret runs the continuing setting only, got setting = {setting!r}"
        )


def _instance(config: dict) -> TabularMDP:
    fn = resolve_instance(config["instance"])
    kwargs = config.get("instance_params", {})
    if not isinstance(kwargs, dict):
        raise InvalidArgumentError(f"instance_params = {kwargs!r} must be a table of keyword arguments")
    mdp = fn(*((config["size"],) if "size" in config else ()), **kwargs)
    if not isinstance(mdp, TabularMDP):
        raise InvalidArgumentError(f"instance {config['instance']!r} returned {type(mdp).__name__}")
    return mdp


def _oracle(params: dict, span: float) -> dict:
    out = dict(params)
    v = out.get("span_bound")
    if isinstance(v, str):
        if v == "oracle":
            out["span_bound"] = span
        elif v.startswith("oracle*"):
            try:
                out["span_bound"] = span * float(v[len("oracle*") :])
            except ValueError:
                raise InvalidArgumentError(
                    f"span_bound = {v!r}: expected 'oracle' or 'oracle*FACTOR'"
                ) from None
        else:
            raise InvalidArgumentError(f"span_bound = {v!r}: expected a number, 'oracle' or 'oracle*FACTOR'")
    return out


@experiment(validate=_validate)
def average_regret(config: dict, seed: int) -> dict:
    r"""One average-reward agent on one instance for ``T`` steps: regret, pseudo-regret and switches.

    Parameters
    ----------
    config : dict
        Keys of the ``regret`` experiment (``instance``, ``size``, ``instance_params``, ``algorithm``, ``T``,
        ``checkpoints``, ``reward_noise``); continuing setting.
    seed : int
        Split into an environment and an agent stream (:class:`numpy.random.SeedSequence`), as in ``regret``.

    Returns
    -------
    dict
        ``t``, ``regret`` (:math:`t\rho^* - \sum r`), ``pseudo_regret`` (:math:`\sum \rho^* -
        g^{\pi_t}(s_t)`), ``switches`` (policy switches up to ``t``), ``optimal`` (:math:`\rho^*`), ``span``
        (:math:`\mathrm{sp}(h^*)`), ``S``, ``A``, ``algorithm`` (label), ``n_switches``, ``n_policies``,
        ``total_reward``, ``agent_stats`` and ``_timings``.
    """
    _validate(config)
    t0 = time.perf_counter()
    name, label, _, _, params = algorithm_spec(config)
    mdp = _instance(config)
    gt = ground_truth(mdp, tol=1e-12)
    T = int(config["T"])
    env_seed, agent_seed = np.random.SeedSequence(int(seed)).spawn(2)
    spec = EnvSpec(mdp.S, mdp.A, np.asarray(mdp.mask), None, T)
    agent = make_agent(name, spec, np.random.default_rng(agent_seed), **_oracle(params, gt.span))
    build_s = time.perf_counter() - t0
    run = run_continuing(
        mdp,
        agent,
        T,
        np.random.default_rng(env_seed),
        reward_noise=config.get("reward_noise", "none"),
        rho_star=gt.rho,
    )
    ts = checkpoint_grid(config.get("checkpoints", 60), T)
    # a switch recorded at step t (0-based) happened before the (t+1)-th action: count those with t < ts
    switches = np.searchsorted(run.switch_times, ts, side="left")
    out = {
        "setting": "continuing",
        "algorithm": label,
        "S": mdp.S,
        "A": mdp.A,
        "t": ts.tolist(),
        "regret": run.regret()[ts - 1].tolist(),
        "pseudo_regret": run.pseudo_regret()[ts - 1].tolist(),
        "switches": switches.tolist(),
        "optimal": run.rho_star,
        "span": gt.span,
        "n_switches": run.n_switches,
        "n_policies": len(run.policies),
        "total_reward": float(run.rewards.sum()),
    }
    stats = getattr(agent, "stats", None)
    if isinstance(stats, dict):
        out["agent_stats"] = dict(stats)
    out["_timings"] = {"build_s": build_s, "interaction_s": run.wall_time, "evaluation_s": run.eval_time}
    return out


def load_records(path: str | Path, sweep: str | None = None) -> list[StoredRecord]:
    """The stored records of a results file (read-only), optionally of one sweep.

    Parameters
    ----------
    path : str or Path
        The SQLite results file.
    sweep : str, optional
        Sweep name filter.

    Returns
    -------
    list of StoredRecord
        Empty when the file does not exist.
    """
    p = Path(path)
    if not p.exists():
        return []
    with ResultsStore(p, readonly=True) as store:
        return list(store.records(sweep=sweep))


def _rows(records: Iterable[StoredRecord | dict], y: str, by: Sequence[str]):
    return curves(records, y=y, by=by)


def _head(c) -> dict:
    """The first fields of a curve's row: its group, ``seeds``, ``T`` and ``final`` (mean at ``T``)."""
    return {**c.group, "seeds": len(c.seeds), "T": float(c.t[-1]), "final": float(c.Y[:, -1].mean())}


def _boot_means(Y: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """``n_boot`` percentile-bootstrap means over the seeds (rows) of ``Y`` (n, m): shape (n_boot, m)."""
    rng = np.random.default_rng(seed)
    return Y[rng.integers(0, Y.shape[0], size=(n_boot, Y.shape[0]))].mean(axis=1)


def regret_slopes(
    records: Iterable[StoredRecord | dict],
    t_range: tuple[float, float] | None = None,
    y: str = "regret",
    by: Sequence[str] = GROUP,
    level: float = 0.95,
) -> list[dict]:
    r"""Log-log slope of the mean regret against :math:`T` per curve, with its bootstrap interval.

    Parameters
    ----------
    records : iterable of StoredRecord or dict
        Records of ``average_regret`` (or ``regret``).
    t_range : (t_min, t_max), optional
        Horizons fitted (default: the last decade, :math:`[T/10, T]`).
    y : str
        ``"regret"`` or ``"pseudo_regret"``.
    by : sequence of str
        Grouping fields.
    level : float
        Confidence level.

    Returns
    -------
    list of dict
        Group fields, ``seeds``, ``T``, ``final`` (mean regret at ``T``), ``slope``, ``lo``, ``hi``,
        ``t_min``, ``t_max``, ``note`` (why the slope is NaN: a non-positive mean curve in the range).
    """
    out = []
    for c in _rows(records, y, by):
        T = float(c.t[-1])
        rng_ = t_range if t_range is not None else (T / 10.0, T)
        row = _head(c)
        try:
            fit: SlopeFit = c.slope(rng_, level)
        except InvalidArgumentError as exc:  # a non-positive mean (or bootstrap mean) curve in the range
            row.update(slope=math.nan, lo=math.nan, hi=math.nan, t_min=rng_[0], t_max=rng_[1], note=str(exc))
        else:
            row.update(slope=fit.slope, lo=fit.lo, hi=fit.hi, t_min=fit.t_min, t_max=fit.t_max, note="")
        out.append(row)
    return out


def _log_linear(x: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xc = x - x.mean()
    b = (Y - Y.mean(axis=-1, keepdims=True)) @ xc / float(xc @ xc)
    return b, Y.mean(axis=-1) - b * x.mean()


def switch_fit(
    records: Iterable[StoredRecord | dict],
    t_range: tuple[float, float] | None = None,
    by: Sequence[str] = GROUP,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> list[dict]:
    r"""Policy switches against :math:`\log T`, per curve.

    Fits the mean switch count :math:`\bar n(T) = a + b \log T` by least squares over ``t_range`` (default
    :math:`[T/1000, T]`) and reports :math:`b` (switches per :math:`e`-fold of :math:`T`), :math:`R^2`, and
    the log-log slope of :math:`\bar n(T)` (near 0 for logarithmic growth, 0.5 for :math:`\sqrt T`), both with
    percentile bootstrap intervals over seeds.

    Parameters
    ----------
    records : iterable of StoredRecord or dict
        ``average_regret`` records (they carry ``switches``).
    t_range : (t_min, t_max), optional
        Horizons fitted.
    by : sequence of str
        Grouping fields.
    level : float
        Confidence level.
    n_boot, seed : int
        Bootstrap replicates and generator seed.

    Returns
    -------
    list of dict
        Group fields, ``seeds``, ``T``, ``final`` (mean switches at ``T``), ``b``, ``b_lo``, ``b_hi``, ``r2``,
        ``loglog``, ``loglog_lo``, ``loglog_hi``.
    """
    out = []
    for c in _rows(records, "switches", by):
        T = float(c.t[-1])
        lo_t, hi_t = t_range if t_range is not None else (T / 1000.0, T)
        sel = (c.t >= lo_t) & (c.t <= hi_t)
        if sel.sum() < 3:
            raise InvalidArgumentError(f"group {c.group}: fewer than 3 horizons in [{lo_t:g}, {hi_t:g}]")
        x = np.log(c.t[sel])
        Y = c.Y[:, sel]
        mean = Y.mean(axis=0)
        b, a = _log_linear(x, mean)
        resid = mean - (a + b * x)
        ss = float(((mean - mean.mean()) ** 2).sum())
        r2 = 1.0 - float((resid**2).sum()) / ss if ss > 0 else 1.0
        bb, _ = _log_linear(x, _boot_means(Y, n_boot, seed))
        q = [0.5 - level / 2, 0.5 + level / 2]
        row = _head(c)
        row.update(b=float(b), b_lo=float(np.quantile(bb, q[0])), b_hi=float(np.quantile(bb, q[1])), r2=r2)
        pos = np.all(Y > 0, axis=0)  # every seed has switched: every bootstrap mean is positive
        if pos.sum() >= 2:
            fit = loglog_slope(c.t[sel][pos], Y[:, pos], level=level, n_boot=n_boot, seed=seed)
            row.update(loglog=fit.slope, loglog_lo=fit.lo, loglog_hi=fit.hi)
        else:
            row.update(loglog=math.nan, loglog_lo=math.nan, loglog_hi=math.nan)
        out.append(row)
    return out


def span_fit(
    records: Iterable[StoredRecord | dict],
    algorithm: str,
    y: str = "regret",
    level: float = 0.95,
    n_boot: int = 4000,
    seed: int = 0,
) -> dict:
    r"""Log-log slope of the final mean regret against :math:`\mathrm{sp}(h^*)` over a span family.

    Parameters
    ----------
    records : iterable of StoredRecord or dict
        ``average_regret`` records of one family (same ``T``, same seeds per member).
    algorithm : str
        Label of the algorithm to fit.
    y : str
        ``"regret"`` or ``"pseudo_regret"``.
    level : float
        Confidence level.
    n_boot, seed : int
        Bootstrap replicates and generator seed.

    Returns
    -------
    dict
        ``algorithm``, ``spans``, ``final`` (mean regret per member), ``slope``, ``lo``, ``hi``, ``seeds``.
    """
    by_span: dict[float, dict[int, float]] = {}
    for r in records:
        rec = r.record if isinstance(r, StoredRecord) else r["record"]
        sd = r.seed if isinstance(r, StoredRecord) else r["seed"]
        if rec.get("algorithm") != algorithm:
            continue
        by_span.setdefault(float(rec["span"]), {})[int(sd)] = float(rec[y][-1])
    if len(by_span) < 2:
        raise InvalidArgumentError(f"algorithm {algorithm!r}: need >= 2 family members, got {len(by_span)}")
    spans = sorted(by_span)
    seeds = sorted(set.intersection(*(set(v) for v in by_span.values())))
    if not seeds:
        raise InvalidArgumentError(f"algorithm {algorithm!r}: no seed is common to all family members")
    Y = np.array([[by_span[s][sd] for s in spans] for sd in seeds])
    fit = loglog_slope(spans, Y, level=level, n_boot=n_boot, seed=seed)
    return {
        "algorithm": algorithm,
        "spans": spans,
        "final": Y.mean(axis=0).tolist(),
        "slope": fit.slope,
        "lo": fit.lo,
        "hi": fit.hi,
        "seeds": len(seeds),
    }


def regret_ratio(
    records: Iterable[StoredRecord | dict],
    num: str,
    den: str,
    y: str = "regret",
    by: Sequence[str] = ("instance", "size", "instance_params"),
    level: float = 0.95,
    n_boot: int = 4000,
    seed: int = 0,
) -> list[dict]:
    r"""Ratio of two algorithms' mean final regrets per instance, with a bootstrap interval over seeds.

    Parameters
    ----------
    records : iterable of StoredRecord or dict
        Records holding both algorithms on the same instances.
    num, den : str
        Algorithm labels (numerator, denominator).
    y : str
        ``"regret"`` or ``"pseudo_regret"``.
    by : sequence of str
        Fields that identify an instance.
    level : float
        Confidence level.
    n_boot, seed : int
        Bootstrap replicates (seeds resampled independently for each algorithm) and generator seed.

    Returns
    -------
    list of dict
        Instance fields, ``ratio``, ``lo``, ``hi``, ``num_final``, ``den_final``.
    """
    cs = _rows(records, y, ("algorithm", *by))
    groups: dict[tuple, dict[str, np.ndarray]] = {}
    for c in cs:
        key = tuple((k, c.group.get(k)) for k in by if k in c.group)
        groups.setdefault(key, {})[c.group["algorithm"]] = c.Y[:, -1]
    rng = np.random.default_rng(seed)
    out = []
    for key, algs in groups.items():
        if num not in algs or den not in algs:
            continue
        a, b = algs[num], algs[den]
        ia = rng.integers(0, a.size, size=(n_boot, a.size))
        ib = rng.integers(0, b.size, size=(n_boot, b.size))
        boot = a[ia].mean(axis=1) / b[ib].mean(axis=1)
        lo, hi = np.quantile(boot, [0.5 - level / 2, 0.5 + level / 2])
        out.append(
            {
                **dict(key),
                "ratio": float(a.mean() / b.mean()),
                "lo": float(lo),
                "hi": float(hi),
                "num_final": float(a.mean()),
                "den_final": float(b.mean()),
            }
        )
    return out


#: the reduced sweeps behind the quick claims and CI (slow chain, S = 3; LOOP with the paper's constant and
#: with beta scaled by 0.01; UCRL2 with its paper constants), 5 seeds, T = 2e4
REDUCED: dict[str, dict] = {
    "chain": {
        "params": {
            "instance": "mdpkit.average.instances:slow_chain",
            "size": 3,
            "T": 20_000,
            "checkpoints": 31,
        },
        "grid": {
            "instance_params": [{"p": 0.8}],
            "algorithm": [{"name": "loop", "label": "LOOP c=1"}, {"name": "ucrl2", "label": "UCRL2"}],
        },
    },
    "span": {
        "params": {
            "instance": "mdpkit.average.instances:slow_chain",
            "size": 3,
            "T": 20_000,
            "checkpoints": 31,
        },
        "grid": {
            "instance_params": [{"p": 0.8}, {"p": 0.4}, {"p": 0.2}, {"p": 0.1}],
            "algorithm": [{"name": "loop", "label": "LOOP c=0.01", "beta_scale": 0.01}],
        },
    },
}

#: where the full sweeps store their records (git-ignored; present after ``mdpkit run examples/sweeps/...``)
SWEEP_RESULTS = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "results"


def reduced_records(name: str, seeds: int = 5, T: int | None = None) -> list[dict]:
    r"""Run the reduced sweep ``name`` of :data:`REDUCED` in this process (one cell after the other).

    Parameters
    ----------
    name : {"chain", "span"}
        Which reduced sweep.
    seeds : int
        Seeds ``0..seeds-1``.
    T : int, optional
        Override the horizon.

    Returns
    -------
    list of dict
        ``{"config", "seed", "record"}`` per cell, the layout the fits accept.
    """
    if name not in REDUCED:
        raise InvalidArgumentError(f"reduced sweep {name!r} is not one of {sorted(REDUCED)}")
    spec = REDUCED[name]
    params = dict(spec["params"], **({"T": int(T)} if T is not None else {}))
    out = []
    for ip in spec["grid"]["instance_params"]:
        for algo in spec["grid"]["algorithm"]:
            cfg = dict(params, instance_params=ip, algorithm=algo)
            for sd in range(int(seeds)):
                rec = average_regret(cfg, sd)
                rec.pop("_timings", None)
                out.append({"config": cfg, "seed": sd, "record": rec})
    return out


def decade_ratio(
    records: Iterable[StoredRecord | dict],
    by: Sequence[str] = GROUP,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> list[dict]:
    r"""Switches in the last decade of :math:`T` over switches in the decade before, per curve.

    With :math:`n(T)` the mean switch count, :math:`q = [n(T) - n(T/10)] / [n(T/10) - n(T/100)]` is 1 for
    logarithmic growth :math:`n = a + b\log T` and :math:`10^{\alpha}` for :math:`n \propto T^{\alpha}`
    (:math:`\sqrt{10} \approx 3.16` for :math:`\sqrt T`). The interval is a percentile bootstrap over seeds.

    Parameters
    ----------
    records : iterable of StoredRecord or dict
        Records with ``switches`` recorded at (approximately) :math:`T/100`, :math:`T/10` and :math:`T`.
    by : sequence of str
        Grouping fields.
    level : float
        Confidence level.
    n_boot, seed : int
        Bootstrap replicates and generator seed.

    Returns
    -------
    list of dict
        Group fields, ``seeds``, ``n`` (mean switches at the three horizons), ``ratio``, ``lo``, ``hi``
        (NaN when the previous decade has no switch in the mean).
    """
    out = []
    for c in _rows(records, "switches", by):
        T = c.t[-1]
        idx = [int(np.argmin(np.abs(np.log(c.t) - math.log(x)))) for x in (T / 100.0, T / 10.0, T)]
        Y = c.Y[:, idx]
        boot = _boot_means(Y, n_boot, seed)
        num, den = boot[:, 2] - boot[:, 1], boot[:, 1] - boot[:, 0]
        m = Y.mean(axis=0)
        row = {**c.group, "seeds": len(c.seeds), "t": c.t[idx].tolist(), "n": m.tolist()}
        if m[1] - m[0] <= 0:
            row.update(ratio=math.nan, lo=math.nan, hi=math.nan)
        else:
            q = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.inf)
            lo, hi = np.quantile(q, [0.5 - level / 2, 0.5 + level / 2])
            row.update(ratio=float((m[2] - m[1]) / (m[1] - m[0])), lo=float(lo), hi=float(hi))
        out.append(row)
    return out
