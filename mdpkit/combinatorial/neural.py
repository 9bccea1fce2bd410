r"""The BQ-NCO attention policy over TSP BQ states, trained by imitation; greedy and beam decoding (torch).

Drakulic et al., "BQ-NCO", NeurIPS 2023, §4. A BQ state of the TSP is the path-TSP sub-instance
(current node :math:`j`, unvisited set :math:`U`, destination = origin 0). The policy sees it as a *set*
of :math:`|U| + 2` tokens, one per node, with features :math:`(x, y, [\text{node} = j], [\text{node} = 0])`,
embeds them linearly and runs a Transformer encoder **without positional encoding** (so it is
permutation-equivariant, as the state is a set), then scores each unvisited node with a linear head:
:math:`\pi(k \mid s) = \mathrm{softmax}_{k \in U}\, w^\top h_k`. The whole sub-instance is re-encoded at
every step (the state changes, and there is no decoder cache): the paper's "heavy encoder, light decoder"
replaced by a re-encoding that only depends on the current BQ state.

Training is imitation (§4.2): each example is a random *suffix* of an optimal tour: rotate and (Euclidean
TSP being symmetric) possibly reverse an optimal tour :math:`\tau`, take a position :math:`t`; the state is
current :math:`\tau_t`, unvisited :math:`\{\tau_{t+1}, \dots, \tau_{n-1}\}`, destination :math:`\tau_0`; the
label is :math:`\tau_{t+1}`. Every suffix of an optimal tour is an optimal path of its sub-instance, so the
labels are optimal actions of the BQ-MDP. A batch shares one sub-instance size. Optimal tours of the small
training instances come from :func:`mdpkit.combinatorial.solve_tsp` (Held-Karp), not from a solver
outside this package.

Decoding: greedy (argmax at every step) and beam search (keep the ``beam`` partial tours of largest
log-probability; return the shortest complete one). Runs on CUDA when available, else on CPU.

CVRP (:class:`CVRPPolicy`): the same encoder over the CVRP BQ state (current node, depot, remaining
customers with their demands, remaining capacity), two logits per customer (direct / via the depot),
infeasible moves masked; trained on suffixes of exact DP solutions (n <= 12) and decoded greedily. OP and KP
policies are not implemented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from mdpkit.combinatorial.exact import solve_tsp
from mdpkit.combinatorial.problems import CVRPInstance, euclidean_distances, random_tsp
from mdpkit.core._torch import resolve_device
from mdpkit.errors import InvalidArgumentError

__all__ = [
    "BQPolicy",
    "Dataset",
    "TrainingHistory",
    "default_device",
    "make_dataset",
    "state_features",
    "train_policy",
    "greedy_decode",
    "beam_decode",
    "evaluate_tsp",
    "CVRPPolicy",
    "CVRPDataset",
    "cvrp_state_features",
    "make_cvrp_dataset",
    "cvrp_greedy_decode",
    "cvrp_nearest_neighbour",
]

#: the device a model is built on: ``device`` if given (checked), else CUDA when available, else CPU
default_device = resolve_device


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


class BQPolicy(nn.Module):
    r"""Transformer encoder over the tokens of a TSP BQ state; no positional encoding.

    Parameters
    ----------
    d_model, n_layers, n_heads, d_ff : int
        Width, depth, attention heads and feed-forward width (the paper: 128, 9, 8, 512; CPU defaults
        smaller).
    dropout : float
        Dropout probability in the transformer layers.

    Notes
    -----
    Input ``x`` of :meth:`forward`: (B, m + 2, 4) features, token 0 the current node, token 1 the
    destination, tokens 2.. the unvisited nodes (any order). Output: (B, m) logits over the unvisited nodes.
    """

    def __init__(
        self, d_model: int = 128, n_layers: int = 4, n_heads: int = 8, d_ff: int = 512, dropout: float = 0.0
    ):
        super().__init__()
        self.config = {
            "d_model": d_model,
            "n_layers": n_layers,
            "n_heads": n_heads,
            "d_ff": d_ff,
            "dropout": dropout,
        }
        self.embed = nn.Linear(4, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout=dropout, batch_first=True, norm_first=True, activation="relu"
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.encoder(self.embed(x)))
        return self.head(h[:, 2:, :]).squeeze(-1)


def state_features(
    coords: torch.Tensor, current: torch.Tensor, remaining: torch.Tensor, dest: torch.Tensor
) -> torch.Tensor:
    r"""Token features of a batch of BQ states of equal size.

    Parameters
    ----------
    coords : (B, n, 2) node coordinates of the instances.
    current, dest : (B,) long: current node and destination.
    remaining : (B, m) long: unvisited nodes.

    Returns
    -------
    (B, m + 2, 4): rows ``[current, dest, remaining...]`` with features (x, y, is_current, is_destination).
    """
    nodes = torch.cat([current[:, None], dest[:, None], remaining], dim=1)
    xy = torch.gather(coords, 1, nodes[..., None].expand(-1, -1, 2))
    flags = torch.zeros(nodes.shape[0], nodes.shape[1], 2, dtype=coords.dtype, device=coords.device)
    flags[:, 0, 0] = 1.0
    flags[:, 1, 1] = 1.0
    return torch.cat([xy, flags], dim=-1)


@dataclass
class Dataset:
    """Training instances grouped by size: ``coords[n]`` (N_n, n, 2) and optimal ``tours[n]`` (N_n, n)."""

    coords: dict[int, np.ndarray] = field(default_factory=dict)
    tours: dict[int, np.ndarray] = field(default_factory=dict)
    lengths: dict[int, np.ndarray] = field(default_factory=dict)


def make_dataset(
    sizes: tuple[int, ...] | range, per_size: int, seed: int | np.random.Generator = 0
) -> Dataset:
    """``per_size`` uniform Euclidean instances of each size with their optimal tours (Held-Karp)."""
    rng = _rng(seed)
    ds = Dataset()
    for n in sizes:
        if not 3 <= n <= 22:
            raise InvalidArgumentError(f"training size n = {n} must be in 3..22 (Held-Karp labels)")
        cs, ts, ls = [], [], []
        for _ in range(per_size):
            inst = random_tsp(n, rng)
            length, tour = solve_tsp(inst.dist)
            cs.append(inst.coords)
            ts.append(tour)
            ls.append(length)
        ds.coords[n], ds.tours[n], ds.lengths[n] = np.array(cs), np.array(ts, dtype=np.int64), np.array(ls)
    return ds


def _suffix_batch(ds: Dataset, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A batch of random optimal-tour suffixes of one instance size and one suffix length."""
    n = int(rng.choice(list(ds.coords)))
    N = ds.coords[n].shape[0]
    idx = rng.integers(0, N, size=batch)
    tours = ds.tours[n][idx]
    shift = rng.integers(0, n, size=batch)
    tours = np.take_along_axis(tours, (np.arange(n)[None, :] + shift[:, None]) % n, axis=1)  # rotate
    rev = rng.random(batch) < 0.5  # symmetric TSP: the reversed tour is optimal too
    tours[rev, 1:] = tours[rev, 1:][:, ::-1]
    t = int(rng.integers(0, n - 1))  # current = tours[:, t]; remaining = tours[:, t+1:], m = n - 1 - t >= 1
    rem = tours[:, t + 1 :]
    perm = np.argsort(rng.random(rem.shape), axis=1)
    rem_shuffled = np.take_along_axis(rem, perm, axis=1)
    label = np.argmax(perm == 0, axis=1)  # where the next node of the tour went
    return ds.coords[n][idx], tours[:, t], rem_shuffled, tours[:, 0], label


