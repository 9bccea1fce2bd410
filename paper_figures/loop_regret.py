"""MLE-LOOP against UCRL2 and UCRL2 told sp(h*): regret vs T, policy switches vs T, regret vs sp(h*), ratios.

Four panels, from the stored records of the LOOP sweeps (``examples/sweeps/loop_*.toml``):

(a) cumulative regret against T on RiverSwim(6) (``loop_riverswim_long``, T = 1e6, if stored; else
    ``loop_riverswim`` n = 6), mean and 95% t-band over seeds, log-log; the legend gives the slope on the last
    decade with its 95% bootstrap interval;
(b) the number of policy switches against T (log T axis: a straight line is logarithmic growth);
(c) the final regret against the exact sp(h*) on the slow-chain family (``loop_span``), log-log, with the
    fitted slope;
(d) the ratio of final regrets LOOP / UCRL2 per instance (RiverSwim n = 6, 12, 20 and three random
    communicating MDPs), with bootstrap intervals.

``--quick`` runs the reduced sweeps of :data:`mdpkit.average.experiments.REDUCED` (slow chain S = 3, T = 5000)
in this process instead (seconds); the full figure never recomputes: it raises if the records are missing.

Usage::

    mdpkit run examples/sweeps/loop_riverswim.toml && mdpkit run examples/sweeps/loop_span.toml
    mdpkit run examples/sweeps/loop_random.toml && mdpkit run examples/sweeps/loop_riverswim_long.toml
    python paper_figures/loop_regret.py            # -> paper_figures/out/loop_regret.{png,pdf,csv}
    python paper_figures/loop_regret.py --quick
"""

from __future__ import annotations

import numpy as np

from mdpkit.average.experiments import (
    GROUP,
    SWEEP_RESULTS,
    load_records,
    reduced_records,
    regret_ratio,
    span_fit,
)
from mdpkit.experiments.analysis import curves, loglog_slope, mean_band
from mdpkit.plotting import FigureError, FigureSpec, band, figsize, figure_main, style

QUICK_T = 5000


def _stored(name: str) -> list:
    recs = load_records(SWEEP_RESULTS / f"{name}.sqlite")
    if not recs:
        raise FigureError(
            f"no stored records in {SWEEP_RESULTS / (name + '.sqlite')}: run "
            f"`mdpkit run examples/sweeps/{name}.toml` first (or use --quick)"
        )
    return recs


def _curve_rows(recs: list, source: str) -> list[dict]:
    rows: list[dict] = []
    for y, kind in (("regret", "regret"), ("switches", "switches")):
        for c in curves(recs, y=y, by=GROUP):
            b = mean_band(c.Y)
            alg = c.group["algorithm"]
            for j in range(c.t.size):
                rows.append({"kind": kind, "algorithm": alg, "t": int(c.t[j]), "mean": float(b.mean[j]),
                             "lo": float(b.lo[j]), "hi": float(b.hi[j]), "source": source})  # fmt: skip
            if kind == "regret":
                T = float(c.t[-1])
                try:
                    fit = loglog_slope(c.t, c.Y, t_range=(T / 10, T))
                    s, lo, hi = fit.slope, fit.lo, fit.hi
                except Exception:  # noqa: BLE001 - a non-positive mean regret: no slope to show
                    s = lo = hi = float("nan")
                rows.append({"kind": "slope", "algorithm": alg, "t": int(T), "mean": float(c.Y[:, -1].mean()),
                             "slope": s, "slope_lo": lo, "slope_hi": hi, "seeds": len(c.seeds),
                             "source": source})  # fmt: skip
    return rows


def compute(quick: bool) -> list[dict]:
    """Rows of kinds ``regret``/``switches`` (curves), ``slope``, ``span``/``spanfit`` and ``ratio``."""
    if quick:
        chain = reduced_records("chain", seeds=3, T=QUICK_T)
        span = reduced_records("span", seeds=3, T=QUICK_T)
        a_recs, a_src = chain, f"reduced 'chain' (slow chain S=3, p=0.8), 3 seeds, T={QUICK_T}"
        ratio_recs = chain
        span_algs = ["LOOP c=0.01"]
    else:
        try:
            a_recs, a_src = _stored("loop_riverswim_long"), "loop_riverswim_long (RiverSwim 6, T=1e6)"
        except FigureError:
            a_recs = [r for r in _stored("loop_riverswim") if r.config.get("size") == 6]
            a_src = "loop_riverswim (RiverSwim 6, T=2e5)"
        span = _stored("loop_span")
        ratio_recs = _stored("loop_riverswim") + _stored("loop_random")
        span_algs = ["LOOP c=1", "LOOP c=0.01", "UCRL2"]
    rows = _curve_rows(a_recs, a_src)
    for alg in span_algs:
        fit = span_fit(span, alg)
        for s, m in zip(fit["spans"], fit["final"], strict=True):
            rows.append({"kind": "span", "algorithm": alg, "span": s, "mean": m})
        rows.append({"kind": "spanfit", "algorithm": alg, "slope": fit["slope"], "slope_lo": fit["lo"],
                     "slope_hi": fit["hi"], "seeds": fit["seeds"]})  # fmt: skip
    for num in ("LOOP c=1", "LOOP c=0.01"):
        for r in regret_ratio(ratio_recs, num, "UCRL2"):
            name = str(r.get("instance", "")).split(":")[-1].replace("random_communicating", "random")
            inst = f"{name} {r.get('size', '')} {r.get('instance_params') or ''}"
            rows.append({"kind": "ratio", "algorithm": num, "instance": inst.replace('"', "").strip(),
                         "mean": r["ratio"], "lo": r["lo"], "hi": r["hi"]})  # fmt: skip
    return rows


