r"""Latent-MDP planning: history DP (alpha vectors) vs brute force and vs the belief-merging DP, time vs H.

What is measured
----------------
The optimal policy of a latent MDP (context hidden, Kwon et al. 2021) is history dependent. Three exact
planners of :math:`V^\star = \max_\pi \mathbb E_{m\sim w}\,\mathbb E^\pi_m[\sum_h r_h]`:

* **ours**: :func:`mdpkit.latent.plan`, dynamic programming over every history of positive probability with
  alpha vectors (Zhou, Wang & Du 2023, section 3.2; numba level kernels), cost :math:`\propto` the number
  ``N`` of histories, which grows like :math:`(SA)^H`;
* **brute force**: :func:`mdpkit.latent.planning.brute_force`, the maximum over all :math:`A^N`
  deterministic history policies, each evaluated exactly (batched torch twin on CPU), what one would do
  without the DP; feasible only while :math:`A^N \le 2^{22}`;
* **belief DP**: :func:`mdpkit.latent.learning.belief_plan`, the same Bellman recursion with histories of
  equal :math:`(h, s, \text{belief})` merged (exact; pure Python, memoised), which wins when beliefs recur.

Families (``M = 2`` contexts, ``A = 2`` actions, fixed start state, rewards observed):
``det`` (:func:`mdpkit.latent.instances.random_lmdp`, S = 2, deterministic transitions), ``rand`` (same,
S = 2, Dirichlet rows on 2 states) and ``revealing`` (:func:`mdpkit.latent.experiments.revealing_lmdp`,
S = 3 work states: the first step reveals the context, so beliefs collapse). For each family the horizon
grows until a planner exceeds ``--budget / 3`` seconds (then it is not run at larger H) or ours hits its
history cap (:class:`~mdpkit.latent.PlanningLimitError`, 2,000,000 histories).

Times: median of ``--repeat`` for ours and the belief DP, brute force once; JIT and torch start-up are paid
on a toy model before timing. Ratio = peer time / our time (> 1: ours faster).

Every answer is checked: ours must equal brute force (1e-12) wherever brute force runs, its returned
policy must reproduce its value under the independent exact forward evaluation
:func:`mdpkit.latent.evaluate` (1e-12), and it must equal the belief DP (1e-10); the belief DP's own policy
is re-evaluated by :func:`mdpkit.latent.learning.evaluate_belief_policy` (1e-10). A failure of ours sets
``ok = False``. ``--quick``: H up to 3 (2 for the revealing family).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from mdpkit.bench import Report, Table, environment, median, time_repeats
from mdpkit.errors import InvalidArgumentError
from mdpkit.latent import LatentMDP, PlanningLimitError, evaluate, plan
from mdpkit.latent.experiments import revealing_lmdp
from mdpkit.latent.instances import random_lmdp
from mdpkit.latent.learning import belief_plan, evaluate_belief_policy
from mdpkit.latent.planning import brute_force, build_tree

TOL_BRUTE = 1e-12
TOL_BELIEF = 1e-10
MAX_POLICIES = 1 << 22


def _families(seed: int) -> dict[str, Callable[[int], LatentMDP]]:
    return {
        "det": lambda H: random_lmdp(2, 2, 2, H, seed=seed, noise=0.0, support=1),
        "rand": lambda H: random_lmdp(2, 2, 2, H, seed=seed, support=2),
        "revealing": lambda H: revealing_lmdp(3, 2, 2, H, seed=seed),
    }


def _horizons(name: str, quick: bool) -> list[int]:
    if name == "revealing":
        return [2] if quick else [2, 4, 6, 8, 10, 12, 14, 16, 20, 24]
    return [1, 2, 3] if quick else [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def run(args: argparse.Namespace) -> Report:
    """Run the latent suite (see the module docstring)."""
    quick = bool(getattr(args, "quick", False))
    repeat = int(getattr(args, "repeat", 3))
    budget = float(getattr(args, "budget", None) or 20.0)
    seed = int(getattr(args, "seed", 0))
    only = getattr(args, "only", None)
    families = _families(seed)
    unknown = sorted(set(only or ()) - set(families))
    if unknown:
        raise InvalidArgumentError(
            f"--only names unknown case(s) {', '.join(unknown)} (known: {list(families)})"
        )
    report = Report("latent", "Latent-MDP planning: history DP vs brute force vs belief-merging DP")
    report.meta = environment(["torch", "numba"])
    table = Table(
        "Exact LMDP planning, M = 2, A = 2: time vs horizon H",
        [
            "family",
            "H",
            "histories N",
            "ours s",
            "brute s",
            "belief s",
            "x brute/ours",
            "x belief/ours",
            "V*",
            "max abs dV",
            "ok",
        ],
    )
    toy = random_lmdp(2, 2, 2, 2, seed=seed)  # JIT of the numba kernels, torch start-up
    plan(toy)
    belief_plan(toy)
    brute_force(toy, device="cpu")
    for fam, build in families.items():
        if only and fam not in only:
            continue
        alive = {"ours": True, "brute": True, "belief": True}
        for H in _horizons(fam, quick):
            if not (alive["ours"] or alive["belief"]):
                break
            lmdp = build(H)
            rec: dict = {"family": fam, "H": H}
            sol = t_ours = None
            N: int | str = "-"
            if alive["ours"]:
                try:
                    times, sol = time_repeats(lambda L=lmdp: plan(L), repeat, budget)
                    t_ours = median(times)
                    N = sol.n_histories
                    alive["ours"] = sum(times) / len(times) < budget / 3
                except PlanningLimitError:
                    alive["ours"] = False
                    N = "> cap"
            t_brute = v_brute = None
            if alive["brute"] and sol is not None:
                n = build_tree(lmdp, max_histories=64).n_histories if sol.n_histories <= 64 else None
                if n is not None and lmdp.A**n <= MAX_POLICIES:
                    t0 = time.perf_counter()
                    v_brute, _ = brute_force(lmdp, max_policies=MAX_POLICIES, device="cpu")
                    t_brute = time.perf_counter() - t0
                    alive["brute"] = t_brute < budget / 3
                else:
                    alive["brute"] = False
            t_bel = v_bel = None
            if alive["belief"]:
                times_b, (v_bel, bpol) = time_repeats(lambda L=lmdp: belief_plan(L), repeat, budget)
                t_bel = median(times_b)
                alive["belief"] = sum(times_b) / len(times_b) < budget / 3
                bel_err = abs(evaluate_belief_policy(lmdp, bpol) - v_bel)
                rec["belief_self_err"] = bel_err
                if bel_err > TOL_BELIEF:
                    report.notes.append(
                        f"{fam} H={H}: belief DP policy re-evaluates {bel_err:.2e} off its value"
                    )
            errs = []
            ok = True
            if sol is not None:
                self_err = abs(evaluate(lmdp, sol.policy) - sol.value)
                ok &= self_err <= TOL_BRUTE
                errs.append(self_err)
                if v_brute is not None:
                    errs.append(abs(v_brute - sol.value))
                    ok &= errs[-1] <= TOL_BRUTE
                if v_bel is not None:
                    errs.append(abs(v_bel - sol.value))
                    ok &= errs[-1] <= TOL_BELIEF
            report.ok &= ok
            value = sol.value if sol is not None else v_bel
            table.add(
                fam,
                H,
                N,
                t_ours,
                t_brute,
                t_bel,
                t_brute / t_ours if t_brute is not None and t_ours else None,
                t_bel / t_ours if t_bel is not None and t_ours else None,
                value,
                max(errs) if errs else None,
                ok if sol is not None else "-",
            )
            rec.update(
                {"N": N, "ours": t_ours, "brute": t_brute, "belief": t_bel, "value": value, "errors": errs}
            )
            report.records.append(rec)
    table.notes.append(
        "- : not run (brute force beyond A^N = 2^22 policies or past its time share; ours beyond its "
        "history cap or time share). max abs dV: largest of |ours - brute|, |ours - belief| and ours' "
        "self-check |evaluate(policy) - V*|."
    )
    report.tables.append(table)
    for fam in families:
        brute = [r for r in table.rows if r[0] == fam and isinstance(r[6], float)]
        if brute:
            report.notes.append(
                f"{fam}: brute force {min(r[6] for r in brute):.3g}x to {max(r[6] for r in brute):.3g}x "
                "slower "
                f"than the history DP up to H = {brute[-1][1]} (N = {brute[-1][2]} histories; not run beyond)"
            )
    for fam in families:
        both = [r for r in table.rows if r[0] == fam and isinstance(r[7], float)]
        if both:
            report.notes.append(
                f"{fam}: belief DP / history DP time from {both[0][7]:.3g}x (H = {both[0][1]}) to "
                f"{both[-1][7]:.3g}x (H = {both[-1][1]})"
            )
    return report
