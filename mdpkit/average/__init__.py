r"""Average-reward learning: LOOP (He, Zhong & Yang, ICLR 2024) with low switching, UCRL-style baselines,
extended value iteration, instance families with a controlled bias span, and the regret experiments.

* :mod:`~mdpkit.average.evi` — extended value iteration over L1 confidence sets (Jaksch et al. 2010),
  optionally span-truncated (SCAL, Fruit et al. 2018), numba and batched torch.
* :mod:`~mdpkit.average.loop` — :class:`MLELoop`, the tabular model-based incarnation of LOOP.
* :mod:`~mdpkit.average.baselines` — :class:`SpanUCRL` (UCRL2 with a known span bound) and UCRL2 (re-exported
  from :mod:`mdpkit.experiments`).
* :mod:`~mdpkit.average.instances` — exact ground truth (:func:`ground_truth`) and families where
  :math:`\mathrm{sp}(h^*)` varies with :math:`S, A` fixed.
* :mod:`~mdpkit.average.experiments` — the ``average_regret`` sweep experiment and the fits behind the claims.
* :mod:`~mdpkit.average.linear` — LOOP for linear AMDPs (written separately; exported when present).

Names are imported on first use (``import mdpkit.average`` stays light).
"""

import importlib

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["EVIResult", "extended_value_iteration", "optimistic_backup"], "evi"),
    **dict.fromkeys(["MLELoop", "loop_beta"], "loop"),
    **dict.fromkeys(["SpanUCRL", "UCRL2"], "baselines"),
    **dict.fromkeys(["GroundTruth", "ground_truth", "slow_chain", "span_family"], "instances"),
    **dict.fromkeys(
        [
            "average_regret",
            "load_records",
            "regret_slopes",
            "switch_fit",
            "span_fit",
            "regret_ratio",
            "decade_ratio",
            "reduced_records",
        ],
        "experiments",
    ),
}


def _linear_names() -> list[str]:
    """Public names of :mod:`mdpkit.average.linear` if that module exists and imports; else none."""
    try:
        mod = importlib.import_module("mdpkit.average.linear")
    except ImportError:
        return []
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    return [n for n in names if n not in _EXPORTS]


__all__ = list(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        if name in _linear_names():
            value = getattr(importlib.import_module("mdpkit.average.linear"), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'mdpkit.average' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mdpkit.average.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_linear_names()))