@dataclass
class TrainingHistory:
    """Per-logged step: step, mean loss since the last log, accuracy of the argmax on the same batches."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


# --------------------------------------------------------------------------- CVRP
class CVRPPolicy(nn.Module):
    r"""The BQ policy for CVRP: a Transformer encoder (no positional encoding) over the tokens of the BQ
    state (current node, depot, remaining customers) and two logits per remaining customer: go there
    directly, or via the depot (refill). Token features: :math:`(x, y, q/Q, c/Q, [\text{current}],
    [\text{depot}])` with :math:`c` the remaining capacity (BQ-NCO §4, CVRP).

    Input (B, m + 2, 6); output (B, 2m) logits ordered ``[direct_1, via_1, direct_2, via_2, ...]``.
    """

    def __init__(
        self, d_model: int = 128, n_layers: int = 4, n_heads: int = 8, d_ff: int = 512, dropout: float = 0.0
    ):
        super().__init__()
        self.config = {
            "d_model": d_model,
            "n_layers": n_layers,
            "n_heads": n_heads,
            "d_ff": d_ff,
            "dropout": dropout,
        }
        self.embed = nn.Linear(6, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout=dropout, batch_first=True, norm_first=True, activation="relu"
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.encoder(self.embed(x)))
        return self.head(h[:, 2:, :]).reshape(x.shape[0], -1)


def cvrp_state_features(
    coords: np.ndarray,
    demands: np.ndarray,
    capacity: float,
    current: int,
    remaining: np.ndarray,
    cap_left: int,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Features (m + 2, 6) of one CVRP BQ state and the feasibility mask (2m,) of its actions.

    Tokens ``[current, depot, remaining...]``; a direct move to ``k`` is feasible iff :math:`q_k \le c`; a
    move via the depot is always feasible except from the depot itself (where it equals the direct move).
    """
    nodes = np.concatenate([[current, 0], remaining]).astype(np.int64)
    x = np.zeros((nodes.shape[0], 6), dtype=np.float32)
    x[:, :2] = coords[nodes]
    x[:, 2] = demands[nodes] / capacity
    x[:, 3] = cap_left / capacity
    x[0, 4] = 1.0
    x[1, 5] = 1.0
    mask = np.ones((remaining.shape[0], 2), dtype=bool)
    mask[:, 0] = demands[remaining] <= cap_left
    if current == 0:
        mask[:, 1] = False
    return x, mask.reshape(-1)


