"""Helpers of the experiment-engine tests: small random models and scripted agents."""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit.experiments import Agent, Observation, Transition


def random_mdp(S: int, A: int, seed: int, initial: np.ndarray | None = None) -> mdpkit.TabularMDP:
    """A dense random model with full support (communicating), rewards in [0, 1]."""
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) + 0.05
    P /= P.sum(axis=2, keepdims=True)
    return mdpkit.TabularMDP(P, rng.random((S, A)), initial=initial)


class FixedPolicyAgent(Agent):
    """Plays a fixed deterministic policy: ``pi[s]`` (continuing) or ``pi[h, s]`` (episodic)."""

    def __init__(self, pi: np.ndarray) -> None:
        self.pi = np.asarray(pi, dtype=np.int64)
        self.pi.setflags(write=False)
        self.seen: list[Transition] = []
        self.episodes = 0

    def act(self, obs: Observation) -> int:
        return int(self.pi[obs.state] if self.pi.ndim == 1 else self.pi[obs.step, obs.state])

    def observe(self, transition: Transition) -> None:
        self.seen.append(transition)

    def end_episode(self) -> None:
        self.episodes += 1

    def policy(self) -> np.ndarray:
        return self.pi
