r"""Latent MDPs: the regret is (nearly) horizon-free — curves for H = 5, 10, 20, 40 nearly overlay.

Zhou, Wang & Du (ICML 2023): with the total reward of an episode at most 1, the regret bound
:math:`\tilde O(\sqrt{\mathrm{Var}^* M \Gamma S A K})` depends on the horizon :math:`H` only through
logarithms. The check runs the value-optimistic algorithm (paper constants) on two families, each with the
same kernels and base rewards :math:`u` for every :math:`H` and rewards :math:`u/H`:

* **revealing** — :func:`mdpkit.latent.experiments.revealing_lmdp`: the first transition reveals the
  context, then :math:`H - 1` noisy steps; it tests long horizons without belief tracking;
* **latent** — :func:`mdpkit.latent.instances.signal_lmdp` (W = 2, A = 2, M = 2, noise 0.2): no single
  transition reveals the context and rewards are not observed, so beliefs are tracked all episode.

For each family it fits the slope of :math:`\log \overline{\mathrm{Regret}}(K)` against :math:`\log H` at the
last episode (95% bootstrap over seeds) and reports the ratio of the largest to the smallest mean regret.

Verdict: ``holds`` if both intervals' upper ends are below 0.5 (growth slower than :math:`\sqrt H`; a
:math:`\log^2 H` factor between H = 5 and 40 gives a slope of about 0.8 at most, :math:`\log H` about 0.4, so
this separates logarithmic growth from the :math:`\sqrt H`/:math:`H` factors of horizon-dependent bounds
only roughly: the evidence gives the ratios too); ``refuted`` if either lower end is at least 0.5 (polynomial
growth in H on that family); else ``inconclusive``.

Data: quick budget — the reduced sweeps ``horizon`` (revealing, K = 300, H = 5..40, 2 seeds) and
``horizon_latent`` (signal, K = 100, H = 5, 10, 20 — H = 40 costs ~0.5 s per plan —, 3 seeds) of
:data:`mdpkit.latent.experiments.REDUCED`, run here (< 20 s on one core); full budget — the stored records of
``examples/sweeps/latent_horizon.toml`` (K = 5000, 10 seeds) and ``latent_horizon_latent.toml`` (K = 1400,
10 seeds) when complete, else the reduced sweeps with 10 seeds.
"""

from __future__ import annotations

import math

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.latent.experiments import SWEEPS, horizon_rows, load_records, reduced_records

ID = "latent.horizon-free"
LIMIT = 0.5
#: family name -> (sweep key, instance description for the counterexample, quick seeds)
FAMILIES = {
    "revealing": ("horizon", "revealing_lmdp(S=3, A=2, M=2, H, seed=0, support=2)", 2),
    "latent": ("horizon_latent", "signal_lmdp(W=2, A=2, M=2, H, noise=0.2, seed=0)", 3),
}


def _data(key: str, budget: Budget, quick_seeds: int) -> tuple[list, str]:
    if budget.name == "full":
        recs = load_records(key)
        if recs:
            return recs, f"stored records of examples/sweeps/{SWEEPS[key][0]}.toml ({len(recs)} cells)"
        return reduced_records(key, seeds=10), f"reduced sweep {key!r}, 10 seeds (run here)"
    recs = reduced_records(key, seeds=quick_seeds)
    return recs, f"reduced sweep {key!r} ({quick_seeds} seeds; run here)"


def _local_slopes(rows: list[dict]) -> list[float]:
    """Slopes of log regret between consecutive horizons (does the growth decelerate?)."""
    pairs = zip(rows[:-1], rows[1:], strict=True)
    return [math.log(b["regret_K"] / a["regret_K"]) / math.log(b["H"] / a["H"]) for a, b in pairs]


def _evidence(family: str, source: str, rows: list[dict], fit: dict) -> str:
    return (
        f"[{family}] {source}: mean regret at K={rows[0]['K']}: "
        + ", ".join(f"H={r['H']}: {r['regret_K']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}]" for r in rows)
        + f"; largest/smallest = {fit['ratio']:.2f}; slope in log H {fit['slope']:.3f} "
        f"[{fit['lo']:.3f}, {fit['hi']:.3f}]; between consecutive H: "
        + ", ".join(f"{x:.2f}" for x in _local_slopes(rows))
    )


def check(budget: Budget) -> Verdict:
    results = {}
    for family, (key, _, seeds) in FAMILIES.items():
        recs, source = _data(key, budget, seeds)
        rows, fit = horizon_rows(recs)
        fit["local_slopes"] = _local_slopes(rows)
        results[family] = {"rows": rows, "fit": fit, "source": source}
    ev = "; ".join(_evidence(f, r["source"], r["rows"], r["fit"]) for f, r in results.items())
    bad = [f for f, r in results.items() if r["fit"]["lo"] >= LIMIT]
    if bad:
        return Verdict(
            "refuted",
            ev + f"; lower end >= {LIMIT} on {bad}: the regret grows polynomially in H there",
            counterexample={f: {"family": FAMILIES[f][1], "rows": results[f]["rows"]} for f in bad},
            data=results,
        )
    if all(r["fit"]["hi"] < LIMIT for r in results.values()):
        return Verdict("holds", ev + f"; upper ends < {LIMIT} on both families", data=results)
    return Verdict("inconclusive", ev, data=results)


CLAIM = Claim(
    id=ID,
    paper="Zhou, Wang & Du, Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov "
    "Decision Processes, ICML 2023 (arXiv:2210.11604), main upper bound (horizon-free)",
    statement="With total reward per episode at most 1, the regret depends on the horizon H only "
    "logarithmically: regret curves for H in {5, 10, 20, 40} nearly overlay.",
    assumptions="two families with the same kernels and base rewards u for every H, rewards u/H: "
    "revealing_lmdp (first transition reveals the context; 3 work states, Gamma = 2, A = 2, M = 2) and "
    "signal_lmdp (genuinely latent: shared supports, unobserved rewards, noisy signal 0.8/0.2, W = 2, A = 2, "
    "M = 2); value-optimistic algorithm of mdpkit.latent.learning with c = 1, delta = 0.05.",
    check=check,
    expected="holds",
)