@dataclass
class CVRPDataset:
    """CVRP training instances grouped by size, each with an optimal decision sequence ``[(k, via), ...]``."""

    instances: dict[int, list[CVRPInstance]] = field(default_factory=dict)
    decisions: dict[int, list[list[tuple[int, int]]]] = field(default_factory=dict)


def _decisions(routes: list[list[int]]) -> list[tuple[int, int]]:
    out = []
    for r, route in enumerate(routes):
        for i, k in enumerate(route):
            out.append((k, int(i == 0 and r > 0)))
    return out


def make_cvrp_dataset(
    sizes: tuple[int, ...] | range, per_size: int, seed: int | np.random.Generator = 0
) -> CVRPDataset:
    """``per_size`` CVRP instances of each size (paper's distribution) with optimal solutions (exact DP)."""
    from mdpkit.combinatorial.exact import solve_cvrp
    from mdpkit.combinatorial.problems import random_cvrp

    rng = _rng(seed)
    ds = CVRPDataset()
    for n in sizes:
        if not 2 <= n <= 12:
            raise InvalidArgumentError(f"CVRP training size n = {n} must be in 2..12 (exact DP labels)")
        insts = [random_cvrp(n, rng) for _ in range(per_size)]
        ds.instances[n] = insts
        ds.decisions[n] = [_decisions(solve_cvrp(inst)[1]) for inst in insts]
    return ds


