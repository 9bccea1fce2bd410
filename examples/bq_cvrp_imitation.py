"""CVRP with the BQ-NCO policy: imitation of exact DP solutions, greedy decoding, gap to the optimum.

The CVRP BQ state is (current node, remaining customers, remaining capacity); the policy scores, for each
remaining customer, a direct move and a move via the depot. Labels are the decisions of exact solutions
(:func:`mdpkit.combinatorial.solve_cvrp`, DP on the BQ-MDP) of instances with n = 6..10 customers. Under a
minute on a CPU::

    python examples/bq_cvrp_imitation.py              # 1500 steps
    python examples/bq_cvrp_imitation.py --steps 3000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mdpkit import combinatorial as C
from mdpkit.combinatorial import neural


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--per-size", type=int, default=100, help="training instances per size n = 6..10")
    ap.add_argument("--eval", type=int, default=16, help="evaluation instances per size")
    ap.add_argument("--device", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1 is 5-10x faster on a loaded 2-core machine)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    data = neural.make_cvrp_dataset(range(6, 11), args.per_size, seed=args.seed)
    print(f"{5 * args.per_size} instances with exact solutions in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    policy, hist = neural.train_policy(
        data, steps=args.steps, batch_size=64, seed=args.seed, device=args.device,
        d_model=64, n_layers=3, n_heads=4, d_ff=256, log_every=max(1, args.steps // 4),
    )  # fmt: skip
    print(f"trained {args.steps} steps in {time.perf_counter() - t0:.0f} s")
    for s, loss, acc in zip(hist.step, hist.loss, hist.accuracy, strict=True):
        print(f"  step {s:5d}  loss {loss:.3f}  action accuracy {acc:.3f}")

    print(f"\n{'n':>4} {'BQ greedy':>10} {'nearest neighbour':>18}  reference")
    for n in (8, 10, 12, 20):
        insts = [C.random_cvrp(n, 20_000 + 100 * n + i) for i in range(args.eval)]
        greedy = np.array([neural.cvrp_greedy_decode(policy, inst)[0] for inst in insts])
        nn = np.array([neural.cvrp_nearest_neighbour(inst)[0] for inst in insts])
        if n <= 12:
            ref, kind = np.array([C.solve_cvrp(inst)[0] for inst in insts]), "exact (DP on the BQ-MDP)"
        else:
            ref, kind = np.minimum(greedy, nn), "best found"
        print(f"{n:>4} {100 * np.mean(greedy / ref - 1):9.2f}% {100 * np.mean(nn / ref - 1):17.2f}%  {kind}")


if __name__ == "__main__":
    main()
