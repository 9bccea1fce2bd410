r"""Counterexample search with hypothesis inside a claim's check, and strategies for small rational MDPs.

A check that wants the *smallest* instance violating a property calls :func:`search_counterexample` with a
hypothesis strategy and a predicate; hypothesis generates up to ``budget.max_examples`` instances from a
seed fixed by ``(budget.seed, key)`` (so a verdict is reproducible bit for bit), and shrinks the first
violation it finds to a minimal one. The strategies :func:`rational_mdps`, :func:`rational_policies` and
:func:`rational_instances` draw :class:`~mdpkit.claims.exact.RationalMDP` models with small integer weights,
so that shrunk counterexamples are tiny, exact and readable (weights shrink towards 0, a row of zero weights
becomes a self-loop).

Example
-------
>>> from mdpkit.claims import Budget
>>> from mdpkit.claims.exact import exact_performance_difference
>>> res = search_counterexample(
...     rational_instances(n_policies=2),
...     lambda inst: (lambda l, r: l != r)(*exact_performance_difference(inst[0], *inst[1])),
...     Budget.named("quick"), key="pdl")
>>> res.found
False

hypothesis is imported lazily: ``import mdpkit.claims`` works without it.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from mdpkit.claims.base import Budget
from mdpkit.claims.exact import RationalMDP
from mdpkit.errors import InvalidArgumentError

__all__ = [
    "SearchResult",
    "search_counterexample",
    "rational_mdps",
    "rational_policies",
    "rational_instances",
]


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`search_counterexample`.

    Attributes
    ----------
    found : bool
        Whether a violating example was found.
    example : object or None
        The shrunk (minimal) violating example.
    calls : int
        How many times the predicate was evaluated (generation and shrinking).
    max_examples : int
        The generation budget used.
    seed : int
        The seed hypothesis ran with (derived from ``budget.seed`` and ``key``).
    """

    found: bool
    example: Any
    calls: int
    max_examples: int
    seed: int

    def summary(self) -> str:
        """One line for a verdict's evidence."""
        what = "found a violation" if self.found else "found no violation"
        return (
            f"hypothesis search ({self.max_examples} examples, seed {self.seed}): {what} "
            f"in {self.calls} predicate calls"
        )


def search_counterexample(
    strategy: Any,
    violates: Callable[[Any], bool],
    budget: Budget,
    *,
    key: str = "",
    max_examples: int | None = None,
) -> SearchResult:
    """Search for the smallest example of ``strategy`` on which ``violates(example)`` is true.

    Runs :func:`hypothesis.find` with ``max_examples`` (default ``budget.max_examples``), no deadline, no
    example database, every health check off, and a ``random.Random`` seeded with
    ``[budget.seed, crc32(key)]``: the same budget and key give the same search and the same shrunk example
    in every run. An exception raised by ``violates`` propagates (after hypothesis shrinks it), so a check
    that crashes is reported as an error, not as a refutation.

    Parameters
    ----------
    strategy : hypothesis SearchStrategy
        The instances to search over (e.g. :func:`rational_instances`).
    violates : callable(example) -> bool
        True when the example violates the claim.
    budget : Budget
    key : str
        Distinguishes independent searches of one check (and of different claims); use the claim id.
    max_examples : int, optional
        Overrides ``budget.max_examples``.

    Returns
    -------
    SearchResult
    """
    from hypothesis import HealthCheck, Phase, Verbosity, find, settings
    from hypothesis.errors import NoSuchExample

    n = budget.max_examples if max_examples is None else int(max_examples)
    if n < 1:
        raise InvalidArgumentError(f"max_examples = {n} must be at least 1")
    seed = (budget.seed * 0x9E3779B1 + zlib.crc32(key.encode("utf-8"))) % 2**32
    calls = 0

    def condition(example: Any) -> bool:
        nonlocal calls
        calls += 1
        return bool(violates(example))

    cfg = settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    try:
        example = find(strategy, condition, settings=cfg, random=random.Random(seed))
    except NoSuchExample:
        return SearchResult(False, None, calls, n, seed)
    return SearchResult(True, example, calls, n, seed)


