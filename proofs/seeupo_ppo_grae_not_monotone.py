r"""SeeUPO: PPO with group-relative advantages (GRAE) breaks PPO's monotonic improvement.

Paper
-----
Tianyi Hu, Qingxu Fu, Yanxi Chen, Zhaoyang Liu, Bolin Ding, "SeeUPO: Sequence-Level Agentic-RL with
Convergence Guarantees", arXiv:2602.06554v1 (6 Feb 2026). Abstract (quoted): "We find that REINFORCE with
Group Relative Advantage Estimation (GRAE) can converge to the globally optimal under undiscounted
conditions, but the combination of PPO & GRAE breaks PPO's original monotonic improvement property."
The analysis is in §3 ("Analysis"); the stored copies of the paper available to us hold only its abstract
and introduction, so the theorem's own wording and number could not be quoted.

What is checked
---------------
PPO's "original monotonic improvement property": with the exact (critic) advantage, every maximiser of
the expected clipped surrogate improves the objective (Kuba et al., Mirror Learning, ICML 2022). On a
single-state bandit this follows in one line, and it also holds for the *mean-only* group advantage
:math:`\hat A_i = R_i - \bar R`, whose conditional mean is :math:`\frac{G-1}{G}(\mu_a - J)`: writing
:math:`P_a, N_a` for the expected positive/negative parts of :math:`\hat A` given arm :math:`a`,

.. math:: \frac{G}{G-1}\big(J(\pi) - J(\pi_{\mathrm{old}})\big) = \sum_a \pi(a) \mathbb E[\hat A|a]
          \ge L(\pi) \ge L(\pi_{\mathrm{old}}) = 0

for every maximiser :math:`\pi` of :math:`L`, because :math:`\rho x \ge x^+\min(\rho, 1+\epsilon) -
x^-\max(\rho, 1-\epsilon)`. The std normalisation of GRAE breaks the first equality: :math:`\mathbb
E[\hat A|a]` is no longer an affine function of :math:`\mu_a`. The check **finds and exactly certifies**
a bandit, an old policy and a clip range on which *every* exact maximiser of the PPO+GRAE surrogate
lowers :math:`J`, while on the same instance every maximiser with the mean-only advantage or the true
advantage raises it.
"""

from __future__ import annotations

from fractions import Fraction

from mdpkit.claims.base import Budget, Claim, Verdict
from mdpkit.claims.exact import fraction_str
from mdpkit.claims.search import search_counterexample
from mdpkit.policy_gradient import GroupAdvantage, bandit_ppo_step, bandit_stats
from mdpkit.policy_gradient.instances import random_bandit, random_rational_simplex, risky_safe_bandit
from mdpkit.policy_gradient.strategies import BanditInstance, bandit_instances

ID = "seeupo.ppo-grae-breaks-monotonic-improvement"
GRAE2 = GroupAdvantage(2, "mean", "std")  # G = 2: the std is |R1 - R2| / 2, so advantages are exact signs
MEAN_ONLY = GroupAdvantage(2, "mean", "none")


def _step_range(inst: BanditInstance, adv) -> tuple[Fraction, Fraction, Fraction]:
    """(J_old, min J, max J) over every exact maximiser of the expected clipped surrogate."""
    up = bandit_ppo_step(inst.bandit, list(inst.pi), adv, inst.eps)
    lo, hi = up.argmax[0].linear_range(inst.bandit.means())
    return inst.bandit.value(list(inst.pi)), lo, hi


def _violates(inst: BanditInstance) -> bool:
    J0, _, hi = _step_range(inst, GRAE2)
    return hi < J0


def _certificate(inst: BanditInstance) -> dict:
    b, pi, eps = inst.bandit, list(inst.pi), inst.eps
    out: dict = {"instance": inst.as_dict(), "objective": "J(pi) = sum_a pi(a) E[r | a]"}
    for name, adv in (("ppo_grae_std_G2", GRAE2), ("ppo_mean_only_G2", MEAN_ONLY), ("ppo_true_adv", "true")):
        up = bandit_ppo_step(b, pi, adv, eps)
        st = bandit_stats(b, pi, adv)
        arg = up.argmax[0]
        lo, hi = arg.linear_range(b.means())
        J0 = b.value(pi)
        out[name] = {
            "P=E[A+|a]": [fraction_str(x) for x in st.pos],
            "N=E[A-|a]": [fraction_str(x) for x in st.neg],
            "argmax_lo": [fraction_str(x) for x in arg.lo],
            "argmax_hi": [fraction_str(x) for x in arg.hi],
            "surrogate_max": fraction_str(arg.value),
            "pi_new_closest": [fraction_str(x) for x in up.policy],
            "J_old": fraction_str(J0),
            "J_new_min_over_maximisers": fraction_str(lo),
            "J_new_max_over_maximisers": fraction_str(hi),
        }
    return out


