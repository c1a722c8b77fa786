"""interlace: find thread races by running a program's threads one at a time and searching
the interleavings.

The Python API (see ``docs/api.md``)::

    result = interlace.explore(setup, [worker, worker], invariant)
    result.assert_ok()      # AssertionError with the interleaving and the replay call

The command line is ``interlace run SCRIPT``; the pytest plugin is ``pytest --interlace``.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import ExploreResult, Failure, check, explore, replay, replay_script
    from .lincheck import LinearizabilityResult, check_linearizable
    from .models import Model

__version__ = "0.1.0"

_LAZY = {"explore": "api", "replay": "api", "replay_script": "api", "check": "api",
         "ExploreResult": "api", "Failure": "api", "Model": "models",
         "check_linearizable": "lincheck", "LinearizabilityResult": "lincheck"}


def __getattr__(name: str) -> Any:
    """The API on first use: the command line (``interlace run``) does not import it."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'interlace' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

__all__ = ["explore", "replay", "replay_script", "check", "ExploreResult", "Failure", "Model",
           "check_linearizable", "LinearizabilityResult", "__version__"]
