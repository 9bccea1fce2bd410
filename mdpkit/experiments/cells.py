r"""Built-in experiments (cell functions ``(config, seed) -> record``) for sweeps.

``regret`` — one agent against one instance for ``T`` steps, regret computed exactly (see
:mod:`mdpkit.experiments.protocol`). Configuration keys:

=================  ==========================================================================================
``instance``       name of a family in :mod:`mdpkit.envs` (``"riverswim"``, ``"garnet"``, ...) or
                   ``"package.module:function"`` returning a :class:`~mdpkit.TabularMDP`
``size``           first positional argument of the family (e.g. ``n`` of RiverSwim); optional
``instance_params``  keyword arguments of the family (table; e.g. ``{seed = 3}`` for a random family)
``algorithm``      agent name (``"ucbvi"``, ``"ucrl2"``, ``"random"``, ``"module:Class"``) or a table
                   ``{name, setting?, label?, H?, <agent parameters>}``
``setting``        ``"episodic"`` or ``"continuing"`` (here or in the algorithm table)
``H``              horizon of the episodic setting (here or in the algorithm table)
``T``              number of steps (episodic: :math:`K = \lfloor T/H \rfloor` episodes)
``checkpoints``    number of log-spaced steps at which the curves are recorded (default 60), or a list
``reward_noise``   ``"none"`` (default) or ``"bernoulli"``
=================  ==========================================================================================

The seed is split with :class:`numpy.random.SeedSequence` into one stream for the environment and one for
the agent, so the same seed gives every algorithm the same environment randomness stream.
"""

from __future__ import annotations

import importlib
import inspect
import numbers
import time
from collections.abc import Callable

import numpy as np

from mdpkit.core.model import FiniteHorizonMDP, TabularMDP
from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments.agents import agent_params, agent_settings, make_agent, resolve_agent
from mdpkit.experiments.protocol import REWARD_NOISES, EnvSpec, run_continuing, run_episodic
from mdpkit.experiments.sweep import experiment

__all__ = ["regret", "resolve_instance", "algorithm_spec", "checkpoint_grid", "REGRET_KEYS"]

REGRET_KEYS = {
    "instance",
    "size",
    "instance_params",
    "algorithm",
    "setting",
    "H",
    "T",
    "checkpoints",
    "reward_noise",
}
_ALGO_META = {"name", "setting", "label", "H"}


def resolve_instance(name: object) -> Callable[..., TabularMDP]:
    """The instance constructor ``name``: a family of :mod:`mdpkit.envs` or ``"module:function"``."""
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"instance = {name!r} must be a family name or 'package.module:function'")
    if ":" in name:
        mod, _, attr = name.partition(":")
        try:
            fn = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as exc:
            raise InvalidArgumentError(f"instance {name!r} cannot be imported: {exc}") from None
    else:
        envs = importlib.import_module("mdpkit.envs")
        fn = getattr(envs, name, None)
        if fn is None or not inspect.isfunction(fn):
            known = sorted(
                n for n in getattr(envs, "__all__", []) if inspect.isfunction(getattr(envs, n, None))
            )
            raise InvalidArgumentError(f"unknown instance {name!r}; families in mdpkit.envs: {known}")
    if not callable(fn):
        raise InvalidArgumentError(f"instance {name!r} is not callable")
    return fn


def _pos_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise InvalidArgumentError(f"{name} = {value!r} must be a positive integer")
    return int(value)


def algorithm_spec(config: dict) -> tuple[str, str, str, int | None, dict]:
    """``(name, label, setting, H, agent_params)`` of a regret configuration (validated)."""
    algo = config.get("algorithm")
    if algo is None:
        raise InvalidArgumentError("the configuration has no 'algorithm'")
    if isinstance(algo, str):
        algo = {"name": algo}
    if not isinstance(algo, dict) or "name" not in algo:
        raise InvalidArgumentError(f"algorithm = {algo!r} must be a name or a table with a 'name'")
    name = algo["name"]
    resolve_agent(name)
    params = {k: v for k, v in algo.items() if k not in _ALGO_META}
    accepted = agent_params(name)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise InvalidArgumentError(
            f"algorithm {name!r} got unknown parameter(s) {unknown}; it accepts {sorted(accepted)} "
            f"(plus {sorted(_ALGO_META)})"
        )
    setting = algo.get("setting", config.get("setting"))
    if setting is None:
        supported = agent_settings(name)
        if len(supported) != 1:
            raise InvalidArgumentError(
                f"algorithm {name!r} runs in {supported}: say which with setting = 'episodic' or 'continuing'"
            )
        setting = supported[0]
    if setting not in ("episodic", "continuing"):
        raise InvalidArgumentError(f"setting = {setting!r} must be 'episodic' or 'continuing'")
    if setting not in agent_settings(name):
        raise InvalidArgumentError(
            f"algorithm {name!r} does not support the {setting} setting (it supports {agent_settings(name)})"
        )
    H = algo.get("H", config.get("H"))
    if setting == "episodic":
        if H is None:
            raise InvalidArgumentError(f"algorithm {name!r} in the episodic setting needs a horizon H")
        H = _pos_int(H, "H")
    elif "H" in algo:
        raise InvalidArgumentError(
            f"algorithm {name!r} runs in the continuing setting; H = {H!r} has no meaning"
        )
    else:
        H = None
    label = str(algo.get("label", name))
    return name, label, setting, H, params


