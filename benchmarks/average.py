r"""Average-reward solvers (RVI, LP) vs pymdptoolbox RVI and cvxpy/scipy LPs; EVI numba vs its torch twin.

What is measured
----------------
1. *Optimal gain* :math:`\rho^*` of communicating models (Puterman 1994, §8.5 and §9.5), to the same
   guarantee :math:`|\rho - \rho^*| \le \varepsilon`, :math:`\varepsilon = \texttt{eps\_rel} \cdot
   \max|r|` (``--eps-rel``, default 1e-6):

   * ours: :func:`mdpkit.average_reward` with ``method="rvi"`` (relative VI on the aperiodicity transform
     :math:`\tau = 1/2`, stops when :math:`\mathrm{sp}(Th - h) \le \varepsilon`, certifying the gain
     bracket) and ``method="lp"`` (HiGHS LP for :math:`\rho^*`, then RVI warm-started at its bias);
   * pymdptoolbox ``RelativeValueIteration(P, R, epsilon=eps, max_iter=10**6)`` (no aperiodicity
     transform; stops when :math:`\mathrm{sp}(V_{n+1} - V_n) < \varepsilon` and reports
     :math:`\rho = g + \min(V_{n+1} - V_n)`, within :math:`\varepsilon` of :math:`\rho^*` at that point);
     its constructor (validation) is not timed;
   * the average-reward LP as a user writes it, :math:`\min \rho` s.t. :math:`\rho + h(s) - \sum_{s'}
     P(s'|s,a) h(s') \ge r(s,a)`, :math:`h(0) = 0` (Puterman 1994, §8.8), in **cvxpy** (default conic
     solver, sparse constraint matrix) and in **scipy** ``linprog(method="highs")`` (sparse).

   Models: RiverSwim (:func:`mdpkit.envs.riverswim`, n = 20 and 60; slow mixing), random communicating
   models (:func:`mdpkit.envs.random_communicating`, S = 200 and 1000, A = 4, density 0.05) and a slippery
   gridworld whose goal restarts the episode (:func:`mdpkit.envs.gridworld`, 20 x 20, slip 0.1,
   ``absorbing_goal=False``; communicating). Times: median of ``--repeat``; numba warmed up first; every
   peer runs in a forked child under ``--budget`` seconds (default 60; ``> budget`` when killed). Ratio =
   peer time / time of our faster method (> 1: mdpkit faster).

   Verification, independent of the timed code: the greedy policy of our RVI is evaluated exactly by
   :func:`mdpkit.policy_gain` (Cesàro limit, dense linear algebra); its gain must be constant and within
   :math:`\varepsilon` of our :math:`\rho` (and our bracket width :math:`\le \varepsilon`), else
   ``ok = False``. Every peer's :math:`\rho` must lie within :math:`\varepsilon + 10^{-7}(1 + |\rho|)`
   (the LP solvers' feasibility tolerance) of ours; a peer outside is marked ``WRONG`` (not counted in
   the ratios).
2. *Extended value iteration* (Jaksch et al. 2010, §3.1.2; :func:`mdpkit.average.extended_value_iteration`)
   on a batch of ``B`` random optimistic planning problems (Dirichlet :math:`\hat p`, :math:`\tilde r \sim
   U[0,1]`, L1 radii :math:`d \sim U[0, 0.5]`), ``eps`` = 1e-8: the numba backend (one model after the
   other) vs the torch twin batched on the CPU (``device="cpu"``). The gains must agree within ``eps``
   (both brackets contain the optimistic gain and are narrower than ``eps``), else ``ok = False``. Ratio =
   torch time / numba time (> 1: numba faster).

``--quick``: toy sizes (timings meaningless).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from mdpkit.average import extended_value_iteration
from mdpkit.bench import Report, Table, environment, median, run_fresh, run_isolated, time_repeats
from mdpkit.core import TabularMDP, average_reward, policy_gain
from mdpkit.envs import gridworld, random_communicating, riverswim
from mdpkit.errors import InvalidArgumentError

PACKAGES = ("numpy", "scipy", "numba", "cvxpy", "clarabel", "pymdptoolbox", "torch")
LP_SLACK = 1e-7
EVI_EPS = 1e-8


def _gain_cases(quick: bool, seed: int) -> dict[str, Callable[[], TabularMDP]]:
    if quick:
        return {
            "riverswim-6": lambda: riverswim(6, sparse=False),
            "communicating-30": lambda: random_communicating(30, 3, seed=seed, density=0.2, sparse=False),
            "gridworld-5x5": lambda: gridworld(
                5, 5, slip=0.1, gamma=None, absorbing_goal=False, sparse=False
            ),
        }
    return {
        "riverswim-20": lambda: riverswim(20, sparse=False),
        "riverswim-60": lambda: riverswim(60, sparse=False),
        "communicating-200": lambda: random_communicating(200, 4, seed=seed, density=0.05, sparse=False),
        "communicating-1000": lambda: random_communicating(1000, 4, seed=seed, density=0.05, sparse=False),
        "gridworld-20x20": lambda: gridworld(
            20, 20, slip=0.1, gamma=None, absorbing_goal=False, sparse=False
        ),
    }


def _evi_cases(quick: bool) -> dict[str, tuple[int, int, int]]:
    if quick:
        return {"evi-B8-S10": (8, 10, 3)}
    return {
        "evi-B1-S50": (1, 50, 4),
        "evi-B64-S20": (64, 20, 4),
        "evi-B16-S100": (16, 100, 4),
        "evi-B4-S300": (4, 300, 4),
    }


def _dense(mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray]:
    P = mdp.P.toarray().reshape(mdp.S, mdp.A, mdp.S) if sp.issparse(mdp.P) else np.asarray(mdp.P)
    return P, np.asarray(mdp.R, dtype=np.float64)


def _lp_matrix(P: np.ndarray) -> sp.csr_matrix:
    """Rows (s, a): e_s - P(.|s, a), so the constraint is rho + M h >= r."""
    S, A, _ = P.shape
    E = sp.csr_matrix((np.ones(S * A), (np.arange(S * A), np.repeat(np.arange(S), A))), shape=(S * A, S))
    return (E - sp.csr_matrix(P.reshape(S * A, S))).tocsr()


def _peer_pymdptoolbox(P: np.ndarray, R: np.ndarray, eps: float):
    def setup():
        import mdptoolbox.mdp

        return mdptoolbox.mdp.RelativeValueIteration(
            np.ascontiguousarray(P.transpose(1, 0, 2)), R, epsilon=eps, max_iter=10**6
        )

    def work(solver) -> tuple[float, float, int, np.ndarray]:
        t0 = time.perf_counter()
        solver.run()
        return time.perf_counter() - t0, float(solver.average_reward), solver.iter, np.array(solver.policy)

    return setup, work


def _peer_cvxpy(P: np.ndarray, R: np.ndarray):
    def setup():
        import cvxpy as cp

        S = P.shape[0]
        rho, h = cp.Variable(), cp.Variable(S)
        prob = cp.Problem(cp.Minimize(rho), [rho + _lp_matrix(P) @ h >= R.reshape(-1), h[0] == 0])
        return prob, rho

    def work(state) -> tuple[float, float, int, None]:
        prob, rho = state
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            prob.solve()
            el = time.perf_counter() - t0
        return el, float(rho.value), 0, None

    return setup, work


def _peer_linprog(P: np.ndarray, R: np.ndarray):
    def setup():
        return None

    def work(_state) -> tuple[float, float, int, None]:
        from scipy.optimize import linprog

        t0 = time.perf_counter()
        S = P.shape[0]
        M = _lp_matrix(P)
        A_ub = sp.hstack([-np.ones((M.shape[0], 1)), -M]).tocsr()
        c = np.zeros(S + 1)
        c[0] = 1.0
        bounds = [(None, None), (0.0, 0.0)] + [(None, None)] * (S - 1)
        res = linprog(c, A_ub=A_ub, b_ub=-R.reshape(-1), bounds=bounds, method="highs")
        el = time.perf_counter() - t0
        return el, float(res.x[0]) if res.status == 0 else float("nan"), 0, None

    return setup, work


def _gain_table(report: Report, quick: bool, repeat: int, budget: float, seed: int, eps_rel: float, only):
    table = Table(
        "Optimal gain to |rho - rho*| <= eps = eps_rel * max|r|: seconds and ratio peer / ours",
        [
            "case",
            "S",
            "A",
            "ours rvi s",
            "ours lp s",
            "ours rvi tau=1 s",
            "pymdptoolbox RVI s",
            "cvxpy LP s",
            "scipy LP s",
            "x pymdptoolbox",
            "x cvxpy",
            "x scipy",
            "x pymdptoolbox vs tau=1",
            "rho*",
            "ok",
        ],
    )
    toy = random_communicating(5, 2, seed=seed)
    average_reward(toy, method="rvi")
    average_reward(toy, method="lp")
    for name, build in _gain_cases(quick, seed).items():
        if only and name not in only:
            continue
        mdp = build()
        P, R = _dense(mdp)
        eps = eps_rel * float(np.max(np.abs(R)))
        t_rvi, sol = time_repeats(lambda m=mdp, e=eps: average_reward(m, method="rvi", tol=e), repeat, budget)
        t_lp, sol_lp = time_repeats(
            lambda m=mdp, e=eps: average_reward(m, method="lp", tol=e), repeat, budget
        )
        t_t1, sol_t1 = time_repeats(
            lambda m=mdp, e=eps: average_reward(m, method="rvi", tol=e, tau=1.0), repeat, budget
        )
        ours = min(median(t_rvi), median(t_lp))
        g_pi, _ = policy_gain(mdp, sol.policy)
        ok = bool(
            sol.converged
            and sol.gain_upper - sol.gain_lower <= eps
            and np.ptp(g_pi) <= 1e-9 * (1 + abs(sol.gain))
            and abs(float(g_pi[0]) - sol.gain) <= eps
            and abs(sol_lp.gain - sol.gain) <= eps
            and sol_t1.converged
            and abs(sol_t1.gain - sol.gain) <= eps
        )
        report.ok &= ok
        cells, ratios, rec = [], [], {"case": name, "S": mdp.S, "A": mdp.A, "rvi": t_rvi, "lp": t_lp}
        peers = {
            "pymdptoolbox": _peer_pymdptoolbox(P, R, eps),
            "cvxpy": _peer_cvxpy(P, R),
            "scipy": _peer_linprog(P, R),
        }
        for peer, (setup, work) in peers.items():

            def timed(state, work=work, setup=setup):
                times, out = [], None
                for k in range(max(1, repeat)):
                    el, g, it, pol = work(state if k == 0 else setup())
                    times.append(el)
                    out = (g, it, pol)
                    if sum(times) > budget / 3:
                        break
                return median(times), out

            res = run_isolated(setup, timed, budget)
            if res.status != "ok":
                cells.append(f"> {budget:g}" if res.status == "timeout" else "error")
                ratios.append(None)
                rec[peer] = res.status + (f": {res.error[:200]}" if res.error else "")
                continue
            t_peer, (g, it, _pol) = res.value
            right = abs(g - sol.gain) <= eps + LP_SLACK * (1 + abs(sol.gain))
            cells.append(t_peer if right else f"WRONG ({g:.6g})")
            ratios.append(t_peer / ours if right else None)
            rec[peer] = {"seconds": t_peer, "gain": g, "iterations": it}
            if not right:
                report.notes.append(
                    f"{name}: {peer} returned rho = {g!r}, ours {sol.gain!r} (eps = {eps:.2g})"
                )
        t1 = median(t_t1)
        r_t1 = ratios[0] * ours / t1 if ratios[0] is not None else None
        table.add(name, mdp.S, mdp.A, median(t_rvi), median(t_lp), t1, *cells, *ratios, r_t1, sol.gain, ok)
        rec.update(
            {
                "gain": sol.gain,
                "rvi_iterations": sol.iterations,
                "rvi_tau1": t_t1,
                "rvi_tau1_iterations": sol_t1.iterations,
                "eps": eps,
            }
        )
        report.records.append(rec)
    table.notes.append(
        "ours: median of repeats in this process; peers: median of repeats in a forked child (pymdptoolbox's "
        "constructor and cvxpy's problem construction untimed; cvxpy's canonicalisation is timed, as in any "
        "first solve). Ratios against the faster of our two default methods (rvi with tau = 1/2, lp); "
        "the last ratio against our RVI without the aperiodicity transform (tau = 1, valid on aperiodic "
        "models such as these; pymdptoolbox iterates the same untransformed operator)."
    )
    report.tables.append(table)


def _evi_problem(B: int, S: int, A: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, B, S, A])
    p = rng.dirichlet(np.ones(S), size=(B, S, A))
    r = rng.uniform(size=(B, S, A))
    d = rng.uniform(0.0, 0.5, size=(B, S, A))
    return p, r, d


def evi_rows(quick: bool, repeat: int, budget: float, seed: int, only: list[str] | None):
    """Generator run by :func:`mdpkit.bench.run_fresh` in a fresh interpreter: one dict per EVI case.

    A fresh process keeps numba's OpenMP pool (spinning after the parallel Bellman kernels of the gain
    table) from competing with torch's intra-op threads, which slowed torch by up to 100x in one process.
    """
    import torch

    n_threads = torch.get_num_threads()
    w = _evi_problem(2, 4, 2, seed)
    extended_value_iteration(*w, eps=EVI_EPS)
    extended_value_iteration(*w, eps=EVI_EPS, backend="torch", device="cpu")
    for name, (B, S, A) in _evi_cases(quick).items():
        if only and name not in only:
            continue
        p, r, d = _evi_problem(B, S, A, seed)
        t_nb, res_nb = time_repeats(
            lambda p=p, r=r, d=d: extended_value_iteration(p, r, d, eps=EVI_EPS), repeat, budget
        )
        out = {"case": name, "B": B, "S": S, "A": A, "numba": t_nb, "threads": n_threads}
        errs = []
        conv = bool(np.all(res_nb.converged))
        sweeps = int(np.max(res_nb.iterations))
        for label, k in (("torch_1t", 1), ("torch", n_threads)):
            torch.set_num_threads(k)
            t_th, res_th = time_repeats(
                lambda p=p, r=r, d=d: extended_value_iteration(
                    p, r, d, eps=EVI_EPS, backend="torch", device="cpu"
                ),
                repeat,
                budget,
            )
            out[label] = t_th
            errs.append(float(np.max(np.abs(np.asarray(res_nb.gain) - np.asarray(res_th.gain)))))
            conv &= bool(np.all(res_th.converged))
            sweeps = max(sweeps, int(np.max(res_th.iterations)))
        torch.set_num_threads(n_threads)
        out.update({"err": max(errs), "converged": conv, "sweeps": sweeps})
        yield out


def _evi_table(report: Report, quick: bool, repeat: int, budget: float, seed: int, only) -> None:
    table = Table(
        f"Extended value iteration (L1 sets, eps = {EVI_EPS:g}): numba vs torch CPU (batched)",
        [
            "case",
            "B",
            "S",
            "A",
            "numba s",
            "torch 1 thread s",
            "torch all threads s",
            "x torch-1t / numba",
            "x torch / numba",
            "sweeps (max)",
            "max abs dgain",
            "ok",
        ],
    )
    kwargs = {"quick": quick, "repeat": repeat, "budget": budget, "seed": seed, "only": only}
    res = run_fresh("average", "evi_rows", kwargs, timeout=budget)
    if res.status != "ok":
        report.ok = False
        report.notes.append(f"EVI comparison did not complete: {res.status} {res.error}")
    for row in res.value or []:
        nb, t1, tn = median(row["numba"]), median(row["torch_1t"]), median(row["torch"])
        ok = bool(row["converged"] and row["err"] <= EVI_EPS)
        report.ok &= ok
        table.add(
            row["case"],
            row["B"],
            row["S"],
            row["A"],
            nb,
            t1,
            tn,
            t1 / nb,
            tn / nb,
            row["sweeps"],
            row["err"],
            ok,
        )
        report.records.append(row)
    table.notes.append(
        "median of repeats, in a fresh interpreter; numba (single-threaded kernel) solves the B models one "
        "after the other, torch all at once (1 intra-op thread, then torch's default thread count)."
    )
    report.tables.append(table)


def run(args: argparse.Namespace) -> Report:
    """Run the average-reward suite (see the module docstring)."""
    quick = bool(getattr(args, "quick", False))
    repeat = int(getattr(args, "repeat", 3))
    budget = float(getattr(args, "budget", None) or 60.0)
    seed = int(getattr(args, "seed", 0))
    eps_rel = float(getattr(args, "eps_rel", 1e-6))
    only = getattr(args, "only", None)
    known = [*_gain_cases(quick, seed), *_evi_cases(quick)]
    unknown = sorted(set(only or ()) - set(known))
    if unknown:
        raise InvalidArgumentError(f"--only names unknown case(s) {', '.join(unknown)} (known: {known})")
    report = Report(
        "average", "Average-reward solvers: RVI/LP vs pymdptoolbox, cvxpy, scipy; EVI numba vs torch"
    )
    report.meta = environment(PACKAGES)
    _gain_table(report, quick, repeat, budget, seed, eps_rel, only)
    _evi_table(report, quick, repeat, budget, seed, only)
    for t in report.tables[:1]:
        for i, peer in enumerate(("pymdptoolbox", "cvxpy", "scipy")):
            xs = [r[9 + i] for r in t.rows if isinstance(r[9 + i], float)]
            if xs:
                report.notes.append(f"ours vs {peer}: {min(xs):.3g}x to {max(xs):.3g}x (> 1: mdpkit faster)")
    if not report.ok:
        report.notes.append("a check of OUR answers FAILED: see the ok columns and records")
    return report
