"""Steering an execution so that two given accesses run back to back (``--races`` reports).

A race found in some execution is shown with a replay token of an execution in which its two
accesses are *adjacent*: the first, then at once the second, by another thread.  The policy
here builds one: it follows the racing execution's schedule, holds the first access's thread
right before that access until the second access's thread stands right before its own, then
runs the first access and switches to the second.  Its deviations are an ordinary schedule;
the caller replays it to check the two really are adjacent before printing it.

An access is named by ``(thread, access number, line, write)``; its number (how many shared
accesses the thread made before it) is the same in any execution that gives the thread the
same values.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

from .policies import Policy, ReplayPolicy, default_choice

if TYPE_CHECKING:
    from .scheduler import Scheduler
    from .threads import ManagedThread

_HOLD, _SECOND_NEXT, _FREE, _FAILED = "hold", "second-next", "free", "failed"


@dataclass(frozen=True)
class Adjacent:
    """What the parent sends the child: follow ``deviations``, steering ``first`` and
    ``second`` (each ``(thread, its access number, line, write)``) to run back to back."""

    deviations: tuple[tuple[int, int], ...]
    first: tuple
    second: tuple

    def build(self) -> Policy:
        return AdjacentPolicy(self.deviations, self.first, self.second)


class AdjacentPolicy(ReplayPolicy):
    def __init__(self, deviations: Sequence[tuple[int, int]], first: Sequence[int],
                 second: Sequence[int]) -> None:
        super().__init__(deviations)
        self._first = tuple(first)
        self._second = tuple(second)
        self._phase = _HOLD
        self._scheduler: Optional["Scheduler"] = None
        self._counts: dict[int, int] = {}
        self._seen = 0
        #: The first thread's access count when it was let run into its access.
        self._before_first = 0

    def attach(self, scheduler):
        self._scheduler = scheduler

    def quiet_until(self, step):
        return step  # every choice point is a decision here

    def report(self, outcome):
        outcome.adjacent = self._phase == _FREE

    def choose(self, step, runnable, current):
        if self._phase in (_FREE, _FAILED):
            return default_choice(runnable, current)
        self._count_accesses()
        t1, t2 = self._first[0], self._second[0]
        if self._phase == _SECOND_NEXT:
            second = _find(runnable, t2)
            if self._counts.get(t1, 0) > self._before_first and second is not None \
                    and self._poised(second, self._second):
                self._phase = _FREE
                return second
            self._phase = _FAILED  # the first access ran, and the second cannot follow it
            return default_choice(runnable, current)
        first, second = _find(runnable, t1), _find(runnable, t2)
        ready1 = first is not None and self._poised(first, self._first)
        ready2 = second is not None and self._poised(second, self._second)
        if ready1 and ready2:
            self._phase = _SECOND_NEXT  # the first runs its access; the next point picks t2
            self._before_first = self._counts.get(t1, 0)
            return first
        held = {t for t, ready in ((t1, ready1), (t2, ready2)) if ready}
        free = [t for t in runnable if t.tid not in held]
        if not free:
            self._phase = _FAILED
            return default_choice(runnable, current)
        wanted = super().choose(step, runnable, current)
        if wanted.tid not in held:
            return wanted
        behind = second if second is not None and not ready2 else first
        if behind is not None and behind.tid not in held:
            return behind
        return default_choice(free, current if current in free else None)

    def _count_accesses(self) -> None:
        events = self._scheduler.log.events
        for event in events[self._seen:]:
            if event.kind == "access":
                self._counts[event.tid] = self._counts.get(event.tid, 0) + 1
        self._seen = len(events)

    def _poised(self, thread: "ManagedThread", access: tuple) -> bool:
        """Is ``thread``'s very next instruction an access on ``access``'s line, no earlier
        than the access was in the racing execution?  (A later one on the same line will do:
        the values a thread reads can change its path once the order changes.)"""
        _, number, line, write = access
        if self._counts.get(thread.tid, 0) < number:
            return False
        step = _pending_step(thread)
        # a container method call is planned as a read; what it does shows when it runs
        return step is not None and step.kind is not None and step.line == line \
            and (step.kind == "call" or step.write == write)


def _find(runnable: Sequence["ManagedThread"], tid: int) -> Optional["ManagedThread"]:
    for thread in runnable:
        if thread.tid == tid and thread.deadline is None:
            return thread
    return None


def _pending_step(thread: "ManagedThread"):
    """The planned instruction ``thread`` stopped before, if it stopped at a hook's
    scheduling point (its stack holds ``Scheduler.dispatch``), else ``None``."""
    from .scheduler import Scheduler
    dispatch = Scheduler.dispatch.__code__
    frame = sys._current_frames().get(thread.ident) if thread.ident is not None else None
    for _ in range(30):
        if frame is None:
            return None
        if frame.f_code is dispatch:
            return frame.f_locals.get("step")
        frame = frame.f_back
    return None
