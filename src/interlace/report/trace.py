"""Cutting a recorded execution down to the steps that explain the failure.

Kept: reads and writes of locations that two threads touch with at least one write (the
conflicting accesses), operations on synchronization objects that two threads use, and the
switches between threads among them.  Everything else (thread-local work, the main thread
setting up before any thread exists) is dropped.

A long execution keeps far more such lines than anyone reads (5 threads x 10,000 increments:
100,000).  Then only windows are shown: around each preemption, around the failing end, and
the accesses that explain a lost update (for each write shown, the same thread's earlier read
of that location, however far back, and the other threads' last write before it); the gaps
between windows become one ``omitted`` line with their count.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass
from typing import Optional


@dataclass
class TraceLine:
    step: int
    thread: str
    kind: str
    text: str
    file: Optional[str]
    line: Optional[int]
    source: str
    write: bool = False
    value: Optional[str] = None
    #: This line starts a run of a new thread; ``preempted``: the previous one could have gone on.
    switch: bool = False
    preempted: bool = False

    #: ``kind == "omitted"``: how many lines this one stands for.
    omitted: int = 0
    #: The location accessed (internal: for the windows), not part of the JSON.
    location: object = None

    def as_dict(self) -> dict:
        data = dict(self.__dict__)
        del data["location"]
        return data


#: Traces with at most this many lines are shown whole.
LIMIT = 60
#: Lines kept on each side of a preemption and before the failing end.
CONTEXT = 5


def relevant_trace(events: list[dict], threads: list[str], limit: int = LIMIT) -> tuple[list[TraceLine], int]:
    """Return the trace to show and how many relevant lines were left out in all.

    Left-out stretches appear in the trace itself as lines of kind ``omitted``."""
    first_start = next((i for i, e in enumerate(events) if e["kind"] == "start"), 0)
    events = events[first_start:]
    touched: dict[object, set] = {}
    written: set = set()
    for event in events:
        loc = _key(event)
        if loc is None:
            continue
        touched.setdefault(loc, set()).add(event["tid"])
        if event["write"] or event["kind"] not in ("access",):
            written.add(loc)
    shared = {loc for loc, tids in touched.items() if len(tids) > 1 and loc in written}
    lines: list[TraceLine] = []
    last_tid = None
    preempted = False
    for event in events:
        if event["kind"] == "switch":
            preempted = preempted or event["preempted"]
            continue
        if event["kind"] in ("touch", "begin"):  # dependence bookkeeping for systematic search
            continue
        keep = _key(event) in shared or event["kind"] in ("start", "end", "join")
        if not keep:
            continue
        switch = last_tid is not None and event["tid"] != last_tid
        lines.append(TraceLine(event["step"], _name(threads, event["tid"]), event["kind"],
                               event["text"], event["file"], event["line"],
                               _source(event["file"], event["line"]), event["write"],
                               event["value"], switch, switch and preempted,
                               location=_key(event)))
        preempted = False
        last_tid = event["tid"]
    if len(lines) <= limit:
        return lines, 0
    return windows(lines, _anchors(lines))


def _anchors(lines: list[TraceLine]) -> set[int]:
    """The indices that explain the failure: preemptions, the end, and for each write near
    them the read it overwrote (lost updates) and the other threads' write before it."""
    keep: set[int] = set()
    for i, line in enumerate(lines):
        if line.preempted:
            keep.update(range(i - CONTEXT, i + CONTEXT + 1))
            # where the preempted thread comes back: it acts on what it read before
            loser = lines[i - 1].thread if i else None
            back = next((j for j in range(i + 1, len(lines)) if lines[j].thread == loser), None)
            if back is not None:
                keep.update(range(back - 1, back + CONTEXT))
    keep.update(range(len(lines) - 2 * CONTEXT, len(lines)))
    keep = {i for i in keep if 0 <= i < len(lines)}
    for i in sorted(keep):
        line = lines[i]
        if line.kind != "access" or line.location is None:
            continue
        own_read = other_write = None
        for j in range(i - 1, -1, -1):
            other = lines[j]
            if other.location != line.location:
                continue
            if own_read is None and other.thread == line.thread and not other.write:
                own_read = j
            if other_write is None and other.thread != line.thread and other.write:
                other_write = j
            if (own_read is not None or not line.write) and other_write is not None:
                break
            if own_read is not None and other.thread == line.thread:
                break  # the read this thread acted on; older writes do not explain it
        if line.write and own_read is not None:
            keep.add(own_read)
        if other_write is not None:
            keep.add(other_write)
    return keep


def windows(lines: list[TraceLine], keep: set[int]) -> tuple[list[TraceLine], int]:
    """``lines`` at the indices in ``keep``, each gap replaced by one ``omitted`` line."""
    shown: list[TraceLine] = []
    omitted = 0
    gap = 0
    for i, line in enumerate(lines):
        if i not in keep:
            gap += 1
            continue
        if gap:
            shown.append(_omitted(lines[i - gap], gap))
            omitted += gap
            gap = 0
        shown.append(line)
    if gap:
        shown.append(_omitted(lines[len(lines) - gap], gap))
        omitted += gap
    return shown, omitted


def _omitted(first: TraceLine, count: int) -> TraceLine:
    return TraceLine(first.step, "", "omitted", f"{count} line{'s' if count != 1 else ''} omitted",
                     None, None, "", omitted=count)


def _key(event: dict):
    loc = event.get("location")
    return tuple(loc) if loc is not None else None


def _name(threads: list[str], tid: int) -> str:
    return threads[tid] if 0 <= tid < len(threads) else f"thread {tid}"


def _source(file: Optional[str], line: Optional[int]) -> str:
    if not file or not line:
        return ""
    return linecache.getline(file, line).strip()
