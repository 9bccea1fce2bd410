"""Helpers for the teaching notebooks (``notebooks/``): checking a reader's answer to an exercise.

Each exercise cell of a notebook is followed by ``check(name, answer, expected)``, where ``expected`` is
mdpkit's exact result; an answer left as ``None`` is skipped, so that every notebook runs top to bottom.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check"]


def check(name: str, answer: object, expected: object, atol: float = 1e-8) -> bool | None:
    r"""Compare an exercise answer with mdpkit's exact result, elementwise.

    Passes when the shapes agree and :math:`\max_i |\mathrm{answer}_i - \mathrm{expected}_i| \le`
    ``atol``; prints the outcome.

    Parameters
    ----------
    name : str
        The exercise, as shown in the message.
    answer : array-like or None
        The reader's answer; ``None`` means "not answered yet" (skipped, nothing asserted).
    expected : array-like
        The exact result computed with mdpkit.
    atol : float
        Absolute tolerance (default 1e-8).

    Returns
    -------
    bool or None
        ``True`` when the answer is correct, ``None`` when it was not given.

    Raises
    ------
    AssertionError
        With the shapes or the size of the error when the answer is wrong.
    """
    if answer is None:
        print(f"{name}: not answered yet (the solution is at the end of the notebook).")
        return None
    got, want = np.asarray(answer, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
    err = float(np.max(np.abs(got - want), initial=0.0))
    assert err <= atol, f"{name}: {got} is off by {err:.3g} from mdpkit's {want} (tol {atol:g})"
    print(f"{name}: correct (max error {err:.1e}).")
    return True
