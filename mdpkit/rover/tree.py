r"""Finite-horizon decision trees (and their generalisations) in flat CSR form.

The ROVER paper (He et al., 2025, §3) models RLVR for LLM reasoning as a finite-horizon MDP whose reachable
graph is a rooted tree: transitions are deterministic (a state is the prompt plus the tokens so far), every
state has one parent, and the only reward is a binary terminal one, :math:`R(s) \in \{0, R\}`. This module
stores such trees, and the generalisations used as counterexamples (stochastic transitions, non-binary
rewards, DAGs whose states merge), in one flat layout that numba and torch kernels read directly:

* nodes ``0 .. N-1``, node 0 the root, numbered so that **every child has a larger index than its parent**
  (a topological order; a backward pass is a loop over nodes in decreasing index);
* the actions of node ``n`` are the *edges* ``action_ptr[n] : action_ptr[n+1]`` (no actions: a leaf);
* the outcomes of edge ``e`` are ``outcome_ptr[e] : outcome_ptr[e+1]``, each a pair ``(child[j], prob[j])``;
  a deterministic edge has exactly one outcome of probability 1;
* ``reward[n]`` is the terminal reward of leaf ``n`` (0 at internal nodes: rewards are terminal only);
* ``label[e]`` is the token of edge ``e``, an index into ``vocab``.

Q-functions and policies are arrays indexed by edge, shape ``(E,)``: ``pi[e]`` is the probability that the
policy picks edge ``e`` at its node, so ``pi[action_ptr[n]:action_ptr[n+1]]`` sums to 1 at internal nodes.
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from mdpkit.errors import InvalidArgumentError, InvalidMDPError

if TYPE_CHECKING:
    from mdpkit.core.model import FiniteHorizonMDP

__all__ = ["Tree", "TreeBuilder", "tree_from_spec", "complete_tree", "paper_toy", "PAPER_TOY_SOLUTIONS"]

#: The four successful sequences of the paper's didactic example (§3.1, Fig. 5a).
PAPER_TOY_SOLUTIONS: tuple[str, ...] = ("ACD", "BDC", "CAB", "DBA")

_PROB_TOL = 1e-12


def _as_fraction(x: object, name: str) -> Fraction:
    """An exact rational from an int, a Fraction, a float (its exact binary value) or a string like '1/3'."""
    if isinstance(x, bool):
        raise InvalidArgumentError(f"{name} = {x!r} is a bool, expected a number")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, numbers.Integral):
        return Fraction(int(x))
    if isinstance(x, str):
        try:
            return Fraction(x)
        except (ValueError, ZeroDivisionError):
            raise InvalidArgumentError(f"{name} = {x!r} is not a number") from None
    if isinstance(x, numbers.Real):
        if not np.isfinite(float(x)):
            raise InvalidArgumentError(f"{name} = {x!r} is not finite")
        return Fraction(float(x))
    raise InvalidArgumentError(f"{name} = {x!r} is not a number")


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


class Tree:
    r"""A finite-horizon decision tree (or DAG) with terminal rewards, stored in CSR form.

    Parameters
    ----------
    action_ptr : int array (N+1,)
        Edges of node ``n`` are ``action_ptr[n]:action_ptr[n+1]``; ``action_ptr[0] = 0``,
        ``action_ptr[N] = E``.
    outcome_ptr : int array (E+1,)
        Outcomes of edge ``e`` are ``outcome_ptr[e]:outcome_ptr[e+1]`` (at least one each).
    child : int array (M,)
        Successor node of each outcome; must exceed the index of the edge's node (topological numbering).
    prob : float array (M,)
        Transition probability of each outcome, in (0, 1], summing to 1 over each edge.
    reward : float array (N,)
        Terminal reward of each leaf; must be 0 at internal nodes.
    label : int array (E,), optional
        Token of each edge (distinct within a node); default: position of the edge within its node.
    vocab : sequence of str, optional
        Token names; default ``"0", "1", ...``.
    prob_exact, reward_exact : sequences of Fraction, optional
        Exact rational values of ``prob`` and ``reward`` (used by :mod:`mdpkit.rover.exact` for certificates);
        default: the exact binary values of the floats.

    Notes
    -----
    A node's *depth* is the length of the longest path from the root to it (for a tree, its distance); the
    horizon :math:`H` is the largest depth. The transition graph may merge states (a DAG) or branch at random
    (stochastic edges); :attr:`is_tree`, :attr:`is_deterministic` and :attr:`is_binary` tell whether an
    instance lies in the class of the ROVER paper's theorems (§3.1).
    """

    __slots__ = (
        "action_ptr",
        "outcome_ptr",
        "child",
        "prob",
        "reward",
        "label",
        "vocab",
        "prob_exact",
        "reward_exact",
        "_cache",
    )

    def __init__(
        self,
        action_ptr: np.ndarray,
        outcome_ptr: np.ndarray,
        child: np.ndarray,
        prob: np.ndarray,
        reward: np.ndarray,
        label: np.ndarray | None = None,
        vocab: Sequence[str] | None = None,
        prob_exact: Sequence[Fraction] | None = None,
        reward_exact: Sequence[Fraction] | None = None,
    ) -> None:
        ap = np.asarray(action_ptr)
        op = np.asarray(outcome_ptr)
        ch = np.asarray(child)
        for name, arr in (("action_ptr", ap), ("outcome_ptr", op), ("child", ch)):
            if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
                raise InvalidMDPError(
                    f"{name} must be a 1-d integer array, got shape {arr.shape} {arr.dtype}"
                )
        ap, op, ch = ap.astype(np.int64), op.astype(np.int64), ch.astype(np.int64)
        if ap.size < 2 or ap[0] != 0:
            raise InvalidMDPError(f"action_ptr must start at 0 and have N+1 >= 2 entries, got {ap[:3]}...")
        N = ap.size - 1
        d = np.diff(ap)
        if np.any(d < 0):
            n = int(np.argmax(d < 0))
            raise InvalidMDPError(f"action_ptr decreases at node {n}: {ap[n]} -> {ap[n + 1]}")
        E = int(ap[-1])
        if op.size != E + 1 or op[0] != 0:
            raise InvalidMDPError(
                f"outcome_ptr has {op.size} entries starting at {op[:1]}, expected E+1 = {E + 1}"
            )
        k = np.diff(op)
        if np.any(k < 1):
            e = int(np.argmax(k < 1))
            raise InvalidMDPError(f"edge {e} has {int(k[e])} outcomes, expected at least 1")
        M = int(op[-1])
        if ch.size != M:
            raise InvalidMDPError(f"child has {ch.size} entries, expected M = outcome_ptr[-1] = {M}")
        pr = np.asarray(prob, dtype=np.float64)
        if pr.shape != (M,):
            raise InvalidMDPError(f"prob has shape {pr.shape}, expected ({M},)")
        rw = np.asarray(reward, dtype=np.float64)
        if rw.shape != (N,):
            raise InvalidMDPError(f"reward has shape {rw.shape}, expected ({N},)")
        node_of_edge = np.repeat(np.arange(N, dtype=np.int64), d)
        edge_of_outcome = np.repeat(np.arange(E, dtype=np.int64), k)
        parent_of_outcome = node_of_edge[edge_of_outcome]
        bad = (ch <= parent_of_outcome) | (ch >= N)
        if np.any(bad):
            j = int(np.argmax(bad))
            raise InvalidMDPError(
                f"outcome {j} of edge {int(edge_of_outcome[j])} goes from node {int(parent_of_outcome[j])} "
                "to "
                f"node {int(ch[j])}; children must have a larger index than their parent and be < N = {N}"
            )
        if not np.all(np.isfinite(pr)) or np.any(pr <= 0) or np.any(pr > 1):
            j = int(np.argmax(~np.isfinite(pr) | (pr <= 0) | (pr > 1)))
            raise InvalidMDPError(f"prob[{j}] = {pr[j]!r} is not in (0, 1]")
        if M:
            sums = np.add.reduceat(pr, op[:-1])
            off = np.abs(sums - 1.0) > _PROB_TOL
            if np.any(off):
                e = int(np.argmax(off))
                raise InvalidMDPError(f"the outcome probabilities of edge {e} sum to {sums[e]!r}, expected 1")
        if not np.all(np.isfinite(rw)):
            n = int(np.argmax(~np.isfinite(rw)))
            raise InvalidMDPError(f"reward[{n}] = {rw[n]!r} is not finite")
        internal = d > 0
        if np.any(rw[internal] != 0):
            n = int(np.flatnonzero(internal & (rw != 0))[0])
            raise InvalidMDPError(f"reward[{n}] = {rw[n]!r} at an internal node; rewards must be terminal")
        indeg = np.bincount(ch, minlength=N)
        if N > 1 and np.any(indeg[1:] == 0):
            n = int(np.flatnonzero(indeg[1:] == 0)[0]) + 1
            raise InvalidMDPError(f"node {n} has no parent; every node but the root 0 must be reachable")
        if label is None:
            lb = np.arange(E, dtype=np.int64) - ap[node_of_edge]
        else:
            lb = np.asarray(label).astype(np.int64)
            if lb.shape != (E,):
                raise InvalidMDPError(f"label has shape {lb.shape}, expected ({E},)")
        n_vocab = int(d.max()) if vocab is None and E else 0
        if vocab is None:
            n_vocab = max(n_vocab, int(lb.max()) + 1 if E else 0)
            voc = tuple(str(i) for i in range(n_vocab))
        else:
            voc = tuple(str(v) for v in vocab)
            if len(set(voc)) != len(voc):
                raise InvalidMDPError(f"vocab has repeated tokens: {voc}")
        if E and (lb.min() < 0 or lb.max() >= len(voc)):
            e = int(np.argmax((lb < 0) | (lb >= len(voc))))
            raise InvalidMDPError(f"label[{e}] = {lb[e]} is not a token index in [0, {len(voc)})")
        if E:
            key = node_of_edge * (len(voc) + 1) + lb
            if np.unique(key).size != E:
                s = np.sort(key)
                dup = s[np.flatnonzero(np.diff(s) == 0)[0]]
                raise InvalidMDPError(
                    f"node {int(dup // (len(voc) + 1))} has two actions with token "
                    f"{voc[int(dup % (len(voc) + 1))]!r}"
                )
        pe = None
        if prob_exact is not None:
            pe = tuple(_as_fraction(x, f"prob_exact[{j}]") for j, x in enumerate(prob_exact))
            if len(pe) != M:
                raise InvalidMDPError(f"prob_exact has {len(pe)} entries, expected {M}")
            for e in range(E):
                s = sum(pe[op[e] : op[e + 1]], Fraction(0))
                if s != 1:
                    raise InvalidMDPError(
                        f"the exact outcome probabilities of edge {e} sum to {s}, expected 1"
                    )
            for j in range(M):
                if abs(float(pe[j]) - pr[j]) > 1e-15 or pe[j] <= 0:
                    raise InvalidMDPError(f"prob_exact[{j}] = {pe[j]} does not match prob[{j}] = {pr[j]!r}")
        re = None
        if reward_exact is not None:
            re = tuple(_as_fraction(x, f"reward_exact[{n}]") for n, x in enumerate(reward_exact))
            if len(re) != N:
                raise InvalidMDPError(f"reward_exact has {len(re)} entries, expected {N}")
            for n in range(N):
                if abs(float(re[n]) - rw[n]) > 1e-12 * max(1.0, abs(rw[n])):
                    raise InvalidMDPError(
                        f"reward_exact[{n}] = {re[n]} does not match reward[{n}] = {rw[n]!r}"
                    )
        self.action_ptr = _readonly(ap)
        self.outcome_ptr = _readonly(op)
        self.child = _readonly(ch)
        self.prob = _readonly(pr)
        self.reward = _readonly(rw)
        self.label = _readonly(lb)
        self.vocab = voc
        self.prob_exact = pe
        self.reward_exact = re
        self._cache: dict[str, Any] = {
            "node_of_edge": _readonly(node_of_edge),
            "edge_of_outcome": _readonly(edge_of_outcome),
            "indeg": indeg,
        }

    # ------------------------------------------------------------------ sizes and structure
    @property
    def n_nodes(self) -> int:
        """Number of nodes N."""
        return self.action_ptr.size - 1

    @property
    def n_edges(self) -> int:
        """Number of (state, action) pairs E."""
        return int(self.action_ptr[-1])

    @property
    def n_actions(self) -> np.ndarray:
        """Number of actions of each node, shape (N,); 0 at leaves."""
        return np.diff(self.action_ptr)

    @property
    def node_of_edge(self) -> np.ndarray:
        """The node each edge leaves from, shape (E,)."""
        return self._cache["node_of_edge"]

    @property
    def edge_of_outcome(self) -> np.ndarray:
        """The edge each outcome belongs to, shape (M,)."""
        return self._cache["edge_of_outcome"]

    @property
    def is_leaf(self) -> np.ndarray:
        """Boolean mask of the leaves (terminal states), shape (N,)."""
        return self.n_actions == 0

    @property
    def leaves(self) -> np.ndarray:
        """Indices of the leaves, increasing."""
        return np.flatnonzero(self.is_leaf)

    @property
    def success_leaves(self) -> np.ndarray:
        """Indices of the leaves with a positive reward (the 'solutions')."""
        return np.flatnonzero(self.is_leaf & (self.reward > 0))

    @property
    def R(self) -> float:
        """The largest terminal reward (the success reward of a binary tree)."""
        return float(self.reward[self.is_leaf].max())

    @property
    def depth(self) -> np.ndarray:
        """Longest-path depth of each node from the root, shape (N,); children are strictly deeper."""
        if "depth" not in self._cache:
            from mdpkit.rover import _numba

            dep = np.zeros(self.n_nodes, dtype=np.int64)
            _numba.depths(self.action_ptr, self.outcome_ptr, self.child, dep)
            self._cache["depth"] = _readonly(dep)
        return self._cache["depth"]

    @property
    def horizon(self) -> int:
        """The largest depth H (number of decisions on the longest path)."""
        return int(self.depth.max())

    @property
    def is_deterministic(self) -> bool:
        """True when every edge has exactly one outcome."""
        return bool(np.all(np.diff(self.outcome_ptr) == 1))

    @property
    def is_tree(self) -> bool:
        """True when every non-root node has exactly one incoming outcome (no merging states)."""
        return bool(np.all(self._cache["indeg"][1:] == 1))

    @property
    def is_binary(self) -> bool:
        r"""True when every terminal reward is 0 or one and the same :math:`R > 0` (the paper's binary
        rewards :math:`R(s) \in \{0, R\}`; a tree without any success qualifies)."""
        vals = np.unique(self.reward[self.is_leaf])
        return bool(np.all(vals >= 0) and np.count_nonzero(vals > 0) <= 1)

    @property
    def in_paper_class(self) -> bool:
        """True when the instance satisfies the assumptions of Theorems 3.1 and 3.2 of the ROVER paper:
        deterministic transitions, tree-structured state space, binary terminal rewards {0, R}, R > 0."""
        return self.is_deterministic and self.is_tree and self.is_binary

    def actions(self, node: int) -> slice:
        """The edge range of ``node``'s actions (use as ``q[tree.actions(node)]``)."""
        n = self._check_node(node)
        return slice(int(self.action_ptr[n]), int(self.action_ptr[n + 1]))

    def tokens(self, node: int) -> tuple[str, ...]:
        """The token names of ``node``'s actions, in edge order."""
        return tuple(self.vocab[t] for t in self.label[self.actions(node)])

    def children(self, edge: int) -> tuple[np.ndarray, np.ndarray]:
        """``(child nodes, probabilities)`` of the outcomes of ``edge``."""
        e = self._check_edge(edge)
        s = slice(int(self.outcome_ptr[e]), int(self.outcome_ptr[e + 1]))
        return self.child[s], self.prob[s]

    def edge(self, node: int, token: str | int) -> int:
        """The edge index of action ``token`` (name or index) at ``node``."""
        n = self._check_node(node)
        t = self.vocab.index(token) if isinstance(token, str) and token in self.vocab else token
        if isinstance(t, str) or not isinstance(t, numbers.Integral):
            raise InvalidArgumentError(f"token {token!r} is not in the vocabulary {self.vocab}")
        s = self.actions(n)
        hit = np.flatnonzero(self.label[s] == int(t))
        if hit.size == 0:
            raise InvalidArgumentError(
                f"node {n} has no action with token {token!r}; it has {self.tokens(n)}"
            )
        return s.start + int(hit[0])

    def node(self, path: str | Sequence[str | int]) -> int:
        """The node reached from the root by the token sequence ``path`` (deterministic edges only).

        A string is split into single characters when every token is one character long (``"ACD"``).
        """
        toks: Sequence[str | int]
        if isinstance(path, str):
            if all(len(v) == 1 for v in self.vocab):
                toks = list(path)
            else:
                toks = path.split()
        else:
            toks = path
        n = 0
        for t in toks:
            e = self.edge(n, t)
            kids, _ = self.children(e)
            if kids.size != 1:
                raise InvalidArgumentError(
                    f"edge {e} (token {t!r} at node {n}) is stochastic; no unique node"
                )
            n = int(kids[0])
        return n

    def path(self, node: int) -> tuple[str, ...]:
        """Tokens on a path from the root to ``node`` (the unique one in a tree; the first found in a DAG)."""
        n = self._check_node(node)
        if "parent_outcome" not in self._cache:
            first = np.full(self.n_nodes, -1, dtype=np.int64)
            # first incoming outcome of each node (outcomes are stored in parent order)
            rev = np.arange(self.child.size - 1, -1, -1)
            first[self.child[rev]] = rev
            self._cache["parent_outcome"] = first
        po = self._cache["parent_outcome"]
        toks: list[str] = []
        while n != 0:
            j = int(po[n])
            e = int(self.edge_of_outcome[j])
            toks.append(self.vocab[int(self.label[e])])
            n = int(self.node_of_edge[e])
        return tuple(reversed(toks))

    def path_str(self, node: int) -> str:
        """:meth:`path` joined into a string (no separator when all tokens are one character)."""
        sep = "" if all(len(v) == 1 for v in self.vocab) else " "
        return sep.join(self.path(node))

    def _check_node(self, node: object) -> int:
        if (
            isinstance(node, bool)
            or not isinstance(node, numbers.Integral)
            or not 0 <= int(node) < self.n_nodes
        ):
            raise InvalidArgumentError(f"node {node!r} is not in [0, {self.n_nodes})")
        return int(node)

    def _check_edge(self, edge: object) -> int:
        if (
            isinstance(edge, bool)
            or not isinstance(edge, numbers.Integral)
            or not 0 <= int(edge) < self.n_edges
        ):
            raise InvalidArgumentError(f"edge {edge!r} is not in [0, {self.n_edges})")
        return int(edge)

    # ------------------------------------------------------------------ exact data
    def exact_prob(self) -> tuple[Fraction, ...]:
        """Exact outcome probabilities (``prob_exact`` or the exact binary values of ``prob``)."""
        if self.prob_exact is not None:
            return self.prob_exact
        return tuple(Fraction(float(p)) for p in self.prob)

    def exact_reward(self) -> tuple[Fraction, ...]:
        """Exact terminal rewards (``reward_exact`` or the exact binary values of ``reward``)."""
        if self.reward_exact is not None:
            return self.reward_exact
        return tuple(Fraction(float(r)) for r in self.reward)

    # ------------------------------------------------------------------ conversions
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description: vocab, and per node its reward (a fraction string) and actions
        ``{token: [[child, prob], ...]}`` with probabilities as fraction strings.

        Inverse of :meth:`from_dict`.
        """
        pe, re = self.exact_prob(), self.exact_reward()
        nodes = []
        for n in range(self.n_nodes):
            acts = {}
            for e in range(int(self.action_ptr[n]), int(self.action_ptr[n + 1])):
                o = range(int(self.outcome_ptr[e]), int(self.outcome_ptr[e + 1]))
                acts[self.vocab[int(self.label[e])]] = [[int(self.child[j]), str(pe[j])] for j in o]
            nodes.append({"reward": str(re[n]), "actions": acts} if acts else {"reward": str(re[n])})
        return {"vocab": list(self.vocab), "nodes": nodes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tree:
        """Rebuild a tree written by :meth:`to_dict`."""
        vocab = list(data["vocab"])
        b = TreeBuilder(vocab)
        nodes = data["nodes"]
        ids = [
            b.add_node(_as_fraction(nd.get("reward", 0), f"nodes[{i}].reward")) for i, nd in enumerate(nodes)
        ]
        for i, nd in enumerate(nodes):
            for tok, outs in nd.get("actions", {}).items():
                b.add_action(ids[i], tok, [(ids[int(c)], p) for c, p in outs])
        return b.build()

    def to_spec(self) -> Any:
        """The nested specification of :func:`tree_from_spec` (trees only): a leaf is its exact reward, an
        internal node a dict ``{token: child}``, a stochastic child a list of ``(probability, node)``."""
        if not self.is_tree:
            raise InvalidArgumentError("to_spec needs a tree (this graph merges states); use to_dict")
        pe, re = self.exact_prob(), self.exact_reward()
        ap, op, ch = self.action_ptr.tolist(), self.outcome_ptr.tolist(), self.child.tolist()

        def rec(n: int) -> Any:
            if ap[n] == ap[n + 1]:
                return re[n]
            d: dict[str, Any] = {}
            for e in range(ap[n], ap[n + 1]):
                tok = self.vocab[int(self.label[e])]
                outs = range(op[e], op[e + 1])
                if len(outs) == 1:
                    d[tok] = rec(ch[op[e]])
                else:
                    d[tok] = [(pe[j], rec(ch[j])) for j in outs]
            return d

        return rec(0)

    def spec_str(self) -> str:
        """A compact readable form of :meth:`to_spec`: ``{a: 0, b: {a: 1, b: [1/2: 1, 1/2: 0]}}``."""

        def fmt(x: Any) -> str:
            if isinstance(x, dict):
                return "{" + ", ".join(f"{k}: {fmt(v)}" for k, v in x.items()) + "}"
            if isinstance(x, list):
                return "[" + ", ".join(f"{p}: {fmt(c)}" for p, c in x) + "]"
            return str(x)

        return fmt(self.to_spec())

    def to_finite_horizon(self) -> FiniteHorizonMDP:
        """The same decision problem as a :class:`mdpkit.FiniteHorizonMDP` (for cross-checks).

        States are the nodes, actions the positions ``0..A-1`` within a node (``A`` the largest branching;
        missing ones masked), the horizon is :attr:`horizon`; the reward of an outcome that enters a leaf is
        that leaf's reward, and leaves are absorbing with reward 0. The initial state is the root.
        """
        from mdpkit.core.model import FiniteHorizonMDP

        N, E = self.n_nodes, self.n_edges
        A = max(1, int(self.n_actions.max()))
        pos = np.arange(E) - self.action_ptr[self.node_of_edge]
        rows = self.node_of_edge[self.edge_of_outcome] * A + pos[self.edge_of_outcome]
        leaf_rows = self.leaves * A
        P = sp.csr_matrix(
            (
                np.concatenate([self.prob, np.ones(leaf_rows.size)]),
                (np.concatenate([rows, leaf_rows]), np.concatenate([self.child, self.leaves])),
            ),
            shape=(N * A, N),
        )
        mask = np.zeros((N, A), dtype=bool)
        mask[self.node_of_edge, pos] = True
        mask[self.leaves, 0] = True
        # rows of infeasible pairs: self-loops (the model ignores them under the mask)
        inf_rows = np.flatnonzero(~mask.ravel())
        P = P + sp.csr_matrix((np.ones(inf_rows.size), (inf_rows, inf_rows // A)), shape=(N * A, N))
        R = np.zeros((N, A))
        leaf_reward = np.where(self.is_leaf, self.reward, 0.0)
        np.add.at(
            R,
            (self.node_of_edge[self.edge_of_outcome], pos[self.edge_of_outcome]),
            self.prob * leaf_reward[self.child],
        )
        initial = np.zeros(N)
        initial[0] = 1.0
        return FiniteHorizonMDP(P.tocsr(), R, max(1, self.horizon), initial=initial, mask=mask)

    def __repr__(self) -> str:
        kind = []
        kind.append("tree" if self.is_tree else "DAG")
        kind.append("deterministic" if self.is_deterministic else "stochastic")
        kind.append("binary" if self.is_binary else "non-binary")
        return (
            f"Tree(N={self.n_nodes}, E={self.n_edges}, H={self.horizon}, leaves={self.leaves.size}, "
            f"solutions={self.success_leaves.size}, {', '.join(kind)})"
        )


class TreeBuilder:
    """Incremental construction of a :class:`Tree` from nodes and actions in any order.

    ``build()`` numbers the nodes in a topological order (Kahn's algorithm, breadth first from the root), so
    that children follow their parents, and keeps the actions of each node in insertion order.

    Examples
    --------
    >>> b = TreeBuilder(["L", "R"])
    >>> root, good, bad = b.add_node(), b.add_node(1), b.add_node(0)
    >>> b.add_action(root, "L", [(good, 1)]); b.add_action(root, "R", [(bad, 1)])
    >>> b.build().n_nodes
    3
    """

    def __init__(self, vocab: Sequence[str] | None = None) -> None:
        self._vocab: list[str] = [str(v) for v in vocab] if vocab is not None else []
        self._fixed_vocab = vocab is not None
        self._reward: list[Fraction] = []
        self._acts: list[list[tuple[int, list[tuple[int, Fraction]]]]] = []

    def add_node(self, reward: object = 0) -> int:
        """Add a node with terminal ``reward`` (used only if it stays a leaf) and return its id."""
        self._reward.append(_as_fraction(reward, f"reward of node {len(self._reward)}"))
        self._acts.append([])
        return len(self._reward) - 1

    def set_reward(self, node: int, reward: object) -> None:
        """Set the terminal reward of ``node`` (used only if it stays a leaf)."""
        if not 0 <= node < len(self._reward):
            raise InvalidArgumentError(f"node {node} does not exist (have {len(self._reward)})")
        self._reward[node] = _as_fraction(reward, f"reward of node {node}")

    def token_index(self, token: str | int) -> int:
        """Index of ``token`` in the vocabulary (added when the vocabulary was not given)."""
        if isinstance(token, numbers.Integral) and not isinstance(token, bool):
            t = int(token)
            if self._fixed_vocab and not 0 <= t < len(self._vocab):
                raise InvalidArgumentError(f"token index {t} is not in [0, {len(self._vocab)})")
            while t >= len(self._vocab):
                self._vocab.append(str(len(self._vocab)))
            return t
        s = str(token)
        if s not in self._vocab:
            if self._fixed_vocab:
                raise InvalidArgumentError(f"token {s!r} is not in the vocabulary {self._vocab}")
            self._vocab.append(s)
        return self._vocab.index(s)

    def add_action(self, node: int, token: str | int, outcomes: Iterable[tuple[int, object]] | int) -> None:
        """Add action ``token`` at ``node`` leading to ``outcomes``: a node id (deterministic) or pairs
        ``(child, probability)`` with probabilities as numbers or fraction strings (summing to 1)."""
        if not 0 <= node < len(self._reward):
            raise InvalidArgumentError(f"node {node} does not exist (have {len(self._reward)})")
        t = self.token_index(token)
        if any(t == t2 for t2, _ in self._acts[node]):
            raise InvalidArgumentError(f"node {node} already has an action with token {self._vocab[t]!r}")
        outs = [(outcomes, Fraction(1))] if isinstance(outcomes, numbers.Integral) else list(outcomes)
        res: list[tuple[int, Fraction]] = []
        for c, p in outs:
            if not 0 <= int(c) < len(self._reward):
                raise InvalidArgumentError(f"child {c} of node {node} does not exist")
            res.append((int(c), _as_fraction(p, f"probability of outcome {c} of node {node}")))
        if not res:
            raise InvalidArgumentError(f"action {token!r} at node {node} has no outcome")
        self._acts[node].append((t, res))

    def build(self, prune: bool = False) -> Tree:
        """The :class:`Tree`, rooted at node 0 (the first node added).

        With ``prune=True`` nodes unreachable from the root are dropped; otherwise they raise.
        Cycles raise :class:`InvalidMDPError`.
        """
        n0 = len(self._reward)
        if n0 == 0:
            raise InvalidMDPError("the builder has no node")
        reach = np.zeros(n0, dtype=bool)
        reach[0] = True
        stack = [0]
        while stack:
            n = stack.pop()
            for _, outs in self._acts[n]:
                for c, _ in outs:
                    if not reach[c]:
                        reach[c] = True
                        stack.append(c)
        if not reach.all() and not prune:
            raise InvalidMDPError(f"node {int(np.flatnonzero(~reach)[0])} is not reachable from the root 0")
        # Kahn's algorithm by levels of longest-path depth
        indeg = np.zeros(n0, dtype=np.int64)
        for n in range(n0):
            if reach[n]:
                for _, outs in self._acts[n]:
                    for c in {c for c, _ in outs}:
                        indeg[c] += 1
        order: list[int] = []
        frontier = deque([0])
        while frontier:
            n = frontier.popleft()
            order.append(n)
            for _, outs in self._acts[n]:
                for c in dict.fromkeys(c for c, _ in outs):
                    indeg[c] -= 1
                    if indeg[c] == 0:
                        frontier.append(c)
        if len(order) != int(reach.sum()):
            raise InvalidMDPError(
                "the transition graph has a cycle; a finite-horizon tree or DAG is required"
            )
        new = np.full(n0, -1, dtype=np.int64)
        new[order] = np.arange(len(order))
        action_ptr = [0]
        outcome_ptr = [0]
        child: list[int] = []
        pex: list[Fraction] = []
        label: list[int] = []
        rex: list[Fraction] = []
        for n in order:
            acts = self._acts[n]
            rex.append(self._reward[n] if not acts else Fraction(0))
            for t, outs in acts:
                label.append(t)
                merged: dict[int, Fraction] = {}
                for c, p in outs:
                    merged[int(new[c])] = merged.get(int(new[c]), Fraction(0)) + p
                for c, p in merged.items():
                    child.append(c)
                    pex.append(p)
                outcome_ptr.append(len(child))
            action_ptr.append(len(label))
        for n in order:
            if self._acts[n] and self._reward[n] != 0:
                raise InvalidMDPError(f"node {n} has actions and a non-zero reward {self._reward[n]}")
        return Tree(
            np.array(action_ptr, dtype=np.int64),
            np.array(outcome_ptr, dtype=np.int64),
            np.array(child, dtype=np.int64),
            np.array([float(p) for p in pex]),
            np.array([float(r) for r in rex]),
            label=np.array(label, dtype=np.int64),
            vocab=self._vocab if self._vocab else None,
            prob_exact=pex,
            reward_exact=rex,
        )


def tree_from_spec(spec: object, vocab: Sequence[str] | None = None) -> Tree:
    """A tree from a nested specification.

    A node is either a number (a leaf and its reward; ints, floats, Fractions or strings like ``"1/2"``) or a
    mapping ``{token: child}``. A child is a node, or for a stochastic action a list of pairs
    ``(probability, node)``.

    Examples
    --------
    >>> t = tree_from_spec({"a": {"x": 1, "y": 0}, "b": [("3/5", {"x": 1, "y": 1}), ("2/5", {"x": 0})]})
    >>> t.is_deterministic, t.n_nodes
    (False, 9)
    """
    b = TreeBuilder(vocab)

    def add(node_spec: object) -> int:
        if isinstance(node_spec, Mapping):
            if not node_spec:
                raise InvalidArgumentError(
                    "an internal node needs at least one action; use a number for a leaf"
                )
            n = b.add_node(0)
            for tok, sub in node_spec.items():
                if isinstance(sub, list):
                    outs = [(add(child_spec), p) for p, child_spec in sub]
                    b.add_action(n, tok, outs)
                else:
                    b.add_action(n, tok, add(sub))
            return n
        return b.add_node(node_spec)

    add(spec)
    return b.build()


def complete_tree(
    V: int,
    H: int,
    leaf_reward: np.ndarray,
    vocab: Sequence[str] | None = None,
) -> Tree:
    r"""The complete ``V``-ary tree of depth ``H`` ("token tree") with the given leaf rewards.

    Nodes are numbered breadth first: the children of node :math:`k` are :math:`Vk+1, \dots, Vk+V`, edge
    :math:`e` leads to node :math:`e+1`, and leaf :math:`i \in [0, V^H)` (node :math:`(V^H-1)/(V-1) + i`)
    is the token sequence of the base-:math:`V` digits of :math:`i`, most significant first.

    Parameters
    ----------
    V, H : int
        Vocabulary size and depth; :math:`V^H` leaves.
    leaf_reward : array (V**H,)
        Terminal rewards in leaf order.
    vocab : sequence of str, optional
        Token names (default ``"0".."V-1"``).
    """
    from mdpkit.envs._common import check_int

    V = check_int(V, "V", 1)
    H = check_int(H, "H", 0)
    L = V**H
    lr = np.asarray(leaf_reward, dtype=np.float64)
    if lr.shape != (L,):
        raise InvalidMDPError(f"leaf_reward has shape {lr.shape}, expected (V**H,) = ({L},)")
    n_internal = (L - 1) // (V - 1) if V > 1 else H
    N = n_internal + L
    action_ptr = np.concatenate([np.arange(n_internal + 1, dtype=np.int64) * V, np.full(L, n_internal * V)])
    E = n_internal * V
    reward = np.zeros(N)
    reward[n_internal:] = lr
    label = np.tile(np.arange(V, dtype=np.int64), n_internal)
    return Tree(
        action_ptr,
        np.arange(E + 1, dtype=np.int64),
        np.arange(1, E + 1, dtype=np.int64),
        np.ones(E),
        reward,
        label=label,
        vocab=vocab if vocab is not None else [str(i) for i in range(V)],
    )


def paper_toy(R: float = 1.0) -> Tree:
    r"""The didactic example of the ROVER paper (§3.1, Fig. 5a).

    Tokens ``A, B, C, D`` are appended to an empty state three times (:math:`4^3 = 64` leaves); the four
    sequences ``ACD, BDC, CAB, DBA`` earn reward ``R`` (1 in the paper) and all others 0. Deterministic,
    tree-structured, binary terminal rewards: the class of Theorems 3.1 and 3.2.
    """
    vocab = ("A", "B", "C", "D")
    leaf = np.zeros(64)
    for s in PAPER_TOY_SOLUTIONS:
        leaf[sum(vocab.index(c) * 4 ** (2 - i) for i, c in enumerate(s))] = R
    return complete_tree(4, 3, leaf, vocab=vocab)
