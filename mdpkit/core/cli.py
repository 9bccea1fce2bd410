"""``mdpkit solve MODEL.npz``: solve a stored model and print (or save) its solution."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from mdpkit.core.average import average_reward
from mdpkit.core.discounted import solve
from mdpkit.core.model import TabularMDP


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", type=Path, help=".npz written by TabularMDP.save (arrays P or P_data/..., R, gamma)"
    )
    p.add_argument(
        "--method",
        default="pi",
        choices=("vi", "pi", "mpi", "lp", "rvi", "avg-lp"),
        help="discounted: vi|pi|mpi|lp; average reward: rvi|avg-lp (default: pi)",
    )
    p.add_argument(
        "--tol", type=float, default=1e-10, help="certified suboptimality of the policy (default 1e-10)"
    )
    p.add_argument("--gamma", type=float, default=None, help="override the model's discount factor")
    p.add_argument("--backend", default="numba", choices=("numba", "torch"))
    p.add_argument("--device", default=None, help="torch device (cuda/cpu), torch backend only")
    p.add_argument(
        "--out", type=Path, default=None, help="write V, policy (and Q) to this .npz (never overwrites)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")


def main(args: argparse.Namespace) -> int:
    mdp = TabularMDP.load(args.model)
    if args.gamma is not None:
        mdp = mdp.with_gamma(args.gamma)
    t0 = time.perf_counter()
    if args.method in ("rvi", "avg-lp"):
        sol = average_reward(mdp, method="rvi" if args.method == "rvi" else "lp", tol=args.tol)
        arrays = {"h": sol.h, "policy": sol.policy}
        summary = {
            "model": str(args.model),
            "S": mdp.S,
            "A": mdp.A,
            "method": sol.method,
            "gain": sol.gain,
            "gain_bracket": [sol.gain_lower, sol.gain_upper],
            "span": sol.span,
            "iterations": sol.iterations,
            "converged": sol.converged,
        }
    else:
        options = {}
        bar = None
        if args.method in ("vi", "mpi") and args.backend == "numba" and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(desc=f"{args.method} sweeps", unit="sweep", file=sys.stderr, mininterval=0.5)
            prev: dict[str, np.ndarray] = {}

            def progress(k: int, v: np.ndarray, _pol: np.ndarray) -> None:
                if "v" in prev:
                    d = v - prev["v"]
                    bar.set_postfix_str(f"sp(Tv-v)={d.max() - d.min():.3g}", refresh=False)
                prev["v"] = v.copy()
                bar.update(1)

            options["callback"] = progress
        try:
            sol = solve(
                mdp, method=args.method, tol=args.tol, backend=args.backend, device=args.device, **options
            )
        finally:
            if bar is not None:
                bar.close()
        arrays = {"V": sol.V, "policy": sol.policy, "Q": sol.Q}
        summary = {
            "model": str(args.model),
            "S": mdp.S,
            "A": mdp.A,
            "gamma": mdp.gamma,
            "method": sol.method,
            "J": float(mdp.initial @ sol.V),
            "iterations": sol.iterations,
            "residual": sol.residual,
            "error_bound": sol.error_bound,
            "converged": sol.converged,
        }
    summary["seconds"] = time.perf_counter() - t0
    if args.out is not None:
        out = args.out if args.out.suffix == ".npz" else args.out.with_suffix(".npz")
        if out.exists():
            print(f"mdpkit solve: {out} exists; refusing to overwrite it", file=sys.stderr)
            return 2
        np.savez_compressed(out, **arrays)
        summary["out"] = str(out)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, v in summary.items():
            print(f"{k:>14}: {v}")
        if mdp.S <= 20:
            print(f"{'policy':>14}: {arrays['policy'].tolist()}")
    return 0 if summary["converged"] else 1
