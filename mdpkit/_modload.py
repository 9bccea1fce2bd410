"""Import a Python file by path as its own module: the loader behind ``proofs/`` and ``paper_figures/``.

Claim files (:mod:`mdpkit.claims.registry`) and figure scripts (:mod:`mdpkit.plotting.figure`) are plain
``.py`` files in folders that are not packages. Each is loaded by path under a unique module name
``<prefix>_<stem>_<hash of the absolute path>``, registered in :data:`sys.modules` (so dataclasses,
``typing.get_type_hints`` and pickling by reference work), with the file's folder on :data:`sys.path` while it
executes (so a file may import ``_helpers`` next to it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from mdpkit.errors import MdpkitError

__all__ = ["ModuleLoadError", "module_name", "load_module"]


class ModuleLoadError(MdpkitError):
    """The file cannot be imported as a Python module at all (not a Python source file)."""


def module_name(path: str | Path, prefix: str) -> str:
    """The module name a file is loaded under: ``<prefix>_<stem>_<10 hex digits of sha1(abs path)>``.

    Parameters
    ----------
    path : str or Path
        The file.
    prefix : str
        E.g. ``"mdpkit_proofs"`` or ``"mdpkit_figures"``.

    Returns
    -------
    str
        A valid, stable, collision-free identifier for the file.
    """
    path = Path(path).resolve()
    digest = hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:10]
    stem = "".join(ch if ch.isalnum() else "_" for ch in path.stem)
    return f"{prefix}_{stem}_{digest}"


def load_module(path: str | Path, prefix: str) -> ModuleType:
    """Execute the file at ``path`` as the module :func:`module_name` ``(path, prefix)`` and return it.

    Parameters
    ----------
    path : str or Path
        A ``.py`` file.
    prefix : str
        Module-name prefix, see :func:`module_name`.

    Returns
    -------
    ModuleType
        The executed module, registered in :data:`sys.modules` (re-loading the same file replaces it).

    Raises
    ------
    ModuleLoadError
        If the file cannot be imported as a module at all (not a Python source file).
    Exception
        Whatever the file raises while it executes (the module is then removed from ``sys.modules``).
    """
    path = Path(path).resolve()
    name = module_name(path, prefix)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModuleLoadError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)
    return module