def _cvrp_suffix_batch(ds: CVRPDataset, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """States after a random prefix of optimal decisions (one size, one prefix length), the mask, labels."""
    n = int(rng.choice(list(ds.instances)))
    t = int(rng.integers(0, n))  # decisions already taken; m = n - t >= 1 customers remain
    xs, masks, labels = [], [], []
    for i in rng.integers(0, len(ds.instances[n]), size=batch):
        inst, dec = ds.instances[n][i], ds.decisions[n][i]
        cur, cap = 0, inst.capacity
        for k, via in dec[:t]:
            cap = (inst.capacity if via else cap) - int(inst.demands[k])
            cur = k
        rem = np.array([k for k, _ in dec[t:]], dtype=np.int64)
        perm = rng.permutation(rem.shape[0])
        rem = rem[perm]
        k, via = dec[t]
        x, mask = cvrp_state_features(inst.coords, inst.demands, inst.capacity, cur, rem, cap)
        xs.append(x)
        masks.append(mask)
        labels.append(2 * int(np.argmax(perm == 0)) + (via if cur != 0 else 0))
    return np.stack(xs), np.stack(masks), np.array(labels, dtype=np.int64)


@torch.no_grad()
def cvrp_greedy_decode(policy: CVRPPolicy, inst: CVRPInstance) -> tuple[float, list[list[int]]]:
    r"""Greedy roll-out of the CVRP BQ policy on one instance: at every step re-encode the BQ state
    (current node, remaining customers, remaining capacity) and take the most probable feasible action.
    Returns ``(cost, routes)`` (cost recomputed by :func:`~mdpkit.combinatorial.cvrp_cost`)."""
    from mdpkit.combinatorial.problems import cvrp_cost

    dev = next(policy.parameters()).device
    rem = np.arange(1, inst.n + 1)
    cur, cap = 0, inst.capacity
    routes: list[list[int]] = [[]]
    while rem.size:
        x, mask = cvrp_state_features(inst.coords, inst.demands, inst.capacity, cur, rem, cap)
        logits = policy(torch.as_tensor(x[None], device=dev))[0].cpu().numpy()
        a = int(np.argmax(np.where(mask, logits, -np.inf)))
        k, via = int(rem[a // 2]), a % 2
        if via:
            routes.append([])
            cap = inst.capacity
        routes[-1].append(k)
        cap -= int(inst.demands[k])
        cur = k
        rem = np.delete(rem, a // 2)
    routes = [r for r in routes if r]
    return cvrp_cost(inst, routes), routes


def cvrp_nearest_neighbour(inst: CVRPInstance) -> tuple[float, list[list[int]]]:
    """Baseline: go to the nearest customer that fits; when none fits, return to the depot and refill."""
    from mdpkit.combinatorial.problems import cvrp_cost

    rem = set(range(1, inst.n + 1))
    cur, cap = 0, inst.capacity
    routes: list[list[int]] = [[]]
    while rem:
        fits = [k for k in rem if inst.demands[k] <= cap]
        if not fits:
            routes.append([])
            cur, cap = 0, inst.capacity
            continue
        k = min(fits, key=lambda v: inst.dist[cur, v])
        routes[-1].append(k)
        cap -= int(inst.demands[k])
        cur = k
        rem.remove(k)
    return cvrp_cost(inst, [r for r in routes if r]), [r for r in routes if r]


def train_policy(
    dataset: Dataset | CVRPDataset,
    steps: int = 2000,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int | np.random.Generator = 0,
    device: str | torch.device | None = None,
    policy: BQPolicy | CVRPPolicy | None = None,
    log_every: int = 100,
    **policy_kwargs: int,
) -> tuple[BQPolicy | CVRPPolicy, TrainingHistory]:
    r"""Imitation learning on random suffixes of optimal solutions (cross-entropy, Adam, cosine schedule).

    Minimises :math:`-\frac1B \sum_b \log \pi_\theta(a^b_t \mid s^b_t)` over batches of BQ states and the
    optimal solution's next action (``_suffix_batch`` for a TSP :class:`Dataset`, ``_cvrp_suffix_batch`` for
    a :class:`CVRPDataset`; infeasible actions are masked out of the softmax). ``policy_kwargs`` configure a
    new policy of the matching kind. Returns the trained policy (in eval mode) and its history.
    """
    if steps < 1 or batch_size < 1:
        raise InvalidArgumentError(f"steps = {steps} and batch_size = {batch_size} must be >= 1")
    rng = _rng(seed)
    dev = resolve_device(device)
    torch.manual_seed(int(rng.integers(2**31)))
    cvrp = isinstance(dataset, CVRPDataset)
    model = (policy or (CVRPPolicy(**policy_kwargs) if cvrp else BQPolicy(**policy_kwargs))).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * 0.05)
    hist = TrainingHistory()
    run_loss = run_acc = 0.0
    k = 0
    model.train()
    for step in range(1, steps + 1):
        if cvrp:
            x, mask, label = _cvrp_suffix_batch(dataset, batch_size, rng)
            logits = model(torch.as_tensor(x, device=dev))
            logits = logits.masked_fill(~torch.as_tensor(mask, device=dev), -torch.inf)
        else:
            coords, cur, rem, dest, label = _suffix_batch(dataset, batch_size, rng)
            c = torch.as_tensor(coords, dtype=torch.float32, device=dev)
            x = state_features(
                c,
                torch.as_tensor(cur, device=dev),
                torch.as_tensor(rem, device=dev),
                torch.as_tensor(dest, device=dev),
            )
            logits = model(x)
        y = torch.as_tensor(label, device=dev)
        loss = nn.functional.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        run_loss += float(loss.detach())
        run_acc += float((logits.argmax(1) == y).float().mean())
        k += 1
        if step % log_every == 0 or step == steps:
            hist.step.append(step)
            hist.loss.append(run_loss / k)
            hist.accuracy.append(run_acc / k)
            run_loss = run_acc = 0.0
            k = 0
    model.eval()
    return model, hist


def _as_coords(coords: np.ndarray | torch.Tensor, dev: torch.device) -> torch.Tensor:
    c = torch.as_tensor(np.asarray(coords, dtype=np.float32) if not torch.is_tensor(coords) else coords)
    if c.ndim == 2:
        c = c[None]
    if c.ndim != 3 or c.shape[-1] != 2 or c.shape[1] < 1:
        raise InvalidArgumentError(f"coords has shape {tuple(c.shape)}, expected (n, 2) or (B, n, 2)")
    return c.to(dev, torch.float32)


def _float64_coords(coords: np.ndarray | torch.Tensor) -> np.ndarray:
    """The caller's coordinates in float64 (tour lengths are reported in full precision)."""
    if torch.is_tensor(coords):
        return coords.detach().double().cpu().numpy()
    return np.asarray(coords, dtype=np.float64)


@torch.no_grad()
def greedy_decode(
    policy: BQPolicy, coords: np.ndarray | torch.Tensor, device: str | torch.device | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Greedy roll-out of the BQ policy from node 0 on instances of equal size.

    At step :math:`t` the BQ state (current node, unvisited set, destination 0) is re-encoded and the most
    probable unvisited node is taken. ``coords``: (n, 2) or (B, n, 2). Returns ``(lengths, tours)`` of
    shapes (B,) and (B, n): Euclidean lengths in float64, tours starting at 0.
    """
    dev = resolve_device(device, like=next(policy.parameters()))
    c = _as_coords(coords, dev)
    B, n, _ = c.shape
    tours = torch.zeros(B, n, dtype=torch.long, device=dev)
    remaining = torch.arange(1, n, device=dev).repeat(B, 1)
    cur = torch.zeros(B, dtype=torch.long, device=dev)
    dest = torch.zeros(B, dtype=torch.long, device=dev)
    for t in range(1, n):
        if remaining.shape[1] == 1:
            nxt_pos = torch.zeros(B, dtype=torch.long, device=dev)
        else:
            nxt_pos = policy(state_features(c, cur, remaining, dest)).argmax(1)
        cur = remaining.gather(1, nxt_pos[:, None]).squeeze(1)
        tours[:, t] = cur
        keep = torch.ones_like(remaining, dtype=torch.bool)
        keep[torch.arange(B, device=dev), nxt_pos] = False
        remaining = remaining[keep].view(B, -1)
    tours_np = tours.cpu().numpy()
    cn = _float64_coords(coords).reshape(B, n, 2)
    lengths = np.array(
        [euclidean_distances(cn[b])[tours_np[b], np.roll(tours_np[b], -1)].sum() for b in range(B)]
    )
    return lengths, tours_np


@torch.no_grad()
def beam_decode(
    policy: BQPolicy,
    coords: np.ndarray | torch.Tensor,
    beam: int = 16,
    device: str | torch.device | None = None,
) -> tuple[float, np.ndarray]:
    r"""Beam search with the BQ policy on one instance: keep the ``beam`` partial tours of largest total
    log-probability :math:`\sum_t \log \pi(\tau_{t+1} \mid s_t)`; return the shortest complete tour among the
    final beams as ``(length, tour)``. ``beam = 1`` is greedy decoding."""
    if beam < 1:
        raise InvalidArgumentError(f"beam = {beam} must be >= 1")
    dev = resolve_device(device, like=next(policy.parameters()))
    c = _as_coords(coords, dev)
    if c.shape[0] != 1:
        raise InvalidArgumentError("beam_decode takes one instance (n, 2)")
    n = c.shape[1]
    tours = torch.zeros(1, 1, dtype=torch.long, device=dev)
    remaining = torch.arange(1, n, device=dev)[None]
    score = torch.zeros(1, device=dev)
    for _ in range(1, n):
        K = tours.shape[0]
        m = remaining.shape[1]
        if m == 1:
            logp = torch.zeros(K, 1, device=dev)
        else:
            x = state_features(
                c.expand(K, -1, -1), tours[:, -1], remaining, torch.zeros(K, dtype=torch.long, device=dev)
            )
            logp = torch.log_softmax(policy(x), dim=1)
        total = (score[:, None] + logp).reshape(-1)
        top = torch.topk(total, min(beam, total.numel())).indices
        parent, pos = top // m, top % m
        nxt = remaining[parent, pos]
        tours = torch.cat([tours[parent], nxt[:, None]], dim=1)
        keep = torch.ones(len(top), m, dtype=torch.bool, device=dev)
        keep[torch.arange(len(top), device=dev), pos] = False
        remaining = remaining[parent][keep].view(len(top), m - 1)
        score = total[top]
    d = euclidean_distances(_float64_coords(coords).reshape(n, 2))
    cand = tours.cpu().numpy()
    lengths = d[cand, np.roll(cand, -1, axis=1)].sum(axis=1)
    best = int(np.argmin(lengths))
    return float(lengths[best]), cand[best]


def evaluate_tsp(
    policy: BQPolicy | None,
    n: int,
    n_instances: int,
    seed: int | np.random.Generator = 0,
    beam: int = 0,
    exact_max_n: int = 20,
) -> list[dict[str, float | int | str]]:
    r"""Tour lengths of the policy (greedy, and beam search if ``beam > 1``) and of the baselines on fresh
    uniform instances of size ``n``: nearest neighbour, 2-opt (from the nearest-neighbour tour) and, for
    :math:`n \le` ``exact_max_n``, the Held-Karp optimum.

    Returns one record per (instance, method): ``{"n", "instance", "method", "length", "reference",
    "reference_kind", "gap"}`` with ``reference`` the exact optimum when computed, else the best length
    any method found (``reference_kind`` "exact" or "best found"), and ``gap = length / reference - 1``.
    ``policy=None`` evaluates the baselines only.
    """
    from mdpkit.combinatorial.heuristics import nearest_neighbour, two_opt

    rng = _rng(seed)
    insts = [random_tsp(n, rng) for _ in range(n_instances)]
    found: list[dict[str, float]] = [{} for _ in insts]
    if policy is not None:
        lengths, _ = greedy_decode(policy, np.array([i.coords for i in insts]))
        for f, v in zip(found, lengths, strict=True):
            f["BQ greedy"] = float(v)
        if beam > 1:
            for f, inst in zip(found, insts, strict=True):
                f[f"BQ beam {beam}"] = beam_decode(policy, inst.coords, beam=beam)[0]
    for f, inst in zip(found, insts, strict=True):
        f["nearest neighbour"] = nearest_neighbour(inst.dist)[0]
        f["2-opt"] = two_opt(inst.dist)[0]
        if n <= exact_max_n:
            f["exact"] = solve_tsp(inst.dist)[0]
    rows: list[dict[str, float | int | str]] = []
    for i, f in enumerate(found):
        ref = f.get("exact", min(f.values()))
        kind = "exact" if "exact" in f else "best found"
        for method, length in f.items():
            rows.append(
                {
                    "n": n,
                    "instance": i,
                    "method": method,
                    "length": length,
                    "reference": ref,
                    "reference_kind": kind,
                    "gap": length / ref - 1.0,
                }
            )
    return rows
