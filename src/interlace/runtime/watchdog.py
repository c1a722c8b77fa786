"""Keeps an execution moving when a thread blocks where the scheduler cannot see it.

A thread blocked in native code (``socket.recv``, ``subprocess.wait``, a lock that existed
before interlace took over) never reaches another scheduling point, and would freeze every
other thread.  The watchdog samples the running thread.  It counts as blocked only from its
own state, never from elapsed time alone: on Linux the kernel must show it asleep (state
``S`` or ``D`` in ``/proc/self/task/TID/stat``, i.e. waiting in a system call, not running or
waiting for a CPU) at every sample, and it must not have used CPU time, moved to another
instruction, or passed a scheduling point, and no garbage collection may have run, for
``threshold`` seconds.  A thread busy computing (pure-Python loops, a long C call) is running
or runnable, so it is never taken for blocked, however busy the machine is: the same seed then
gives the same schedule on every run.  (Elsewhere, without ``/proc``, position alone decides.)

A blocked thread is marked OUTSIDE, another thread gets the turn, and the thread rejoins the
schedule on its next hook call.  Everything it did meanwhile is outside control, which the
result says.
"""

from __future__ import annotations

import _thread
import gc
import sys
import time
from typing import TYPE_CHECKING, Optional

from .policies import default_choice
from .threads import State

if TYPE_CHECKING:
    from .scheduler import Scheduler

_sleep = time.sleep
_monotonic = time.monotonic


#: Garbage-collection phases (starts and stops) seen in this process.  A collection stops
#: every thread; a long one (a forked execution inherits its parent's whole heap, and a
#: free-threaded build collects all of it every time) must not look like a blocked thread.
_gc_phases = 0


def _count_gc_phase(phase: str, info: dict) -> None:
    global _gc_phases
    _gc_phases += 1


def start(sched: "Scheduler", threshold: float = 0.25, period: float = 0.05) -> None:
    if _count_gc_phase not in gc.callbacks:
        gc.callbacks.append(_count_gc_phase)
    _thread.start_new_thread(_watch, (sched, threshold, period))


def _watch(sched: "Scheduler", threshold: float, period: float) -> None:
    last_key = None
    since = _monotonic()
    while not sched.finished:
        _sleep(period)
        current = sched.current
        if current is None or current.ident is None:
            last_key = None
            continue
        asleep, cpu = _kernel_state(current.native_id)
        key = (*_position(sched, current), _gc_phases, cpu)
        if key != last_key or asleep is False:
            last_key, since = key, _monotonic()
            continue
        if _monotonic() - since >= threshold:
            _take_turn_from(sched, current, key[3])
            last_key = None


def _kernel_state(native_id) -> tuple[Optional[bool], Optional[int]]:
    """``(asleep in the kernel?, CPU ticks used)`` of a thread of this process; ``None`` where
    the kernel does not say (no ``/proc``).  ``R`` (running, or ready and waiting for a CPU) is
    not asleep: only a thread that waits in a system call can be blocked outside control."""
    if native_id is None:
        return None, None
    try:
        with open(f"/proc/self/task/{native_id}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None, None
    # fields[0] is field 3 of proc(5) (state); utime and stime are fields 14 and 15
    return fields[0] in (b"S", b"D"), int(fields[11]) + int(fields[12])


def _position(sched: "Scheduler", thread) -> tuple:
    """Where ``thread`` is: the scheduler's point count and its innermost frame's instruction.

    No reference to the frame outlives this call: a frame object the watchdog kept would keep
    that frame's locals alive after it returned (an executor whose weakref callback wakes its
    workers, say), and free them later, in this thread, at a moment no schedule decides.
    """
    frame = sys._current_frames().get(thread.ident)
    if frame is None:
        return (thread.tid, sched.points, None, "unknown code", -1)
    try:
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        return (thread.tid, sched.points, id(frame.f_code), where, frame.f_lasti)
    finally:
        del frame


def _take_turn_from(sched: "Scheduler", thread, where: str) -> None:
    with sched.mutex:
        if sched.current is not thread or thread.state is not State.RUNNABLE:
            return
        thread.state = State.OUTSIDE
        sched.alone = None
        sched.outside_count += 1
        sched.outside_notes.append(
            f"{thread.name} blocked outside interlace's control at {where} "
            "; other threads ran meanwhile")
        runnable = sched._runnable()
        if not runnable:
            sched.current = None
            return
        choice = default_choice(runnable, None)
        if choice.state is State.BLOCKED:
            sched.clock = max(sched.clock, choice.deadline)
            choice.state, choice.timed_out = State.RUNNABLE, True
            choice.deadline = choice.waiting_for = None
        sched.current = choice
        choice.baton.release()
