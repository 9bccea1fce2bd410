"""torch kernels: level-by-level backward and forward passes on any device (private).

For a general :class:`~mdpkit.rover.tree.Tree` (trees, DAGs, stochastic edges) the nodes are grouped by
longest-path depth; the children of a depth-``d`` node are all deeper, so processing depths from the
deepest up needs one gather, one segment-sum and one segment-reduce per level. For the implicit complete
trees of :class:`~mdpkit.rover.token.TokenTree` a level is a reshape: :math:`Q_h` has shape
:math:`(V^h, V)` and :math:`Q_{h-1} = \\mathrm{mean}(Q_h, 1).\\mathrm{view}(V^{h-1}, V)`.
"""

from __future__ import annotations

import numpy as np
import torch

from mdpkit.core._torch import resolve_device
from mdpkit.rover import _numba

DTYPE = torch.float64


def _levels(tree) -> dict[str, list[np.ndarray]]:
    """Per-depth index arrays (cached on the tree): edges, their outcomes, local segment ids."""
    cache = tree._cache
    if "torch_levels" in cache:
        return cache["torch_levels"]
    depth = tree.depth
    H = int(depth.max()) if depth.size else 0
    noe = tree.node_of_edge
    eoo = tree.edge_of_outcome
    e_depth = depth[noe]
    e_order = np.argsort(e_depth, kind="stable")
    e_bounds = np.searchsorted(e_depth[e_order], np.arange(H + 1))
    edge_local = np.empty(tree.n_edges, dtype=np.int64)
    edge_local[e_order] = np.arange(tree.n_edges) - e_bounds[np.minimum(e_depth[e_order], H)]
    o_depth = e_depth[eoo]
    o_order = np.argsort(o_depth, kind="stable")
    o_bounds = np.searchsorted(o_depth[o_order], np.arange(H + 1))
    internal = np.flatnonzero(~tree.is_leaf)
    n_depth = depth[internal]
    n_order = internal[np.argsort(n_depth, kind="stable")]
    n_bounds = np.searchsorted(depth[n_order], np.arange(H + 1))
    node_local = np.full(tree.n_nodes, -1, dtype=np.int64)
    node_local[n_order] = np.arange(n_order.size) - n_bounds[np.minimum(depth[n_order], H)]
    lv: dict[str, list[np.ndarray]] = {"edges": [], "outs": [], "out_edge": [], "nodes": [], "edge_node": []}
    for d in range(H):
        edges = e_order[e_bounds[d] : e_bounds[d + 1]]
        outs = o_order[o_bounds[d] : o_bounds[d + 1]]
        nodes = n_order[n_bounds[d] : n_bounds[d + 1]]
        lv["edges"].append(edges)
        lv["outs"].append(outs)
        lv["out_edge"].append(edge_local[eoo[outs]])
        lv["nodes"].append(nodes)
        lv["edge_node"].append(node_local[noe[edges]])
    cache["torch_levels"] = lv
    return lv


def _on_device(tree, dev: torch.device) -> dict:
    """The tree's index arrays and per-level segments as tensors on ``dev`` (cached on the tree)."""
    key = f"torch_arrays:{dev}"
    cache = tree._cache
    if key in cache:
        return cache[key]
    lv = _levels(tree)

    def t(a: np.ndarray, dtype=None) -> torch.Tensor:
        return torch.tensor(np.asarray(a), dtype=dtype, device=dev)

    arrays = {
        "child": t(tree.child),
        "prob": t(tree.prob, DTYPE),
        "noe": t(tree.node_of_edge),
        "eoo": t(tree.edge_of_outcome),
        "leaf_v": t(np.where(tree.is_leaf, tree.reward, 0.0), DTYPE),
        "levels": [
            {name: t(lv[name][d]) for name in ("edges", "outs", "out_edge", "nodes", "edge_node")}
            for d in range(len(lv["edges"]))
        ],
    }
    cache[key] = arrays
    return arrays


def backward_tree(tree, mode: int, pi: np.ndarray | None, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(Q (E,), V (N,)) of the uniform (mode 0), optimal (1) or given (2) policy, level by level."""
    dev = resolve_device(device)
    arr = _on_device(tree, dev)
    child, prob = arr["child"], arr["prob"]
    V = arr["leaf_v"].clone()
    Q = torch.zeros(tree.n_edges, dtype=DTYPE, device=dev)
    pit = torch.tensor(np.asarray(pi, dtype=np.float64), device=dev) if pi is not None else None
    for lvl in reversed(arr["levels"]):
        edges, outs, nodes = lvl["edges"], lvl["outs"], lvl["nodes"]
        seg_e, seg_n = lvl["out_edge"], lvl["edge_node"]
        qd = torch.zeros(edges.numel(), dtype=DTYPE, device=dev).index_add_(
            0, seg_e, prob[outs] * V[child[outs]]
        )
        Q[edges] = qd
        if mode == _numba.MODE_MEAN:
            cnt = torch.zeros(nodes.numel(), dtype=DTYPE, device=dev).index_add_(
                0, seg_n, torch.ones_like(qd)
            )
            vd = torch.zeros(nodes.numel(), dtype=DTYPE, device=dev).index_add_(0, seg_n, qd) / cnt
        elif mode == _numba.MODE_MAX:
            vd = torch.full((nodes.numel(),), -torch.inf, dtype=DTYPE, device=dev).scatter_reduce_(
                0, seg_n, qd, reduce="amax"
            )
        else:
            vd = torch.zeros(nodes.numel(), dtype=DTYPE, device=dev).index_add_(0, seg_n, pit[edges] * qd)
        V[nodes] = vd
    return Q, V


def forward_tree(tree, pi: np.ndarray, device) -> torch.Tensor:
    """Visit probabilities (N,) of the policy ``pi`` (E,), level by level from the root."""
    dev = resolve_device(device)
    arr = _on_device(tree, dev)
    child, prob, noe, eoo = arr["child"], arr["prob"], arr["noe"], arr["eoo"]
    pit = torch.tensor(np.asarray(pi, dtype=np.float64), device=dev)
    reach = torch.zeros(tree.n_nodes, dtype=DTYPE, device=dev)
    reach[0] = 1.0
    for lvl in arr["levels"]:
        outs = lvl["outs"]
        e = eoo[outs]
        reach.index_add_(0, child[outs], reach[noe[e]] * pit[e] * prob[outs])
    return reach


# ---------------------------------------------------------------------------------------- token trees
def token_backward(leaf_reward: torch.Tensor, V: int, H: int, mode: int) -> list[torch.Tensor]:
    """Per-level Q of the uniform (mode 0) or optimal (mode 1) policy: list of (V**h, V), h = 0..H-1."""
    out: list[torch.Tensor] = [torch.empty(0)] * H
    v = leaf_reward
    for h in range(H - 1, -1, -1):
        q = v.reshape(V**h, V)
        out[h] = q
        v = q.mean(dim=1) if mode == _numba.MODE_MEAN else q.amax(dim=1)
    return out


def token_reach(policy: list[torch.Tensor]) -> torch.Tensor:
    """Leaf visit probabilities (V**H,) of a per-level policy [(V**h, V)]."""
    reach = torch.ones(1, dtype=policy[0].dtype, device=policy[0].device)
    for p in policy:
        reach = (reach[:, None] * p).reshape(-1)
    return reach
