"""Loading the optional C accelerator ``interlace._accel`` (its API: ``_accel.pyi``).

The one place that imports it.  ``hooks/`` (the C hook) and ``runtime/`` (the C batons) both
use this module; it imports neither, so the two layers stay one-way (runtime -> hooks).
``INTERLACE_PURE_PYTHON=1`` forces the pure-Python path: hooks and thread batons alike.
"""

from __future__ import annotations

import _thread
import os
from types import ModuleType
from typing import Callable, Iterable, Optional

_UNSET = object()
_module: object = _UNSET


def accelerator() -> Optional[ModuleType]:
    """The C accelerator module, or ``None`` (not built, or ``INTERLACE_PURE_PYTHON=1``)."""
    global _module
    if _module is _UNSET:
        _module = None
        if os.environ.get("INTERLACE_PURE_PYTHON", "") in ("", "0"):
            try:
                from . import _accel as module
            except ImportError:
                pass
            else:
                _module = module
    return _module  # type: ignore[return-value]


class FlagMismatch(RuntimeError):
    """The scheduler's mirrored flags and the built accelerator's disagree (a stale build)."""


def check_flags(names: Iterable[str], module: ModuleType) -> None:
    """Fail loudly when ``names`` (``Scheduler.ACCEL_FLAGS``) are not the C module's ``FLAGS``.

    A mismatch means ``_accel.c`` and the scheduler come from different versions: mirroring
    only some flags would let C read stale state (wrong schedules), and giving up the fast
    path silently would hide it.  Rebuilding the extension (``pip install -e .``) fixes it.
    """
    ours, theirs = tuple(names), tuple(getattr(module, "FLAGS", ()))
    if set(ours) != set(theirs):
        raise FlagMismatch(
            f"interlace internal error: the scheduler mirrors the flags {sorted(ours)} but the "
            f"built accelerator {getattr(module, '__file__', module)!r} knows {sorted(theirs)}; "
            f"rebuild it (pip install -e .) or set INTERLACE_PURE_PYTHON=1")


def batons() -> tuple[Callable[[], object], Optional[Callable[[object, object], None]]]:
    """``(new_baton, handoff)``: C semaphores with a GIL-free hand-off when the accelerator is
    there, else ``_thread`` locks and ``None`` (the hand-off is done in Python)."""
    module = accelerator()
    if module is None:
        return _thread.allocate_lock, None
    return module.Baton, module.handoff


def pin_to_one_cpu() -> None:
    """Keep this (forked, one execution) process on the CPU it runs on.

    Only one managed thread runs at a time, so nothing is lost, and a hand-off becomes a
    context switch on one core instead of a wake-up of an idle one: measured 4x more hand-offs
    per second with locks, 11x with the C batons (docs/benchmarks.md, "Accelerator").
    ``INTERLACE_NO_PIN=1`` leaves the affinity alone (programs that start CPU-bound
    subprocesses or native thread pools inherit it).
    """
    if os.environ.get("INTERLACE_NO_PIN") or not hasattr(os, "sched_setaffinity"):
        return
    try:
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            return
        with open("/proc/self/stat", "rb") as handle:  # field 39: the CPU it last ran on
            cpu = int(handle.read().rsplit(b")", 1)[1].split()[36])
        os.sched_setaffinity(0, {cpu if cpu in allowed else allowed[os.getpid() % len(allowed)]})
    except (OSError, ValueError, IndexError):
        pass
