"""interlace: find thread races by running a program's threads one at a time and searching
the interleavings.

The Python API (see ``docs/api.md``)::

    result = interlace.explore(setup, [worker, worker], invariant)
    result.assert_ok()      # AssertionError with the interleaving and the replay call

The command line is ``interlace run SCRIPT``; the pytest plugin is ``pytest --interlace``.
"""

from .api import ExploreResult, Failure, check, explore, replay, replay_script
from .models import Model

__version__ = "0.1.0"

__all__ = ["explore", "replay", "replay_script", "check", "ExploreResult", "Failure", "Model",
           "__version__"]
