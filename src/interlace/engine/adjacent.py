"""Turning the races a search found into reports with a replay token that shows each one.

For every race (first seen in some execution), an execution is steered so that its two
accesses run back to back (:mod:`interlace.runtime.steer`), first in the order they ran in,
else the other way round; the steered schedule is then replayed, with stacks recorded, and
printed only if the replay has the two accesses adjacent.  When no such execution can be
built (a model without a switch point right after the first access, a program that does not
repeat itself), the race is reported with the schedule of the execution it was found in, and
says so.
"""

from __future__ import annotations

import linecache
import time
from dataclasses import replace
from typing import Optional

from ..outcome import Outcome
from ..runtime.executor import run_execution
from ..runtime.policies import Replay
from ..runtime.recorder import OBJECT
from ..runtime.steer import Adjacent
from .failure import execution_spec
from ..runtime.races import Access, Found, Race, RaceSide, first_seen
from .schedule import Schedule

#: Races beyond this many are reported without building an adjacent schedule each.
MAX_STEERED = 50


def steering_seconds(config) -> float:
    """Time for building adjacent schedules, after which the rest get the schedule they were
    found in: half the search's time limit, at least 10 s."""
    return max(10.0, config.timeout / 2)


def report_races(config, found: list[Found], epoch: float) -> list[Race]:
    out = []
    deadline = time.monotonic() + steering_seconds(config)
    for number, race in enumerate(found):
        steer = number < MAX_STEERED and time.monotonic() < deadline
        out.append(_report(config, race, epoch, steer=steer))
    return out


def _report(config, found: Found, epoch: float, steer: bool) -> Race:
    pair = found.pair
    for witness in (found, *found.others) if steer else ():
        one = witness.pair
        for first, second in ((one.first, one.second), (one.second, one.first)):
            deviations = _steer(config, witness.deviations, first, second, epoch)
            if deviations is None:
                continue
            outcome = _replay(config, deviations, epoch)
            events = outcome.events or []
            shown = _adjacent(events, first, second)
            if shown is not None:
                return _race(config, one, shown, outcome, deviations, True, found.execution)
    outcome = _replay(config, found.deviations, epoch)
    events = outcome.events or []
    shown = (_nth_access(events, pair.first), _nth_access(events, pair.second))
    return _race(config, pair, shown, outcome, found.deviations, False, found.execution)


def _steer(config, deviations, first: Access, second: Access, epoch: float):
    policy = Adjacent(tuple(deviations), (first.tid, first.seq, first.line, first.write),
                      (second.tid, second.seq, second.line, second.write))
    spec = replace(execution_spec(config, policy, epoch, None, record=True), record_values=False,
                   keep_events=False)
    outcome = run_execution(spec)
    if not outcome.adjacent:
        return None
    return tuple(tuple(d) for d in outcome.deviations)


def _replay(config, deviations, epoch: float) -> Outcome:
    spec = replace(execution_spec(config, Replay(tuple(deviations)), epoch, None, record=True),
                   record_values=False, record_stacks=True)
    return run_execution(spec)


def _nth_access(events: list[dict], access: Access) -> Optional[dict]:
    """The event of ``access`` (its thread's ``seq``-th access) if it is on the same line."""
    count = 0
    for event in events:
        if event["kind"] == "access" and event["tid"] == access.tid:
            if count == access.seq:
                same = event["line"] == access.line and event["file"] == access.file \
                    and bool(event["write"]) == access.write
                return event if same else None
            count += 1
    return None


def _adjacent(events: list[dict], first: Access, second: Access):
    """Two events, ``first``'s thread and line, then at once (only a switch between them)
    ``second``'s, on one location; ``None`` if the execution has no such pair."""
    previous = None
    for event in events:
        kind = event["kind"]
        if kind == "switch":
            continue
        if previous is not None and kind == "access" and _is(event, second) \
                and _same_location(previous["location"], event["location"]):
            return previous, event
        previous = event if kind == "access" and _is(event, first) else None
    return None


def _is(event: dict, access: Access) -> bool:
    return event["tid"] == access.tid and event["line"] == access.line \
        and event["file"] == access.file and bool(event["write"]) == access.write


def _same_location(one, two) -> bool:
    if one == two:
        return True
    return bool(one and two) and one[0] == two[0] == OBJECT and one[1] == two[1] \
        and (one[2] is None or two[2] is None)


def _race(config, pair, shown, outcome: Outcome, deviations, adjacent: bool, execution: int) -> Race:
    threads = outcome.threads
    if shown[0] is not None and shown[1] is not None and shown[0]["tid"] != pair.first.tid:
        pair_sides = (pair.second, pair.first)  # the adjacent execution runs them reversed
    else:
        pair_sides = (pair.first, pair.second)
    sides = []
    for access, event in zip(pair_sides, shown):
        stack = tuple(tuple(f) for f in (event or {}).get("stack") or ())
        sides.append(RaceSide.of(access, threads, stack))
    label = pair.second.label or pair.first.label or "?"
    token = Schedule.of(config, deviations).token()
    return Race(label, (sides[0], sides[1]), token, adjacent, execution)


def races_in(config, outcome: Outcome, deviations) -> list[Race]:
    """The races of one recorded execution (``replay --races``), shown with its own schedule."""
    from ..runtime.races import detect, suppressed
    events = outcome.events or []
    out = []
    for pair in detect(events):
        if suppressed(pair, linecache.getline):
            continue
        shown = _adjacent(events, pair.first, pair.second) or (
            _nth_access(events, pair.first), _nth_access(events, pair.second))
        adjacent = _adjacent(events, pair.first, pair.second) is not None
        out.append(_race(config, pair, shown, outcome, deviations, adjacent, 0))
    return out


def finish_races(config, result, outcomes: list[tuple[int, Outcome]], epoch: float) -> None:
    """``--races``: one report per pair of racing source lines, each with a schedule showing
    it; ``outcomes`` are the counted executions, by index."""
    truncated = sum(1 for _, outcome in outcomes if outcome.races_truncated)
    if truncated:
        result.warnings.append(f"{truncated} execution(s) recorded more events than the log "
                               "keeps; races after that point in them were not checked")
    for _, outcome in outcomes:
        if outcome.races_error:
            result.warnings.append("race detection failed in an execution (an internal error "
                                   "of interlace; races may be missing):\n" + outcome.races_error)
            break
    found = first_seen(((i, o.deviations, o.races or ()) for i, o in outcomes), linecache.getline)
    try:
        result.races = report_races(config, found, epoch)
    except KeyboardInterrupt:
        result.warnings.append("interrupted while building the races' schedules")