# --------------------------------------------------------------------------------------------- strategies
def _weights_to_distribution(w: Sequence[int], fallback: int | None) -> list[Fraction]:
    """Integer weights -> exact distribution; all-zero -> point mass at ``fallback`` (uniform if None)."""
    total = sum(w)
    n = len(w)
    if total == 0:
        if fallback is None:
            return [Fraction(1, n)] * n
        return [Fraction(int(i == fallback)) for i in range(n)]
    return [Fraction(int(x), total) for x in w]


def rational_mdps(
    max_S: int = 3,
    max_A: int = 2,
    max_weight: int = 3,
    gammas: Sequence[object] = ("0", "1/2", "9/10"),
    reward_range: tuple[int, int] = (-3, 3),
    reward_denominators: Sequence[int] = (1, 2),
    min_S: int = 1,
    min_A: int = 1,
    random_initial: bool = True,
) -> Any:
    r"""Hypothesis strategy of small :class:`~mdpkit.claims.exact.RationalMDP` models.

    ``P(\cdot|s, a)`` is proportional to integer weights in ``[0, max_weight]`` (all zero: a self-loop),
    rewards are ``k / q`` with ``k`` in ``reward_range`` and ``q`` in ``reward_denominators``, ``gamma`` is
    drawn from ``gammas`` and the initial distribution is proportional to integer weights (all zero:
    uniform) or uniform when ``random_initial`` is False. Everything shrinks towards one state, one action,
    self-loops, zero rewards and the first ``gamma``.
    """
    from hypothesis import strategies as st

    gam = [Fraction(str(g)) if not isinstance(g, Fraction) else g for g in gammas]

    @st.composite
    def build(draw: Any) -> RationalMDP:
        S = draw(st.integers(min_S, max_S))
        A = draw(st.integers(min_A, max_A))
        weight = st.integers(0, max_weight)
        P = np.empty((S, A, S), dtype=object)
        for s in range(S):
            for a in range(A):
                P[s, a, :] = _weights_to_distribution(draw(st.lists(weight, min_size=S, max_size=S)), s)
        R = np.empty((S, A), dtype=object)
        for s in range(S):
            for a in range(A):
                k = draw(st.integers(*reward_range))
                q = draw(st.sampled_from(list(reward_denominators)))
                R[s, a] = Fraction(k, q)
        g = draw(st.sampled_from(gam))
        mu = None
        if random_initial:
            mu = _weights_to_distribution(draw(st.lists(weight, min_size=S, max_size=S)), None)
        return RationalMDP(P, R, g, mu)

    return build()


def rational_policies(S: int, A: int, max_weight: int = 3, deterministic: bool | None = None) -> Any:
    """Hypothesis strategy of exact policies (S, A) for a model with every action feasible.

    Stochastic rows are proportional to integer weights in ``[0, max_weight]`` (all zero: action 0);
    ``deterministic=True`` draws one-hot rows, ``None`` either kind.
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> np.ndarray:
        det = draw(st.booleans()) if deterministic is None else deterministic
        pi = np.empty((S, A), dtype=object)
        for s in range(S):
            if det:
                a = draw(st.integers(0, A - 1))
                pi[s, :] = [Fraction(int(b == a)) for b in range(A)]
            else:
                w = draw(st.lists(st.integers(0, max_weight), min_size=A, max_size=A))
                pi[s, :] = _weights_to_distribution(w, 0)
        return pi

    return build()


def rational_instances(n_policies: int = 2, deterministic: bool | None = None, **mdp_options: Any) -> Any:
    """Hypothesis strategy of ``(RationalMDP, (pi_1, ..., pi_n))``: a model and ``n_policies`` policies.

    ``mdp_options`` go to :func:`rational_mdps`; policies come from :func:`rational_policies`.
    """
    from hypothesis import strategies as st

    return rational_mdps(**mdp_options).flatmap(
        lambda m: st.tuples(
            st.just(m),
            st.tuples(*[rational_policies(m.S, m.A, deterministic=deterministic) for _ in range(n_policies)]),
        )
    )