def _float_extras(inst: BanditInstance) -> dict:
    """The same step for larger groups (floats) and with many gradient steps instead of the exact argmax."""
    b = inst.bandit.to_float()
    pi = [float(p) for p in inst.pi]
    J0 = b.value(pi)
    out = {}
    for G in (2, 4, 8, 16):
        up = bandit_ppo_step(b, pi, GroupAdvantage(G), float(inst.eps))
        lo, hi = up.argmax[0].linear_range([float(m) for m in b.means()])
        gd = bandit_ppo_step(
            b, pi, GroupAdvantage(G), float(inst.eps), method="gradient", steps=5000, lr=0.05
        )
        out[f"G={G}"] = {
            "dJ_exact_max_over_maximisers": float(hi - J0),
            "dJ_exact_min_over_maximisers": float(lo - J0),
            "dJ_gradient_5000_steps": float(b.value(list(gd.policy)) - J0),
        }
    return out


def _sweep(budget: Budget) -> dict:
    """Random exact instances: mean-only / true advantages never decrease J (the argument above);
    deterministic rewards with std-GRAE: count decreases (none expected, see the evidence)."""
    rng = budget.rng(ID + "/sweep")
    n = budget.pick(150, 1500)
    worst_mean_only = worst_true = None
    dec_mean_only = dec_true = dec_std_stoch = 0
    dec_std_det = 0
    for _ in range(n):
        A = int(rng.integers(2, 5))
        b = random_bandit(A, rng, kind="stochastic", K=int(rng.integers(1, 4)), max_reward=6)
        pi = tuple(random_rational_simplex(A, rng, 12))
        eps = Fraction(int(rng.integers(1, 6)), 10)
        inst = BanditInstance(b, pi, eps)
        for G in (2, 3, 4):
            J0, lo, _ = _step_range(inst, GroupAdvantage(G, "mean", "none"))
            m = lo - J0
            worst_mean_only = m if worst_mean_only is None else min(worst_mean_only, m)
            dec_mean_only += m < 0
        J0, lo, _ = _step_range(inst, "true")
        worst_true = (lo - J0) if worst_true is None else min(worst_true, lo - J0)
        dec_true += lo < J0
        J0, _, hi = _step_range(inst, GRAE2)
        dec_std_stoch += hi < J0
        bd = random_bandit(A, rng, kind="deterministic", max_reward=6)
        J0, lo, _ = _step_range(BanditInstance(bd, pi, eps), GRAE2)
        dec_std_det += lo < J0
        # G = 4 with std is irrational in general: floats, with a margin far above rounding
        bdf = bd.to_float()
        pif = [float(p) for p in pi]
        up = bandit_ppo_step(bdf, pif, GroupAdvantage(4), float(eps))
        lo4, _ = up.argmax[0].linear_range([float(x) for x in bdf.means()])
        dec_std_det += lo4 < bdf.value(pif) - 1e-9
    return {
        "instances": n,
        "mean_only_G234_decreases": int(dec_mean_only),
        "mean_only_worst_min_dJ": fraction_str(worst_mean_only),
        "true_adv_decreases": int(dec_true),
        "true_adv_worst_min_dJ": fraction_str(worst_true),
        "std_G2_stochastic_rewards_instances_with_every_maximiser_decreasing": int(dec_std_stoch),
        "std_G2_and_G4_deterministic_rewards_decreases_any_maximiser": int(dec_std_det),
    }


