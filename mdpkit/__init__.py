"""mdpkit: exact solvers for tabular and linear MDPs, recent RL-theory algorithms, and executable checks
of their theorems.

Quick start::

    import mdpkit
    mdp = mdpkit.envs.riverswim(6, gamma=0.95)
    sol = mdpkit.solve(mdp, method="pi")
    sol.V, sol.policy
"""

from mdpkit.core import *  # noqa: F403
from mdpkit.core import __all__ as _core_all
from mdpkit.errors import (
    BackendUnavailableError,
    ConvergenceError,
    InvalidArgumentError,
    InvalidMDPError,
    InvalidPolicyError,
    MdpkitError,
    MultichainError,
)

__version__ = "0.1.0"

__all__ = [
    *_core_all,
    "MdpkitError",
    "InvalidMDPError",
    "InvalidPolicyError",
    "InvalidArgumentError",
    "MultichainError",
    "ConvergenceError",
    "BackendUnavailableError",
]


#: sub-packages imported on first attribute access, so that `import mdpkit` stays light
_LAZY = {
    "envs",
    "claims",
    "experiments",
    "policy_gradient",
    "rover",
    "combinatorial",
    "robust",
    "morl",
    "average",
    "latent",
    "linear",
    "plotting",
}


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        return importlib.import_module(f"mdpkit.{name}")
    raise AttributeError(f"module 'mdpkit' has no attribute {name!r}")
