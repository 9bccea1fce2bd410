"""Latent MDPs with the context revealed in hindsight (Zhou, Wang & Du, ICML 2023).

* :mod:`mdpkit.latent.model` — :class:`LatentMDP` (validation, :math:`\\Gamma`, :math:`\\mathrm{Var}^*`,
  beliefs, sampling), the :class:`History` an agent observes;
* :mod:`mdpkit.latent.planning` — exact planning over histories with alpha vectors (:func:`plan`),
  exact evaluation of any history-dependent policy (:func:`evaluate`, :func:`return_moments`),
  :func:`var_star`, brute force for tiny instances;
* :mod:`mdpkit.latent.instances` — seeded random LMDPs and the :math:`\\Gamma = 2` lower-bound family;
* :mod:`mdpkit.latent.learning` — the value-optimistic and model-optimistic learners (Bernstein bonuses,
  counts per context revealed in hindsight, doubling updates), exact planning over merged beliefs
  (:func:`belief_plan`), :func:`run_latent` with exact per-episode regret;
* :mod:`mdpkit.latent.experiments` — the sweep cell ``latent_regret``, reduced sweeps and fits behind the
  claims and the figure;
* :mod:`mdpkit.latent._torch` — batched torch twins of the evaluators.
"""

from mdpkit.latent.learning import (
    BeliefPolicy,
    LatentLearningError,
    LatentRun,
    ModelOptimistic,
    ValueOptimistic,
    belief_plan,
    make_latent_agent,
    run_latent,
)
from mdpkit.latent.model import (
    Episode,
    History,
    LatentMDP,
    LatentPolicy,
    MarkovLatentPolicy,
    as_latent_policy,
    stack_contexts,
)
from mdpkit.latent.planning import (
    DEFAULT_MAX_HISTORIES,
    HistoryPolicy,
    LatentSolution,
    PlanningLimitError,
    ReturnMoments,
    VarStar,
    evaluate,
    plan,
    return_moments,
    var_star,
)

__all__ = [
    "LatentMDP",
    "History",
    "Episode",
    "LatentPolicy",
    "MarkovLatentPolicy",
    "as_latent_policy",
    "stack_contexts",
    "plan",
    "evaluate",
    "return_moments",
    "var_star",
    "HistoryPolicy",
    "LatentSolution",
    "ReturnMoments",
    "VarStar",
    "PlanningLimitError",
    "DEFAULT_MAX_HISTORIES",
    "ValueOptimistic",
    "ModelOptimistic",
    "make_latent_agent",
    "run_latent",
    "LatentRun",
    "belief_plan",
    "BeliefPolicy",
    "LatentLearningError",
]
