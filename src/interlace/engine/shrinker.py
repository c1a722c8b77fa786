"""Shrinking a failing schedule: fewest preemptions, then fewest deviations, then fewest steps.

A failing execution is its list of deviations from the default choice.  As in Hypothesis'
shrinker, named passes propose smaller or simpler lists and we keep any candidate that still
fails the same way and sorts lower.  Each attempt is one replayed execution, so:

- the work is bounded by a number of executions, never by seconds: the same failure and the
  same budget give the same minimized schedule on an idle machine and on a loaded one;
- every candidate is tried at most once (``tried``), and a replay's own normalized deviations
  count as tried too, since replaying them gives the same execution.

Passes, cheapest and most effective first:

``cut_tail``      keep only a prefix (a failure often needs only its first few switches);
``drop_runs``     drop a run of consecutive deviations (halving sizes, as delta debugging);
``drop_single``   drop one deviation;
``move_later``    move one deviation later (by 1..16 steps, then 32, 64, ...): a switch made
                  where the running thread blocks or ends is no preemption at all;
``move_earlier``  move one deviation earlier, likewise (shorter executions);
``other_thread``  switch to a different thread at the same step;
``drop_and_move`` drop one deviation and move another a few steps (dropping a switch
                  renumbers the steps after it).

The passes run in rounds until a whole round improves nothing or the budget is spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from ..config import DEFAULT_SHRINK_BUDGET
from ..outcome import Deviations, Outcome

#: Replays deviations; returns its outcome if it failed with the same kind, else None.
Attempt = Callable[[Deviations], Optional[Outcome]]
#: ``on_attempt(spent, budget)``: called after each execution (the progress bar).
OnAttempt = Callable[[int, int], None]



def sort_key(outcome: Outcome) -> tuple[int, int, int]:
    """Smaller is simpler: fewest preemptions, then fewest deviations, then fewest steps."""
    return (outcome.preemptions, len(outcome.deviations), outcome.steps or 0)


def deviations_of(outcome: Outcome) -> Deviations:
    return tuple((int(step), int(tid)) for step, tid in outcome.deviations)


class _BudgetSpent(Exception):
    pass


@dataclass
class Shrinker:
    """One shrink of one failure.  ``best`` only ever gets simpler."""

    best: Outcome
    attempt: Attempt
    budget: int = DEFAULT_SHRINK_BUDGET
    on_attempt: Optional[OnAttempt] = None
    spent: int = 0
    tried: set = field(default_factory=set)
    #: How many improvements each pass made (for tests and for tuning the order).
    improvements: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tried.add(deviations_of(self.best))

    def run(self) -> Outcome:
        try:
            improved = True
            while improved:
                improved = False
                for name, make in PASSES:
                    if self._run_pass(name, make):
                        improved = True
        except _BudgetSpent:
            pass
        return self.best

    def _run_pass(self, name: str, make: Callable[[Deviations, Outcome], Iterator[Deviations]]) -> bool:
        """Try the pass's candidates against the current best; restart it after each success."""
        any_success = False
        while True:
            for candidate in make(deviations_of(self.best), self.best):
                if self.consider(candidate):
                    self.improvements[name] = self.improvements.get(name, 0) + 1
                    any_success = True
                    break
            else:
                return any_success

    def consider(self, candidate: Deviations) -> bool:
        """Run ``candidate`` unless tried already; True if it became the new best."""
        if candidate in self.tried:
            return False
        if self.spent >= self.budget:
            raise _BudgetSpent
        self.tried.add(candidate)
        self.spent += 1
        result = self.attempt(candidate)
        if self.on_attempt is not None:
            self.on_attempt(self.spent, self.budget)
        if result is None:
            return False
        self.tried.add(deviations_of(result))  # the schedule the replay really followed
        if sort_key(result) < sort_key(self.best):
            self.best = result
            return True
        return False


def shrink(outcome: Outcome, attempt: Attempt, max_attempts: int = DEFAULT_SHRINK_BUDGET,
           on_attempt: Optional[OnAttempt] = None) -> tuple[Outcome, int]:
    """Return the simplest failing outcome found and the number of executions spent."""
    shrinker = Shrinker(outcome, attempt, max_attempts, on_attempt)
    return shrinker.run(), shrinker.spent


# -- the passes: each yields candidates, simplest first ------------------------------------


def cut_tail(devs: Deviations, best: Outcome) -> Iterator[Deviations]:
    for keep in range(len(devs)):
        yield devs[:keep]


def drop_runs(devs: Deviations, best: Outcome) -> Iterator[Deviations]:
    size = len(devs) // 2
    while size > 1:
        for start in range(len(devs) - size + 1):
            yield devs[:start] + devs[start + size:]
        size //= 2


def drop_single(devs: Deviations, best: Outcome) -> Iterator[Deviations]:
    for i in reversed(range(len(devs))):
        yield devs[:i] + devs[i + 1:]


#: Moves try every distance up to this, then doubling ones: the step where the running
#: thread blocks (a free switch) is usually near, and far moves should not cost one
#: execution per step.
NEAR = 16


def _distances(room: int) -> Iterator[int]:
    distance = 1
    while distance <= room:
        yield distance
        distance = distance + 1 if distance < NEAR else distance * 2


def move_later(devs: Deviations, best: Outcome) -> Iterator[Deviations]:
    last_step = best.steps or 0
    for i, (step, tid) in enumerate(devs):
        limit = devs[i + 1][0] - 1 if i + 1 < len(devs) else max(last_step, step)
        for distance in _distances(limit - step):
            yield devs[:i] + ((step + distance, tid),) + devs[i + 1:]


def move_earlier(devs: Deviations, best: Outcome) -> Iterator[Deviations]:
    for i, (step, tid) in enumerate(devs):
        floor = devs[i - 1][0] + 1 if i > 0 else 1
        for distance in _distances(step - floor):
            yield devs[:i] + ((step - distance, tid),) + devs[i + 1:]


#: ``drop_and_move`` runs only on schedules this short (its candidates grow as n squared).
DROP_AND_MOVE_MAX = 6


def drop_and_move(devs: Deviations, best: Outcome) -> Iterator[Deviations]:
    """Drop one deviation and move another by up to ``NEAR`` steps either way.

    Steps count the scheduling points where another thread could run, so dropping an early
    switch renumbers every later point: the deviation that mattered is then a few steps off.
    """
    if len(devs) > DROP_AND_MOVE_MAX:
        return
    for i in range(len(devs)):
        rest = devs[:i] + devs[i + 1:]
        for j, (step, tid) in enumerate(rest):
            floor = rest[j - 1][0] + 1 if j > 0 else 1
            ceiling = rest[j + 1][0] - 1 if j + 1 < len(rest) else step + NEAR
            for distance in range(1, NEAR + 1):
                for moved in (step - distance, step + distance):
                    if floor <= moved <= ceiling:
                        yield rest[:j] + ((moved, tid),) + rest[j + 1:]


def other_thread(devs: Deviations, best: Outcome) -> Iterator[Deviations]:
    threads = len(best.threads)
    for i, (step, tid) in enumerate(devs):
        for other in range(threads):
            if other != tid:
                yield devs[:i] + ((step, other),) + devs[i + 1:]


PASSES: tuple[tuple[str, Callable[[Deviations, Outcome], Iterator[Deviations]]], ...] = (
    ("cut_tail", cut_tail),
    ("drop_runs", drop_runs),
    ("drop_single", drop_single),
    ("move_later", move_later),
    ("move_earlier", move_earlier),
    ("other_thread", other_thread),
    ("drop_and_move", drop_and_move),
)
