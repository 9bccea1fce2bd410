"""ROVER on the paper's toy: random policy valuation, greedy and softmax policies, all numbers exact.

The tree of He et al. (2025, Fig. 5a): append one of A, B, C, D three times; ACD, BDC, CAB and DBA are
correct (reward 1), the other 60 sequences are not. We evaluate the *uniform* policy once, then act greedily
(Theorem 3.1: optimal) or sample softmax(Q/rho) (Theorem 3.2: a value guarantee, with diversity).

Run: ``python examples/rover_toy.py``
"""

from __future__ import annotations

from fractions import Fraction

from mdpkit import rover
from mdpkit.rover import exact

toy = rover.paper_toy()
print(toy)

# 1. Q of the uniform policy: the probability that random continuation after (s, a) succeeds
q = rover.uniform_q(toy)
q_exact, _ = exact.uniform_q_exact(toy)
for prefix in ("", "A", "AC", "B", "AA"):
    n = toy.node(prefix)
    s = toy.actions(n)
    vals = ", ".join(f"{t}: {x}" for t, x in zip(toy.tokens(n), q_exact[s.start : s.stop], strict=True))
    print(f"Q^pi_u({prefix or 'root'!s:4}, .) = {vals}")

# 2. greedy on Q^pi_u is optimal (Theorem 3.1) but finds one solution
greedy = rover.greedy_policy(toy, q)
g = rover.analyse(toy, greedy)
sol = toy.path_str(int(g.solutions[g.solution_probs > 0][0]))
print(f"greedy: success {g.success}, solutions covered {g.covered} ({sol}), entropy {g.entropy}")
print(f"greedy value = V* exactly: {exact.greedy_check_exact(toy).gap == 0}")

# 3. softmax(Q^pi_u / rho): quality vs diversity, and the Theorem 3.2 lower bound
header = ("rho", "success", "Thm 3.2 bound", "entropy", "covered", "distinct@64", "pass@16")
print(" ".join(f"{h:>{w}}" for h, w in zip(header, (6, 10, 14, 8, 8, 12, 8), strict=True)))
for rho in (0.01, 0.05, 0.1, 0.2, 0.5, 1.0):
    a = rover.analyse(toy, rover.softmax_policy(toy, q, rho))
    bound = rover.softmax_lower_bound(toy, rho, q)
    print(
        f"{rho:>6} {a.success:>10.6f} {bound:>14.6f} {a.entropy:>8.4f} {a.covered:>8d} "
        f"{a.expected_distinct(64):>12.3f} {a.pass_at_k(16):>8.4f}"
    )

# 4. what a value-iteration / Q-learning learner converges to, and the uniform policy
for name, pi in (
    ("optimal (first argmax)", rover.optimal_policy(toy, ties="first")),
    ("optimal (uniform over optimal actions)", rover.optimal_policy(toy, ties="uniform")),
    ("uniform", rover.uniform_policy(toy)),
):
    a = rover.analyse(toy, pi)
    print(f"{name:40s} success {a.success:.4f}, covered {a.covered}, entropy {a.entropy:.4f}")

# 5. outside the theorem's class greedy-on-Q^pi_u can be wrong (exact counterexamples)
for label, spec in (
    ("non-binary rewards", {"a": {"x": 0, "y": 3}, "b": 2}),
    ("stochastic transitions", {"a": {"x": 1, "y": 0}, "b": [(Fraction(2, 3), 1), (Fraction(1, 3), 0)]}),
):
    t = rover.tree_from_spec(spec)
    c = exact.greedy_check_exact(t)
    root_q = [str(x) for x in c.q_uniform[:2]]
    print(f"{label}: {t.spec_str()}  Q^pi_u(root) = {root_q}, greedy {c.best} < V* {c.v_star}")

# 6. tabular learning: ROVER keeps the four solutions, GRPO collapses to one
for alg, kw in (("rover", {"rho": 0.1}), ("grpo", {})):
    curve = rover.train(toy, alg, iterations=1000, n_rollouts=8, log_every=1000, seed=0, **kw)
    print(f"{alg:5s}: success {curve.success[-1]:.3f}, entropy over solutions {curve.entropy[-1]:.3f}")