def plot(rows: list[dict]):
    """2 x 2 panels: regret vs T, switches vs T, regret vs span, LOOP/UCRL2 ratios."""
    import matplotlib.pyplot as plt

    with style():
        fig, axes = plt.subplots(2, 2, figsize=figsize(2, 0.7))
        ax_r, ax_s, ax_p, ax_q = axes.ravel()
        slopes = {r["algorithm"]: r for r in rows if r["kind"] == "slope"}
        algs = list(dict.fromkeys(r["algorithm"] for r in rows if r["kind"] == "regret"))
        for alg in algs:
            cur = [r for r in rows if r["kind"] == "regret" and r["algorithm"] == alg and r["mean"] > 0]
            f = slopes.get(alg, {})
            lab = f"{alg}: {f.get('slope', float('nan')):.2f} [{f.get('slope_lo', float('nan')):.2f}, " \
                  f"{f.get('slope_hi', float('nan')):.2f}]"  # fmt: skip
            band(ax_r, [r["t"] for r in cur], [r["mean"] for r in cur], [r.get("lo") for r in cur],
                 [r.get("hi") for r in cur], label=lab)  # fmt: skip
            sw = [r for r in rows if r["kind"] == "switches" and r["algorithm"] == alg]
            band(ax_s, [r["t"] for r in sw], [r["mean"] for r in sw], [r.get("lo") for r in sw],
                 [r.get("hi") for r in sw], label=alg)  # fmt: skip
        src = next((r.get("source", "") for r in rows if r["kind"] == "regret"), "")
        ax_r.set(xscale="log", yscale="log", xlabel="steps $T$", ylabel="regret", title=f"(a) {src}")
        ax_r.legend(title="slope on last decade", fontsize=6)
        ax_s.set(xscale="log", xlabel="steps $T$", ylabel="policy switches", title="(b) switches vs $T$")
        ax_s.legend(fontsize=6)
        fits = {r["algorithm"]: r for r in rows if r["kind"] == "spanfit"}
        for alg, f in fits.items():
            pts = sorted(
                (r["span"], r["mean"]) for r in rows if r["kind"] == "span" and r["algorithm"] == alg
            )
            lab = f"{alg}: {f['slope']:.2f} [{f['slope_lo']:.2f}, {f['slope_hi']:.2f}]"
            ax_p.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=lab)
        ax_p.set(xscale="log", yscale="log", xlabel=r"$\mathrm{sp}(h^*)$", ylabel="final regret",
                 title="(c) slow chain, $S, A$ fixed")  # fmt: skip
        ax_p.legend(title="log-log slope", fontsize=6)
        rat = [r for r in rows if r["kind"] == "ratio"]
        labels = list(dict.fromkeys(r["instance"] for r in rat))
        for k, num in enumerate(dict.fromkeys(r["algorithm"] for r in rat)):
            sel = {r["instance"]: r for r in rat if r["algorithm"] == num}
            x = np.arange(len(labels)) + 0.38 * (k - 0.5)
            m = np.array([sel[i]["mean"] if i in sel else np.nan for i in labels])
            lo = np.array([sel[i]["lo"] if i in sel else np.nan for i in labels])
            hi = np.array([sel[i]["hi"] if i in sel else np.nan for i in labels])
            ax_q.bar(x, m, width=0.36, yerr=[m - lo, hi - m], label=f"{num} / UCRL2", capsize=2)
        ax_q.axhline(1.0, color="0.4", linewidth=0.8)
        ax_q.set_xticks(np.arange(len(labels)), labels, rotation=30, ha="right", fontsize=6)
        ax_q.set(yscale="log", ylabel="final regret ratio", title="(d) LOOP / UCRL2")
        ax_q.legend(fontsize=6)
    return fig


def summary(rows: list[dict]) -> str:
    """Slopes of panel (a) and (c), final switches, and the ratios."""
    out = []
    for r in rows:
        if r["kind"] == "slope":
            out.append(f"(a) {r['algorithm']}: slope {r['slope']:.3f} "
                       f"[{r['slope_lo']:.3f}, {r['slope_hi']:.3f}], "
                       f"final regret {r['mean']:.0f}")  # fmt: skip
        elif r["kind"] == "spanfit":
            out.append(f"(c) {r['algorithm']}: regret vs sp slope {r['slope']:.3f} "
                       f"[{r['slope_lo']:.3f}, {r['slope_hi']:.3f}]")  # fmt: skip
        elif r["kind"] == "ratio":
            out.append(
                f"(d) {r['algorithm']}/UCRL2 on {r['instance']}: {r['mean']:.2f} "
                f"[{r['lo']:.2f}, {r['hi']:.2f}]"
            )
    last: dict[str, dict] = {}
    for r in rows:
        if r["kind"] == "switches":
            last[r["algorithm"]] = r
    out += [f"(b) {a}: {r['mean']:.1f} switches at T = {r['t']}" for a, r in last.items()]
    return "\n".join(out)


FIGURE = FigureSpec(
    name="loop_regret",
    compute=compute,
    plot=plot,
    summary=summary,
    description="MLE-LOOP vs UCRL2 (and UCRL2 told sp(h*)): regret and switches vs T, regret vs sp(h*), "
    "ratios",
)

if __name__ == "__main__":
    raise SystemExit(figure_main(FIGURE))
