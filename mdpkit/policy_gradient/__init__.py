r"""Exact (and sampled) policy-gradient dynamics of tabular softmax policies.

Bandits (:class:`Bandit`), multi-turn problems (:class:`~mdpkit.FiniteHorizonMDP`, one policy per turn) and
discounted tabular MDPs, with *exact expected* updates — no sampling noise; expectations over groups of
sampled returns are computed by enumerating the multisets of group outcomes:

* REINFORCE with the true advantage or a group-relative advantage (GRPO's GRAE: :class:`GroupAdvantage`,
  group size ``G``, mean / leave-one-out baseline, std / no normalisation): :func:`reinforce_direction`,
  :func:`run_reinforce`;
* PPO-clip, the clipped surrogate maximised exactly (a separable LP, :func:`maximize_clipped_surrogate`,
  :func:`ppo_clip_update`) or by many gradient steps;
* natural policy gradient / KL mirror descent / MDPO: :func:`mirror_descent_step`, :func:`run_mirror_descent`;
* SeeUPO's turn-by-turn updates in reverse execution order: :func:`sequential_update`,
  :func:`run_sequential`;
* sampled, batched torch versions of every estimator (:mod:`mdpkit.policy_gradient.sampled`, any device)
  for checking the exact expectations.

With :class:`fractions.Fraction` inputs the bandit computations are exact rationals (certificates).
"""

from mdpkit.policy_gradient._common import NotExactError
from mdpkit.policy_gradient.bandit import Bandit
from mdpkit.policy_gradient.distributions import (
    Dist,
    FiniteReturnDistributions,
    convolve,
    convolve_power,
    finite_return_distributions,
    mixture,
    point,
    shift,
)
from mdpkit.policy_gradient.expected import (
    DecisionStats,
    PGRun,
    SequentialRun,
    bandit_ppo_step,
    bandit_stats,
    finite_state_dist,
    finite_stats,
    finite_values,
    reinforce_direction,
    run_reinforce,
    run_sequential,
    sequential_update,
)
from mdpkit.policy_gradient.grae import GroupAdvantage, GroupMomentTable
from mdpkit.policy_gradient.instances import random_bandit, random_turn_chain, risky_safe_bandit
from mdpkit.policy_gradient.mirror import (
    MirrorRun,
    fit_linear_rate,
    geometric_steps,
    mirror_descent_step,
    run_mirror_descent,
)
from mdpkit.policy_gradient.ppo import (
    PPOUpdate,
    SurrogateArgmax,
    clipped_surrogate,
    maximize_clipped_surrogate,
    ppo_clip_update,
    surrogate_logit_gradient,
)
from mdpkit.policy_gradient.softmax import (
    bandit_gradient,
    finite_gradient,
    logits_from_policy,
    score_direction,
    softmax,
    tabular_gradient,
    uniform_logits,
)

__all__ = [
    "NotExactError",
    "Bandit",
    "Dist",
    "FiniteReturnDistributions",
    "point",
    "mixture",
    "shift",
    "convolve",
    "convolve_power",
    "finite_return_distributions",
    "GroupAdvantage",
    "GroupMomentTable",
    "DecisionStats",
    "bandit_stats",
    "finite_stats",
    "finite_values",
    "finite_state_dist",
    "reinforce_direction",
    "PGRun",
    "run_reinforce",
    "bandit_ppo_step",
    "sequential_update",
    "SequentialRun",
    "run_sequential",
    "SurrogateArgmax",
    "clipped_surrogate",
    "surrogate_logit_gradient",
    "maximize_clipped_surrogate",
    "PPOUpdate",
    "ppo_clip_update",
    "mirror_descent_step",
    "MirrorRun",
    "run_mirror_descent",
    "geometric_steps",
    "fit_linear_rate",
    "softmax",
    "logits_from_policy",
    "uniform_logits",
    "score_direction",
    "bandit_gradient",
    "tabular_gradient",
    "finite_gradient",
    "random_bandit",
    "random_turn_chain",
    "risky_safe_bandit",
]
