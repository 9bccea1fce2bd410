"""Where a record came from: package version, git commit of the mdpkit source tree, interpreter and host.

Computed once per process (a sweep's workers each compute their own, so a record names the code that really
produced it, even on a cluster whose workers run another checkout).
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

__all__ = ["code_version", "environment", "provenance"]


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def code_version() -> dict[str, object]:
    """``{"mdpkit_version", "git_commit", "git_dirty"}`` of the imported mdpkit package.

    ``git_commit`` is ``git rev-parse HEAD`` of the repository holding the package's source (None for an
    installed wheel or without git); ``git_dirty`` says whether tracked files differ from that commit.
    """
    import mdpkit

    pkg = Path(mdpkit.__file__).resolve().parent
    commit = _git(["rev-parse", "HEAD"], pkg)
    dirty = None
    if commit is not None:
        status = _git(["status", "--porcelain", "--untracked-files=no"], pkg)
        dirty = None if status is None else bool(status)
    return {"mdpkit_version": mdpkit.__version__, "git_commit": commit, "git_dirty": dirty}


@functools.lru_cache(maxsize=1)
def environment() -> dict[str, object]:
    """``{"python", "numpy", "numba", "platform", "host"}`` of this process."""
    import numba
    import numpy

    return {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
        "host": socket.gethostname(),
    }


def provenance() -> dict[str, object]:
    """:func:`code_version` and :func:`environment` merged, plus the process id."""
    return {**code_version(), **environment(), "pid": os.getpid()}
