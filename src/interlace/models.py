"""Switch models: where a thread switch may happen.

A model names an interpreter family and answers one question for every bytecode boundary: can
that interpreter hand the CPU to another thread here?  The opcode tables that implement each
model live in :mod:`interlace.bytecode.opsets`; ``docs/switch-models.md`` derives them from
CPython's evaluation loop.
"""

from __future__ import annotations

import enum

from .bytecode.opsets import NEWEST_KNOWN, PY


def _gil_versions() -> str:
    """The GIL interpreters the ``gil`` model speaks for.

    It applies the running interpreter's rules (its own bytecode and eval-breaker sites).
    3.10 checks after every call where 3.11+ do not; 3.11-3.15 check at the same families of
    opcodes (``HAS_EVAL_BREAK_FLAG`` in their ``pycore_opcode_metadata.h``, checked by
    tests/test_opsets.py), so the answer holds for 3.10 when run on 3.10, for 3.11-3.15
    otherwise.  A newer interpreter is named as itself: the tables do not know it yet.
    """
    newest = f"{NEWEST_KNOWN[0]}.{NEWEST_KNOWN[1]}"
    if PY < (3, 11):
        return "3.10"
    if PY <= NEWEST_KNOWN:
        return f"3.11-{newest}"
    return f"{PY[0]}.{PY[1]} (rules of 3.11-{newest})"


GIL_VERSIONS = _gil_versions()


class Model(str, enum.Enum):
    """A switch model, selected with ``--model``."""

    #: Free-threaded CPython (3.13t+), PyPy-like preemption: a switch may come before any
    #: instruction that reads or writes state other threads can see.
    FREE_THREADED = "free-threaded"
    #: CPython 3.10-3.15 with the GIL: only where the running interpreter checks its eval
    #: breaker (function entry, loop back-edges, after calls into C; 3.10 also taken jumps).
    GIL = "gil"
    #: CPython <= 3.9: after every instruction except the "fast" ones that skip the check.
    GIL_39 = "gil-3.9"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @classmethod
    def parse(cls, text: str) -> "Model":
        for model in cls:
            if model.value == text:
                return model
        choices = ", ".join(m.value for m in cls)
        raise ValueError(f"unknown model {text!r}: choose one of {choices}")


_DESCRIPTIONS = {
    Model.FREE_THREADED: "free-threaded CPython (a switch before any shared access)",
    Model.GIL: f"CPython {GIL_VERSIONS} with the GIL (switches at calls, loop back-edges, function entry)",
    Model.GIL_39: "CPython <= 3.9 with the GIL (a switch after almost every instruction)",
}

#: Human labels used when a bug is checked under every model (``--model all``).
MODEL_LABELS = {
    Model.FREE_THREADED: "free-threaded",
    Model.GIL: f"CPython {GIL_VERSIONS}",
    Model.GIL_39: "CPython <= 3.9",
}
