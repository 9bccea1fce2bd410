r"""ROVER keeps the diversity of solutions that policy-gradient training (GRPO) collapses (small scale).

Operationalisation (ours; thresholds fixed after a pilot run on seeds 0-3, the check draws other seeds
from the budget): on the paper's toy (4 solutions), tabular ROVER at :math:`\rho = 0.1` and tabular GRPO
(learning rate 1), each 1000 batches of 8 rollouts from the uniform policy, are compared on their *exact*
final policies, averaged over seeds. The claim holds when both reach mean success :math:`\ge 0.95`, GRPO
has collapsed (expected distinct solutions among 64 samples :math:`\le 1.5`) and ROVER has not (at least 2
and at least twice GRPO's). Under the full budget the same test also runs on a token tree (V = 6, H = 4, 8
solutions). The exact greedy-on-:math:`Q^{\pi_u}` policy is reported as well (one solution: Fig. 5e's
"ROVER (greedy) converges to a single mode"), and the entropies over solutions.
"""

from __future__ import annotations

import numpy as np

from mdpkit import rover
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.rover.paper import CITATION, TOY_MODES

ID = "rover.diversity-vs-grpo"
ITERATIONS = 1000
N_ROLLOUTS = 8


def _runs(tree: rover.Tree, seeds: list[int]) -> dict[str, np.ndarray]:
    out = {}
    for alg, kw in (("rover", {"rho": 0.1}), ("grpo", {"lr": 1.0})):
        finals = [
            rover.train(
                tree, alg, iterations=ITERATIONS, n_rollouts=N_ROLLOUTS, log_every=ITERATIONS, seed=s, **kw
            )
            for s in seeds
        ]
        out[alg] = np.array([[c.success[-1], c.entropy[-1], c.distinct[-1]] for c in finals])
    return out


def check(budget: Budget) -> Verdict:
    rng = budget.rng(ID)
    cases = [("toy", rover.paper_toy())]
    if budget.name == "full":
        tok = rover.token_tree(6, 4, n_success=8, seed=int(rng.integers(2**31)), device="cpu")
        cases.append(("token V=6 H=4", tok.to_tree()))
    seeds = [int(x) for x in rng.integers(0, 2**31, size=budget.pick(8, 32))]
    parts, data, ok = [], {}, True
    for name, tree in cases:
        r = _runs(tree, seeds)
        hmax = float(np.log(tree.success_leaves.size))
        ro, gr = r["rover"].mean(axis=0), r["grpo"].mean(axis=0)
        passed = ro[0] >= 0.95 and gr[0] >= 0.95 and gr[2] <= 1.5 and ro[2] >= max(2.0, 2 * gr[2])
        ok &= bool(passed)
        g = rover.analyse(tree, rover.greedy_policy(tree, rover.uniform_q(tree)))
        parts.append(
            f"{name} ({len(seeds)} seeds): ROVER success {ro[0]:.3f}, entropy {ro[1]:.3f} nats "
            f"(max log {tree.success_leaves.size} = {hmax:.3f}), distinct@64 {ro[2]:.2f}; GRPO success "
            f"{gr[0]:.3f}, "
            f"entropy {gr[1]:.3f}, distinct@64 {gr[2]:.2f}; greedy on Q^{{pi_u}}: success {g.success:.0f}, "
            f"{g.covered} solution"
        )
        data[name] = {"rover": ro.tolist(), "grpo": gr.tolist(), "max_entropy": hmax}
    return Verdict("holds" if ok else "refuted", "; ".join(parts), data=data)


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, §3.1.1 (Fig. 5e) and abstract",
    statement=TOY_MODES,
    assumptions=(
        "Tabular versions on the paper's toy (and, full budget, a V=6, H=4 token tree with 8 solutions): "
        "ROVER "
        "with a Q table, mean-centred broadcast rewards, rho = 0.1, step 0.5; GRPO with softmax logits, "
        "group-normalised advantages, step 1; 1000 batches of 8 rollouts. Criteria in the module docstring."
    ),
    check=check,
    expected="holds",
)
