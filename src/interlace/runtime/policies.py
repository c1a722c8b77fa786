"""Where an execution's scheduling choices come from (one policy per execution).

Every choice the scheduler makes is recorded as a deviation from :func:`default_choice`
("keep running the current thread; when it cannot run, the lowest-numbered thread that
can"), so any policy's execution can be replayed and shrunk from the same small list of
``(step, thread)`` pairs, the way Hypothesis replays a choice sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

from ..outcome import Deviations, Outcome
from .events import Footprint, Sleeper, plain_location

if TYPE_CHECKING:
    from .scheduler import Scheduler
    from .threads import ManagedThread


_NEVER = 2**62  # a step no execution reaches


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

    def attach(self, scheduler: "Scheduler") -> None:
        """Called once, when the execution's scheduler exists."""

    def report(self, outcome: Outcome) -> None:
        """Add what the policy knows to the execution's outcome."""

    def quiet_until(self, step: int) -> int:
        """The last step up to which :meth:`choose` surely keeps the running thread.

        Asked right after step ``step`` chose the running thread, by the C accelerator: up to
        the returned step, as long as the runnable threads stay the same, ``choose`` would
        return the running thread and change nothing, so those scheduling points are counted
        without calling it.  ``step`` itself (the default) means: call ``choose`` every time.
        """
        return step

    def random_walk(self) -> Optional[tuple[Callable[[], float], float, int]]:
        """``(random, p, first_step)``: from ``first_step`` on, :meth:`choose` is exactly
        :meth:`RandomPolicy.choose` with that ``random`` and switch probability ``p``.

        Lets the C accelerator draw those choices itself (only a switch calls back into
        Python); ``None``: this policy never is a random walk.
        """
        return None


class ReplayPolicy(Policy):
    """Follow recorded deviations; default choice elsewhere (including invalid entries)."""

    def __init__(self, deviations: Deviations) -> None:
        self._at = dict(deviations)

    def choose(self, step, runnable, current):
        tid = self._at.get(step)
        if tid is not None:
            for thread in runnable:
                if thread.tid == tid:
                    return thread
        return default_choice(runnable, current)

    def quiet_until(self, step):
        return min((s for s in self._at if s > step), default=_NEVER) - 1


class RandomPolicy(Policy):
    """Uniformly random runnable thread at every scheduling point (a random walk)."""

    def __init__(self, seed: int, switch_probability: float = 0.5) -> None:
        self._rng = random.Random(seed)
        self._p = switch_probability

    def choose(self, step, runnable, current):
        # mirrored in C (_accel.c, walk_step): change both or neither
        random = self._rng.random
        if current is not None and current in runnable and len(runnable) > 1:
            if random() >= self._p:
                return current
        return runnable[int(random() * len(runnable))]  # randrange costs 5x as much

    def random_walk(self):
        return (self._rng.random, self._p, 1)


class PCTPolicy(Policy):
    """Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010).

    Each thread gets a random distinct priority when created; the highest-priority runnable
    thread runs.  At ``depth - 1`` change points, chosen uniformly among the first
    ``step_bound`` steps, the running thread drops below every initial priority.  Past the
    step bound the policy turns into a fair random walk, so that spin loops that wait for a
    lower-priority thread terminate early (and past ``--max-steps`` the scheduler's fair
    round-robin phase takes over in any case).
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

    def random_walk(self):
        return self._tail.random_walk()[:2] + (self._bound + 1,)

    def quiet_until(self, step):
        # the running thread is the highest-priority runnable one until the next change point
        if step >= self._bound:
            return step
        return min(min((c for c in self._changes if c > step), default=_NEVER) - 1, self._bound)

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


class POSPolicy(Policy):
    """Partial order sampling (Yuan, Yang, Gu, CAV 2018), in its basic form.

    Every pending operation has a random priority, and the runnable thread whose next
    operation has the highest one runs.  A thread that runs draws a fresh priority for its next
    operation; the others keep theirs.  Unlike a random walk, a thread that lost stays behind
    until the ones ahead of it have drawn lower, which spreads executions more evenly over the
    orders of far-apart operations.  (Full POS also redraws the priority of every pending
    operation that races with the one just run; sampling executions record no footprints, so
    this is the variant without that step.)
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._priority: dict[int, float] = {}

    def thread_created(self, thread):
        self._priority[thread.tid] = self._rng.random()

    def choose(self, step, runnable, current):
        if current is not None:
            self._priority[current.tid] = self._rng.random()
        best = runnable[0]
        best_priority = self._priority.get(best.tid, 0.0)
        for thread in runnable[1:]:
            priority = self._priority.get(thread.tid, 0.0)
            if priority > best_priority:
                best, best_priority = thread, priority
        return best


class StartTogether(Policy):
    """Another policy's choices, with threads started together as a test harness would.

    Programs start their threads one by one, and under any policy that may switch at every
    step the threads started first get to run (often to their end) while later ones do not
    exist yet: a bug that needs every thread to be under way at once, such as a checker
    landing between two writes of the first of many writers, then hides behind the start
    sequence.  Here a thread that has never run waits while the thread that started it can go
    on, until that thread blocks (a ``join``, a lock, a sleep), ends, or runs ``patience``
    choice points without starting another thread; then all of them are released at once,
    and ``inner`` chooses among everyone.  Any schedule stays reachable through the
    executions that do not hold threads back; this only reshapes where samples fall.
    """

    def __init__(self, inner: Policy, patience: int = 64) -> None:
        self._inner = inner
        self._patience = patience
        self._begun: set[int] = {0}
        self._last_start = 0

    def attach(self, scheduler):
        self._inner.attach(scheduler)

    def thread_created(self, thread):
        self._inner.thread_created(thread)
        self._last_start = -1  # set at the next choice, in steps

    def report(self, outcome):
        self._inner.report(outcome)

    def choose(self, step, runnable, current):
        if self._last_start < 0:
            self._last_start = step
        held = len(self._begun) < len(runnable) and current is not None and current in runnable \
            and not current.deadline_pending and step - self._last_start < self._patience
        if held:
            eligible = [t for t in runnable if t.tid in self._begun]
            if len(eligible) < len(runnable):
                choice = self._inner.choose(step, eligible, current) if len(eligible) > 1 else current
                self._begun.add(choice.tid)
                return choice
        self._begun.update(t.tid for t in runnable)  # released together, for good
        return self._inner.choose(step, runnable, current)