def checkpoint_grid(n_points: object, last: int) -> np.ndarray:
    """Integers from 1 to ``last`` on a log scale (``n_points`` of them before de-duplication), ``last``
    included; or the sorted given list (each within 1..``last``)."""
    if isinstance(n_points, (list, tuple)):
        pts = sorted({_pos_int(p, "checkpoints[]") for p in n_points})
        if pts[-1] > last:
            raise InvalidArgumentError(f"checkpoint {pts[-1]} is beyond the run's last point {last}")
        return np.asarray(pts, dtype=np.int64)
    n = _pos_int(n_points, "checkpoints")
    grid = np.unique(np.round(np.geomspace(1, last, n)).astype(np.int64))
    if grid[-1] != last:
        grid = np.append(grid, last)
    return grid


def _build_instance(config: dict) -> TabularMDP:
    fn = resolve_instance(config.get("instance"))
    kwargs = config.get("instance_params", {})
    if not isinstance(kwargs, dict):
        raise InvalidArgumentError(f"instance_params = {kwargs!r} must be a table of keyword arguments")
    args = (config["size"],) if "size" in config else ()
    mdp = fn(*args, **kwargs)
    if not isinstance(mdp, TabularMDP):
        raise InvalidArgumentError(
            f"instance {config.get('instance')!r} returned {type(mdp).__name__}, expected a TabularMDP"
        )
    return mdp


def validate_regret(config: dict) -> None:
    """Check a ``regret`` configuration without running it (called on every cell before a sweep)."""
    if not isinstance(config, dict):
        raise InvalidArgumentError(f"a configuration is a table, got {type(config).__name__}")
    unknown = sorted(set(config) - REGRET_KEYS)
    if unknown:
        raise InvalidArgumentError(
            f"unknown key(s) {unknown} for the regret experiment; known: {sorted(REGRET_KEYS)}"
        )
    for req in ("instance", "algorithm", "T"):
        if req not in config:
            raise InvalidArgumentError(f"the regret experiment needs {req!r}")
    resolve_instance(config["instance"])
    if "size" in config:
        _pos_int(config["size"], "size")
    T = _pos_int(config["T"], "T")
    _, _, setting, H, _ = algorithm_spec(config)
    if setting == "episodic" and H > T:
        raise InvalidArgumentError(f"T = {T} is shorter than one episode (H = {H})")
    if config.get("reward_noise", "none") not in REWARD_NOISES:
        raise InvalidArgumentError(
            f"reward_noise = {config.get('reward_noise')!r} is not one of {REWARD_NOISES}"
        )
    cp = config.get("checkpoints", 60)
    checkpoint_grid(cp, T // H if setting == "episodic" else T)


@experiment(validate=validate_regret)
def regret(config: dict, seed: int) -> dict:
    r"""Run one agent on one instance and return its regret curve at log-spaced checkpoints.

    Returns
    -------
    dict
        ``setting``, ``algorithm`` (label), ``S``, ``A``, ``H`` (episodic), ``t`` (steps at the checkpoints),
        ``regret`` (exact: episodic :math:`\sum_k V^*_0(s_0^k) - V^{\pi_k}_0(s_0^k)`, continuing
        :math:`t\rho^* - \sum r`), ``pseudo_regret`` (continuing, exact gains) or ``realized_regret``
        (episodic, realised returns), ``optimal`` (:math:`\rho^*` or :math:`\mu^\top V_0^*`), ``n_switches``,
        ``n_policies``, ``total_reward``, ``agent_stats`` and ``_timings`` (moved out of the record by the
        sweep runner).
    """
    validate_regret(config)
    t_start = time.perf_counter()
    name, label, setting, H, params = algorithm_spec(config)
    mdp = _build_instance(config)
    T = int(config["T"])
    noise = config.get("reward_noise", "none")
    env_seed, agent_seed = np.random.SeedSequence(int(seed)).spawn(2)
    env_rng, agent_rng = np.random.default_rng(env_seed), np.random.default_rng(agent_seed)
    build_s = time.perf_counter() - t_start
    out: dict = {"setting": setting, "algorithm": label, "S": mdp.S, "A": mdp.A}
    if setting == "episodic":
        K = T // H
        fh = FiniteHorizonMDP.from_tabular(mdp, H)
        spec = EnvSpec(mdp.S, mdp.A, np.asarray(mdp.mask), H, K * H)
        agent = make_agent(name, spec, agent_rng, **params)
        run = run_episodic(fh, agent, K, env_rng, reward_noise=noise)
        ks = checkpoint_grid(config.get("checkpoints", 60), K)
        out.update(
            H=H,
            t=(ks * H).tolist(),
            regret=run.regret()[ks - 1].tolist(),
            realized_regret=run.realized_regret()[ks - 1].tolist(),
            optimal=float(mdp.initial @ run.v_star),
            total_reward=float(run.returns.sum()),
        )
    else:
        spec = EnvSpec(mdp.S, mdp.A, np.asarray(mdp.mask), None, T)
        agent = make_agent(name, spec, agent_rng, **params)
        run = run_continuing(mdp, agent, T, env_rng, reward_noise=noise)
        ts = checkpoint_grid(config.get("checkpoints", 60), T)
        out.update(
            t=ts.tolist(),
            regret=run.regret()[ts - 1].tolist(),
            pseudo_regret=run.pseudo_regret()[ts - 1].tolist(),
            optimal=run.rho_star,
            total_reward=float(run.rewards.sum()),
        )
    out["n_switches"] = run.n_switches
    out["n_policies"] = len(run.policies)
    stats = getattr(agent, "stats", None)
    if isinstance(stats, dict):
        out["agent_stats"] = dict(stats)
    out["_timings"] = {"build_s": build_s, "interaction_s": run.wall_time, "evaluation_s": run.eval_time}
    return out
