"""Is a history linearizable?  Wing & Gong's search with Lowe's just-in-time linearization.

A complete history (every call returned) is linearizable if some order of its calls that
keeps real-time order (a call that returned before another was called comes first; a
thread's own calls are in real-time order, so program order follows) gives each call the
result it had when the same operations run one after another on a fresh object.

The search walks the history's events in order.  A call is linearized *just in time*: only
when its return is reached and it has not been placed yet, and then any calls still pending
at that point may be placed before it (Lowe, "Testing for linearizability", 2017).  The
sequential object's state is represented by the sequence of operations applied to a fresh
one (objects need not be hashable or copyable), and a configuration that failed once --
same point in the history, same calls placed, same sequence -- is never searched again.
Two calls of the same operation placed in either order give the same sequence, which is
where the cache pays off.

This module runs no program code of its own: ``spec`` does the sequential replays and
:func:`~interlace.lincheck.history.same_result` compares results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from .history import Call, Result, same_result

#: ``spec(sequence)``: the result of the last operation of ``sequence`` (operation indices)
#: when the whole sequence runs, one operation after another, on a fresh object.
Spec = Callable[[tuple[int, ...]], Result]


@dataclass(frozen=True)
class Mismatch:
    """``calls[call]`` could come next, but run there it would give ``sequential``."""

    call: int
    sequential: Result


@dataclass(frozen=True)
class Verdict:
    linearizable: bool
    #: A witness (indices into the calls) when linearizable; else the longest order of calls
    #: that matched their results before the search got stuck.
    order: tuple[int, ...]
    #: Where it got stuck: each call that real time allowed next, and its sequential result.
    mismatches: tuple[Mismatch, ...]
    #: Configurations the search expanded.
    explored: int


_CALL, _RETURN = 0, 1


def check_history(calls: Sequence[Call], spec: Spec) -> Verdict:
    """Decide whether ``calls`` (all of which returned) form a linearizable history."""
    for call in calls:
        if not call.called < call.returned:
            raise ValueError(f"a call must return after it was called (got {call.called} -> "
                             f"{call.returned})")
    events = sorted([(c.called, _CALL, i) for i, c in enumerate(calls)]
                    + [(c.returned, _RETURN, i) for i, c in enumerate(calls)])
    positions = [event[0] for event in events]
    if len(set(positions)) != len(positions):
        raise ValueError("two calls or returns of a history share one point in time")
    failed: set[tuple[int, int, tuple[int, ...]]] = set()
    stuck: list = []  # the deepest order reached, and its mismatches there
    explored = 0

    def search(index: int, placed: int, sequence: tuple[int, ...],
               order: tuple[int, ...]) -> Optional[tuple[int, ...]]:
        nonlocal explored
        while index < len(events):  # calls, and returns of calls already placed, force nothing
            _, kind, which = events[index]
            if kind == _RETURN and not placed >> which & 1:
                break
            index += 1
        else:
            return order
        key = (index, placed, sequence)
        if key in failed:
            return None
        explored += 1
        now, _, due = events[index]
        # The call returning now must be placed; any call pending at this point may go first.
        candidates = [due] + [i for i, c in enumerate(calls)
                              if i != due and c.called < now and not placed >> i & 1]
        mismatches = []
        for i in candidates:
            extended = sequence + (calls[i].op,)
            result = spec(extended)
            if not same_result(calls[i].result, result):
                mismatches.append(Mismatch(i, result))
                continue
            found = search(index, placed | 1 << i, extended, order + (i,))
            if found is not None:
                return found
        if not stuck or len(order) > len(stuck[0]):
            stuck[:] = [order, tuple(mismatches)]
        failed.add(key)
        return None

    witness = search(0, 0, (), ())
    if witness is not None:
        return Verdict(True, witness, (), explored)
    return Verdict(False, stuck[0], stuck[1], explored)
