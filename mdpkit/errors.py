"""The exceptions mdpkit raises. Every user-facing error derives from :class:`MdpkitError`."""

from __future__ import annotations


class MdpkitError(Exception):
    """Base class of every error mdpkit raises on purpose."""


class InvalidMDPError(MdpkitError, ValueError):
    """A model (transition kernel, reward, discount, horizon, initial distribution) is malformed.

    The message names the offending index and value, e.g. ``P[3, 1, :] sums to 0.97, expected 1``.
    """


class InvalidPolicyError(MdpkitError, ValueError):
    """A policy has the wrong shape, is not a stochastic matrix, or uses an infeasible action."""


class InvalidArgumentError(MdpkitError, ValueError):
    """A solver option (method, tolerance, backend, ...) is not valid."""


class MultichainError(MdpkitError):
    """An average-reward model whose optimal gain is not constant across states.

    Relative value iteration and the unichain LP only apply to models with constant optimal gain
    (e.g. communicating or weakly communicating MDPs, Puterman 1994, section 8.3).
    """


class ConvergenceError(MdpkitError):
    """An iterative method did not reach its tolerance within its iteration budget (when asked to raise)."""


class BackendUnavailableError(MdpkitError):
    """The requested backend or device is not available (e.g. ``device="cuda"`` without a GPU)."""