def check(budget: Budget) -> Verdict:
    res = search_counterexample(bandit_instances(), _violates, budget, key=ID)
    sweep = _sweep(budget)
    named = BanditInstance(risky_safe_bandit(), (Fraction(1, 2), Fraction(1, 2)), Fraction(1, 5))
    named_ok = _violates(named)
    data = {"search": res.summary(), "sweep": sweep, "named_risky_safe": _certificate(named)}
    if sweep["mean_only_G234_decreases"] or sweep["true_adv_decreases"]:
        return Verdict(
            "inconclusive",
            "the mean-only or true-advantage PPO step decreased J on some instance, contradicting the "
            f"argument in the claim file (a bug?): {sweep}",
            data=data,
        )
    if not res.found and not named_ok:
        return Verdict("inconclusive", f"{res.summary()}; no instance where PPO+GRAE decreases J", data=data)
    inst = res.example if res.found else named
    cert = _certificate(inst)
    g = cert["ppo_grae_std_G2"]
    mo = cert["ppo_mean_only_G2"]
    tr = cert["ppo_true_adv"]
    # re-read the certificate from its exact strings (independent of the search's own evaluation)
    J0, Jmax = Fraction(g["J_old"]), Fraction(g["J_new_max_over_maximisers"])
    if not (
        Jmax < J0
        and Fraction(mo["J_new_min_over_maximisers"]) >= J0
        and Fraction(tr["J_new_min_over_maximisers"]) >= J0
    ):
        return Verdict("inconclusive", f"the certificate does not re-check: {cert}", data=data)
    extras = _float_extras(inst)
    named_extras = _float_extras(named)
    named_dec = all(v["dJ_exact_max_over_maximisers"] < -1e-9 for v in named_extras.values())
    evidence = (
        f"{res.summary()}. Shrunk exact counterexample: {inst!r}. With GRAE (G=2, population std, 0/0:=0; "
        f"advantages are exact signs), every exact maximiser of the expected clipped surrogate gives "
        f"J_new <= {g['J_new_max_over_maximisers']} < J_old = {g['J_old']} (margin "
        f"{fraction_str(J0 - Jmax)}, exact rational arithmetic). Same instance, same step: mean-only group "
        f"advantage -> J_new in [{mo['J_new_min_over_maximisers']}, {mo['J_new_max_over_maximisers']}], true "
        f"advantage -> J_new in [{tr['J_new_min_over_maximisers']}, {tr['J_new_max_over_maximisers']}], both "
        f">= J_old. Larger groups (floats, exact argmax / 5000 gradient steps of size 0.05): "
        + "; ".join(
            f"{k}: dJ in [{v['dJ_exact_min_over_maximisers']:.4g}, {v['dJ_exact_max_over_maximisers']:.4g}], "
            f"gradient {v['dJ_gradient_5000_steps']:.4g}"
            for k, v in extras.items()
        )
        + f". Named instance risky_safe_bandit() (risky arm: 10 w.p. 1/5 else 0, mean 2; safe arm: 1), "
        f"pi_old = (1/2, 1/2), eps = 1/5: J 3/2 -> 7/5 for every maximiser (exact, G=2); every maximiser "
        f"lowers J for G = 2, 4, 8, 16 too (floats): {named_dec} (dJ = "
        + ", ".join(f"{v['dJ_exact_max_over_maximisers']:.4g}" for v in named_extras.values())
        + f"). Random sweep ({sweep['instances']} exact stochastic-reward bandits): mean-only (G=2,3,4) "
        f"and true advantages never decreased J (worst min dJ {sweep['mean_only_worst_min_dJ']} and "
        f"{sweep['true_adv_worst_min_dJ']}); std-GRAE (G=2) decreased J for every maximiser on "
        f"{sweep['std_G2_stochastic_rewards_instances_with_every_maximiser_decreasing']} of them. Finding: "
        f"the failure needs rewards that are random given the action (a noisy verifier, or a later turn's "
        f"environment; a 2-turn deterministic chain whose second turn is still stochastic is the same "
        f"instance); with deterministic rewards no decrease occurred in {2 * sweep['instances']} steps "
        f"(G=2 exact, G=4 float), as it cannot: P_a strictly increases and N_a strictly decreases with the "
        f"arm's reward, so every maximiser's ratios rho_a are ordered like the rewards, and with "
        f"E_old[rho]=1 Chebyshev's sum inequality gives dJ = Cov_old(rho, r) >= 0."
    )
    return Verdict(
        "holds",
        evidence,
        counterexample={
            **cert,
            "float_extras_larger_G": extras,
            "shrunk_by": "hypothesis",
            "named_risky_safe_float_larger_G": named_extras,
        },
        data={**data, "named_risky_safe_violates": named_ok},
    )


CLAIM = Claim(
    id=ID,
    paper=(
        "Hu, Fu, Chen, Liu, Ding, 'SeeUPO: Sequence-Level Agentic-RL with Convergence Guarantees', "
        "arXiv:2602.06554v1 (2026), abstract and §3 Analysis"
    ),
    statement=(
        '"the combination of PPO & GRAE breaks PPO\'s original monotonic improvement property" (abstract). '
        "Checked form: there is an instance on which every exact maximiser of PPO's expected clipped "
        "surrogate with the GRAE advantage (R_i - mean)/std lowers J, while the same step with the "
        "mean-only or the true advantage does not."
    ),
    assumptions=(
        "Tabular policy on a single-state bandit with finite reward distributions; undiscounted; groups of G "
        "i.i.d. samples of the old policy; GRAE = (R_i - group mean) / population std, 0/0 := 0; the "
        "surrogate's expectation over groups computed exactly (multiset enumeration); the surrogate "
        "maximised exactly over all policies (every maximiser considered); clip range eps. Exact rational "
        "arithmetic for the certificate (G = 2)."
    ),
    check=check,
    expected="holds",
)


if __name__ == "__main__":  # pragma: no cover - manual run
    print(check(Budget.named("quick")))
