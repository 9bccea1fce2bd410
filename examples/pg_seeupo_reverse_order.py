"""SeeUPO's schedule: update the turns of a multi-turn problem one at a time, last turn first.

A random 3-turn problem (finite-horizon MDP, stochastic environment, outcome reward). Each iteration updates
the turn policies in reverse execution order, each by an exact PPO-clip step (eps = 0.2) on the
critic-free group advantage R_i - mean (G = 4) computed with the later turns already updated. J never
decreases and reaches the backward-induction optimum; one reverse sweep of exact greedy updates *is*
backward induction. See proofs/seeupo_reverse_sequential.py.

Run: python examples/pg_seeupo_reverse_order.py
"""

import numpy as np

from mdpkit.policy_gradient import (
    GroupAdvantage,
    random_turn_chain,
    run_sequential,
    sequential_update,
    softmax,
)

fh = random_turn_chain(H=3, S=3, A=3, seed=59, deterministic=False, outcome_only=True, max_reward=4)
for order in ("reverse", "forward", "simultaneous"):
    run = run_sequential(fh, GroupAdvantage(4, scale="none"), 40, order=order, eps=0.2)
    print(
        f"{order:12s}: J* = {run.optimum:.4f}, J after 1/5/40 iterations = {run.J[1]:.4f} / {run.J[5]:.4f} / "
        f"{run.J[40]:.6f}, smallest step {np.min(np.diff(run.trace)):+.2e}"
    )
uniform = softmax(np.zeros((fh.H, fh.S, fh.A)))
for order in ("reverse", "forward"):
    _, trace = sequential_update(fh, uniform, "true", order=order, update="npg", eta=np.inf)
    print(f"one greedy {order} sweep from uniform: J = {trace[-1]:.4f}")
