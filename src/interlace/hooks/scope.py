"""Which code gets switch points: the user's code, not the stdlib, site-packages or interlace."""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
import types
from typing import Iterable

#: interlace's own source tree: never instrumented, hidden from traces.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=None)  # computed once, in the parent: every fork inherits it
def _library_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    dirs = {paths.get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    dirs |= {os.path.join(p, "lib") for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return sorted({os.path.realpath(d) + os.sep for d in dirs if d})


class Scope:
    """Decides per code object, cached per file name (never hashes code objects)."""

    def __init__(self, include_packages: Iterable[str] = ()) -> None:
        self._excluded = [*_library_dirs(), PACKAGE_DIR + os.sep]
        self._included = [_package_dir(name) for name in include_packages]
        self._cache: dict[str, bool] = {}

    def includes(self, code: types.CodeType) -> bool:
        filename = code.co_filename
        verdict = self._cache.get(filename)
        if verdict is None:
            verdict = self._cache[filename] = self._decide(filename)
        return verdict

    def _decide(self, filename: str) -> bool:
        if filename.startswith("<"):
            return False
        path = os.path.realpath(filename)
        if any(path.startswith(d) for d in self._included):
            return True
        return not any(path.startswith(d) for d in self._excluded)


def _package_dir(name: str) -> str:
    """Directory of an importable package, without importing it (``--include`` names)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not (spec.submodule_search_locations or spec.origin):
        raise ValueError(f"--include: no importable package or module named {name!r}")
    if spec.submodule_search_locations:
        return os.path.realpath(list(spec.submodule_search_locations)[0]) + os.sep
    return os.path.realpath(spec.origin)
