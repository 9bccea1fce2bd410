"""Citation and verbatim statements of the ROVER paper, shared by the claim files and the figures.

Source: arXiv:2509.24981v1 (29 Sep 2025), §3.1, §3.1.1 and Appendix A; symbols transcribed to plain text.
"""

from __future__ import annotations

__all__ = ["CITATION", "THEOREM_31", "THEOREM_32", "TOY_RHO1", "TOY_MODES"]

CITATION = (
    "H. He, Y. Ye, Q. Cai, C. Hu, B. Jiao, D. Jiang, L. Pan, 'Random Policy Valuation is Enough for LLM "
    "Reasoning with Verifiable Rewards', arXiv:2509.24981 (2025)"
)

THEOREM_31 = (
    "Theorem 3.1. Consider a finite-horizon episodic MDP with deterministic transitions, tree-structured "
    "state "
    "space, and binary terminal rewards R(s) in {0, R} where R > 0 (R for a correct solution, 0 "
    "otherwise). Let "
    "pi_u be the uniform policy, and Q^{pi_u} its corresponding Q-function. Define the greedy policy with "
    "respect to Q^{pi_u} by pi_greedy(s) = argmax_a Q^{pi_u}(s, a), then pi_greedy is optimal."
)

THEOREM_32 = (
    "Theorem 3.2. Consider the same MDP M, and let Q^{pi_u}(s, a) denote the Q-function under the uniform "
    "random policy pi_u from state-action pair (s, a), N(s) = |{a : Q^{pi_u}(s, a) = 0}| be the number of "
    "zero-valued actions at state s, A(s) be the number of available actions at state s, and P denotes the "
    "set "
    "of key states where both optimal and suboptimal actions exist, i.e., P = {s : 1 <= N(s) <= A(s) - 1}. "
    "Given the softmax policy pi_s(a|s) = exp(Q^{pi_u}(s, a)/rho) / sum_a' exp(Q^{pi_u}(s, a')/rho) with "
    "temperature rho > 0, and Pr^{pi_s}(s|s0) is the probability of reaching s from s0 with the policy pi_s, "
    "the value function of the induced policy pi_s satisfies: V^{pi_s}(s0) >= R (1 - sum_{s in P} "
    "Pr^{pi_s}(s|s0) N(s) / (N(s) + exp(max_a Q^{pi_u}(s, a)/rho)))."
)

TOY_RHO1 = (
    "In our didactic example (Fig. 5(d)&5(e)) [...] ROVER (with rho = 1) successfully identifies all four "
    "optimal modes while maintaining 100% success rate. (§3.1.1, Justification)"
)

TOY_MODES = (
    "Q-learning and ROVER (greedy) converge to a single mode despite both being optimal, whereas ROVER "
    "successfully covers all 4 optimal modes. (Fig. 5(e) caption); ROVER preserves diversity throughout "
    "training, allowing sustained exploration of multiple valid pathways. (Abstract)"
)
