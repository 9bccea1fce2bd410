r"""Latent MDPs: the solvers are optimistic — :math:`\tilde V_k \ge V^\star \ge V^{\pi_k}` in every episode.

Zhou, Wang & Du (ICML 2023) build both algorithms on optimism: with high probability the value returned by the
(model- or value-) optimistic solver upper-bounds the optimal value of the LMDP over history-dependent
policies, which is what turns the regret into a sum of bonuses. The check runs both agents of
:mod:`mdpkit.latent.learning` (paper constants, :math:`\delta = 0.05`) on seeded random LMDPs (rewards
observed or not, stationary or not) and on the :math:`\Gamma = 2` hard family, and compares in every episode
the agent's optimistic value :math:`\tilde V_k`, the exact optimum :math:`V^\star` (history-enumerating DP
:func:`mdpkit.latent.planning.plan`) and the exact value of the played policy :math:`V^{\pi_k}`.

Verdict: ``holds`` if :math:`\tilde V_k \ge V^\star - 10^{-12}` and :math:`V^{\pi_k} \le V^\star + 10^{-12}`
in every episode; ``refuted`` with the instance and episode otherwise.
"""

from __future__ import annotations

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.latent.instances import hard_instance, random_lmdp
from mdpkit.latent.learning import LatentSpec, ModelOptimistic, ValueOptimistic, run_latent
from mdpkit.latent.planning import plan

ID = "latent.optimism"
TOL = 1e-12


def _instances(budget: Budget):
    n = budget.pick(3, 12)
    rng = budget.rng(ID)
    for i in range(n):
        S, A, M = int(rng.integers(2, 4)), 2, int(rng.integers(2, 4))
        H = int(rng.integers(3, 5))
        kw = {"support": 2, "reward_observed": bool(i % 2), "stationary": bool(i % 3 != 2)}
        noise = None if i % 2 == 0 else 0.1
        yield (
            f"random_lmdp(S={S}, A={A}, M={M}, H={H}, noise={noise}, seed={i}, {kw})",
            random_lmdp(S, A, M, H, seed=i, noise=noise, **kw),
        )
    yield "hard_instance(M=2, L=2, A=2, eps=0.2)", hard_instance(2, 2, 2, eps=0.2, seed=0).lmdp


def check(budget: Budget) -> Verdict:
    K = budget.pick(150, 1000)
    episodes = 0
    worst_gap = float("inf")
    for name, lmdp in _instances(budget):
        v_star = plan(lmdp).value
        for cls in (ValueOptimistic, ModelOptimistic):
            run = run_latent(lmdp, cls(LatentSpec.of(lmdp), K=K), K, seed=budget.seed)
            episodes += K
            gap = run.optimistic - v_star
            worst_gap = min(worst_gap, float(gap.min()))
            bad = [k for k in range(K) if gap[k] < -TOL or run.values[k] > v_star + TOL]
            if bad:
                k = bad[0]
                return Verdict(
                    "refuted",
                    f"{cls.NAME} on {name}, episode {k}: optimistic {run.optimistic[k]:.12g}, "
                    f"V* {v_star:.12g}, V^pi {run.values[k]:.12g}",
                    counterexample={"instance": name, "agent": cls.NAME, "episode": k, "K": K},
                )
    return Verdict(
        "holds",
        f"{episodes} episodes (both agents, K={K} each): optimistic value >= V* >= V^pi_k in every one; "
        f"smallest optimistic - V* = {worst_gap:.3g}",
        data={"episodes": episodes, "min_gap": worst_gap},
    )


CLAIM = Claim(
    id=ID,
    paper="Zhou, Wang & Du, Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov "
    "Decision Processes, ICML 2023 (arXiv:2210.11604), optimism of the model- and value-optimistic solvers",
    statement="With high probability the optimistic solvers' values upper-bound the optimal "
    "history-dependent value V* in every episode (optimism), and the played policy's value is at most V*.",
    assumptions="Seeded random LMDPs (S in 2..3, A = 2, M in 2..3, H in 3..4, Gamma = 2; rewards observed "
    "or not; stationary or not) and the Gamma = 2 hard family; solvers of mdpkit.latent.learning with c = 1, "
    "delta = 0.05; V* and V^pi exact.",
    check=check,
    expected="holds",
)
