"""Shrinking a failing schedule: fewest preemptions, then fewest deviations and steps.

A failing execution is its list of deviations from the default choice.  Like Hypothesis'
shrinker, we try smaller lists (drop one deviation, drop a run of them, cut the tail) and keep
any that still fails the same way.  Each attempt is one replayed execution.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

Deviations = tuple[tuple[int, int], ...]
#: Replays deviations; returns the outcome dict if it failed with the same kind, else None.
Attempt = Callable[[Deviations], Optional[dict]]


def sort_key(outcome: dict) -> tuple[int, int, int]:
    return (outcome.get("preemptions") or 0, len(outcome.get("deviations") or ()),
            outcome.get("steps") or 0)


def shrink(outcome: dict, attempt: Attempt, max_attempts: int, deadline: float) -> tuple[dict, int]:
    """Return the smallest failing outcome found and the number of executions spent."""
    best = outcome
    spent = 0

    def budget_left() -> bool:
        return spent < max_attempts and time.monotonic() < deadline

    improved = True
    while improved and budget_left():
        improved = False
        current: Deviations = tuple(tuple(d) for d in best["deviations"])
        for candidate in _candidates(current):
            if not budget_left():
                break
            spent += 1
            result = attempt(candidate)
            if result is not None and sort_key(result) < sort_key(best):
                best = result
                improved = True
                break
    return best, spent


def _candidates(devs: Deviations):
    n = len(devs)
    if n == 0:
        return
    # cut a suffix, then drop runs of decreasing size, then single deviations
    for keep in range(0, n):
        yield devs[:keep]
    size = n // 2
    while size > 1:
        for start in range(0, n - size + 1):
            yield devs[:start] + devs[start + size:]
        size //= 2
    for i in reversed(range(n)):
        yield devs[:i] + devs[i + 1:]
    # move each deviation one step earlier (shorter executions, earlier switches)
    for i, (step, tid) in enumerate(devs):
        if step > 1 and (i == 0 or devs[i - 1][0] < step - 1):
            yield devs[:i] + ((step - 1, tid),) + devs[i + 1:]
