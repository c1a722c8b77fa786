"""The replayable schedule and its token: plain text, versioned, never executed when loaded.

A schedule is its list of *deviations*: ``(step, thread)`` pairs, the choices that differ from
the default one (keep running the current thread; when it cannot run, the lowest-numbered
thread that can).  Every execution records its own (``Outcome.deviations``), a replay follows
one (``runtime.policies.Replay``), the shrinker shortens one, and :class:`Schedule` ties one to
the program, model and interpreter it was recorded for.  All of them use the one type,
:data:`~interlace.outcome.Deviations`; this module is the only one that reads or writes a
token.

Systematic search alone speaks another language: ``engine.dpor.Branch`` is a *prefix* of
chosen threads (one per choice point, the default choices included), because DPOR reasons
about the choice points of a whole execution.  It never becomes a token directly: a DPOR
execution, like every other, reports its own deviations, and those are what gets printed.

``il1:py311:free-threaded:3f2a9c1e:31.2,39.0`` reads: format 1, recorded on Python 3.11,
under the free-threaded model, for the script whose source hashes to ``3f2a9c1e``; at
scheduling step 31 run thread 2, at step 39 run thread 0; everywhere else, the default
choice (keep running the current thread).
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..models import Model
from ..outcome import Deviations
from ..runtime.policies import Replay

if TYPE_CHECKING:
    from ..config import SearchConfig

__all__ = ["Deviations", "Schedule", "program_hash", "python_tag", "script_hash", "FORMAT"]

FORMAT = "il1"
_STEP = re.compile(r"^(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Schedule:
    model: Model
    python: str
    script_hash: str
    deviations: Deviations

    @classmethod
    def of(cls, config: "SearchConfig", deviations: Deviations) -> "Schedule":
        """The schedule ``deviations`` of ``config``'s program, on this interpreter."""
        return cls(config.model, python_tag(), program_hash(config),
                   tuple((int(step), int(tid)) for step, tid in deviations))

    def policy(self) -> Replay:
        """What an execution follows to replay this schedule."""
        return Replay(self.deviations)

    def token(self) -> str:
        body = ",".join(f"{step}.{tid}" for step, tid in self.deviations) or "-"
        return f"{FORMAT}:{self.python}:{self.model.value}:{self.script_hash}:{body}"

    @classmethod
    def parse(cls, token: str) -> "Schedule":
        parts = token.strip().split(":")
        if len(parts) != 5 or parts[0] != FORMAT:
            raise ValueError(f"not an interlace {FORMAT} schedule token: {token!r} "
                             f"(expected {FORMAT}:PYTHON:MODEL:HASH:STEPS)")
        _, python, model, script_hash, body = parts
        deviations = []
        if body != "-":
            for item in body.split(","):
                match = _STEP.match(item)
                if not match:
                    raise ValueError(f"bad step {item!r} in schedule token (expected STEP.THREAD)")
                deviations.append((int(match.group(1)), int(match.group(2))))
        return cls(Model.parse(model), python, script_hash, tuple(deviations))


def program_hash(config: "SearchConfig") -> str:
    """The ``HASH`` of a program's replay tokens: its script's source, or its target's code."""
    return config.target.code_hash if config.target is not None else script_hash(config.script)


def python_tag() -> str:
    return f"py{sys.version_info[0]}{sys.version_info[1]}"


def script_hash(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:8]
