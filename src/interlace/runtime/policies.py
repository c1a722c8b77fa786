"""Where an execution's scheduling choices come from (one policy per execution).

Every choice the scheduler makes is recorded as a deviation from :func:`default_choice`
("keep running the current thread; when it cannot run, the lowest-numbered thread that
can"), so any policy's execution can be replayed and shrunk from the same small list of
``(step, thread)`` pairs, the way Hypothesis replays a choice sequence.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from .threads import ManagedThread


def default_choice(runnable: Sequence["ManagedThread"], current: Optional["ManagedThread"]) -> "ManagedThread":
    """Non-preemptive choice: ``runnable`` is sorted by thread number, timeouts last."""
    if current is not None and current in runnable and not current.deadline_pending:
        return current
    return runnable[0]


class Policy:
    """Chooses the next thread at each scheduling point."""

    def choose(self, step: int, runnable: Sequence["ManagedThread"],
               current: Optional["ManagedThread"]) -> "ManagedThread":
        return default_choice(runnable, current)

    def thread_created(self, thread: "ManagedThread") -> None:
        """Called once per thread, in creation order."""


class ReplayPolicy(Policy):
    """Follow recorded deviations; default choice elsewhere (including invalid entries)."""

    def __init__(self, deviations: Sequence[tuple[int, int]]) -> None:
        self._at = dict(deviations)

    def choose(self, step, runnable, current):
        tid = self._at.get(step)
        if tid is not None:
            for thread in runnable:
                if thread.tid == tid:
                    return thread
        return default_choice(runnable, current)


class RandomPolicy(Policy):
    """Uniformly random runnable thread at every scheduling point (a random walk)."""

    def __init__(self, seed: int, switch_probability: float = 0.5) -> None:
        self._rng = random.Random(seed)
        self._p = switch_probability

    def choose(self, step, runnable, current):
        if current is not None and current in runnable and len(runnable) > 1:
            if self._rng.random() >= self._p:
                return current
        return runnable[self._rng.randrange(len(runnable))]


class PCTPolicy(Policy):
    """Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010).

    Each thread gets a random distinct priority when created; the highest-priority runnable
    thread runs.  At ``depth - 1`` change points, chosen uniformly among the first
    ``step_bound`` steps, the running thread drops below every initial priority.  Past the
    step bound the policy turns into a fair random walk, so that spin loops that wait for a
    lower-priority thread terminate instead of being reported as livelocks.
    """

    def __init__(self, seed: int, depth: int, step_bound: int) -> None:
        self._rng = random.Random(seed)
        self._depth = depth
        self._bound = max(1, step_bound)
        self._priority: dict[int, float] = {}
        points = self._rng.sample(range(1, self._bound + 1), min(depth - 1, self._bound))
        # change point -> new priority; later change points get lower priorities
        self._changes = {p: -float(i) for i, p in enumerate(sorted(points))}
        self._tail = RandomPolicy(self._rng.randrange(2**32))

    def thread_created(self, thread):
        self._priority[thread.tid] = self._depth + self._rng.random()

    def choose(self, step, runnable, current):
        if step > self._bound:
            return self._tail.choose(step, runnable, current)
        change = self._changes.get(step)
        if change is not None and current is not None:
            self._priority[current.tid] = change
        best = runnable[0]
        best_priority = self._priority.get(best.tid, 0.0)
        for thread in runnable[1:]:
            priority = self._priority.get(thread.tid, 0.0)
            if priority > best_priority:
                best, best_priority = thread, priority
        return best