class Diverged(Exception):
    """A replayed prefix asked for a thread that cannot run: the program is nondeterministic."""


class SystematicPolicy(Policy):
    """One execution of a systematic (DPOR) search.

    Follows ``prefix`` (the thread to run at each of the first choice points), then makes the
    default choice among threads that are not asleep.  ``sleep`` maps each thread that must not
    run first to the footprint of the transition it would make (known from an earlier
    execution of the same prefix); a thread wakes up once a transition it depends on runs.
    If every runnable thread is asleep, the rest of this execution is equivalent to one already
    explored, and it stops ("sleep-set blocked"), unless a preemption bound is in force.
    """

    def __init__(self, prefix: Sequence[int], sleep: dict[int, Sleeper],
                 stop_when_asleep: bool = True) -> None:
        self._prefix = tuple(prefix)
        self._sleep = dict(sleep)
        #: ``False`` under a preemption bound: the explored execution that makes this one a
        #: repeat may need more preemptions than the bound allows, so run on instead...
        self._stop_when_asleep = stop_when_asleep
        #: ...and remember where it would have stopped.
        self._asleep_from: Optional[int] = None
        self._scheduler: Optional["Scheduler"] = None
        self._seen = 0  # events of the log already folded into the sleep set

    def attach(self, scheduler):
        self._scheduler = scheduler

    def choose(self, step, runnable, current):
        if step <= len(self._prefix):
            want = self._prefix[step - 1]
            for thread in runnable:
                if thread.tid == want:
                    return thread
            self._scheduler.conclude(Outcome(
                diverged=True, summary=f"replaying the explored prefix, thread {want} could not "
                f"run at step {step} (runnable: {[t.tid for t in runnable]})"))
        if self._sleep:
            self._wake_dependents()
        awake = [t for t in runnable if t.tid not in self._sleep]
        if not awake and not self._stop_when_asleep:
            if self._asleep_from is None:
                self._asleep_from = step
            awake = runnable
        if not awake:
            self._scheduler.conclude(Outcome(sleep_blocked=True))
        return default_choice(awake, current)

    def report(self, outcome):
        outcome.asleep_from = self._asleep_from

    def _wake_dependents(self) -> None:
        """Fold the transitions run since the last choice into the sleep set."""
        events = self._scheduler.log.events
        start = self._seen
        self._seen = len(events)
        branch = len(self._prefix)  # transitions before the branch point ran in the prefix
        done = Footprint()
        for event in events[start:]:
            if event.step >= branch and event.location is not None:
                done.add(plain_location(event.location), event.write)
        if done:
            self._sleep = {tid: s for tid, s in self._sleep.items() if not s.woken_by(done)}


# -- what the parent sends the child: which policy to build --------------------------------------

@dataclass(frozen=True)
class Replay:
    """Follow ``deviations`` (``(step, thread)`` pairs), the default choice elsewhere.

    ``Replay()`` is the default schedule: each thread runs until it blocks or ends."""

    deviations: Deviations = ()

    def build(self) -> Policy:
        return ReplayPolicy(self.deviations)


#: Every search's first execution: no preemption at all (it also measures the step bound).
DEFAULT_SCHEDULE = Replay()


@dataclass(frozen=True)
class PCT:
    seed: int
    depth: int = 3
    step_bound: int = 1000
    #: Hold new threads back until their creator blocks (:class:`StartTogether`).
    together: bool = False

    def build(self) -> Policy:
        return _together(PCTPolicy(self.seed, self.depth, self.step_bound), self.together)


@dataclass(frozen=True)
class RandomWalk:
    seed: int
    #: Switch at a scheduling point with this probability (to a uniformly chosen runnable
    #: thread, possibly the running one); 1.0 is a uniform choice at every step.
    switch_probability: float = 0.5
    together: bool = False

    def build(self) -> Policy:
        return _together(RandomPolicy(self.seed, self.switch_probability), self.together)


@dataclass(frozen=True)
class POS:
    seed: int
    together: bool = False

    def build(self) -> Policy:
        return _together(POSPolicy(self.seed), self.together)


def _together(policy: Policy, together: bool) -> Policy:
    return StartTogether(policy) if together else policy


@dataclass(frozen=True)
class Systematic:
    """One DPOR branch: the thread at each of the first choice points..."""

    prefix: tuple[int, ...] = ()
    #: ...the sleeping threads at the end of the prefix, with their footprints...
    sleep: tuple[tuple[int, Any], ...] = ()
    #: ...and whether an execution in which only sleeping threads can run stops there.
    stop_when_asleep: bool = True

    def build(self) -> Policy:
        return SystematicPolicy(self.prefix, dict(self.sleep), self.stop_when_asleep)


PolicySpec = Union[Replay, PCT, RandomWalk, POS, Systematic]
