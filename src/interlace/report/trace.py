"""Cutting a recorded execution down to the steps that explain the failure.

Kept: reads and writes of locations that two threads touch with at least one write (the
conflicting accesses), operations on synchronization objects that two threads use, and the
switches between threads among them.  Everything else (thread-local work, the main thread
setting up before any thread exists) is dropped.
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

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def relevant_trace(events: list[dict], threads: list[str], limit: int = 60) -> tuple[list[TraceLine], int]:
    """Return the short trace and how many earlier relevant lines were left out."""
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
                               event["value"], switch, switch and preempted))
        preempted = False
        last_tid = event["tid"]
    dropped = max(0, len(lines) - limit)
    return lines[dropped:], dropped


def _key(event: dict):
    loc = event.get("location")
    return tuple(loc) if loc is not None else None


def _name(threads: list[str], tid: int) -> str:
    return threads[tid] if 0 <= tid < len(threads) else f"thread {tid}"


def _source(file: Optional[str], line: Optional[int]) -> str:
    if not file or not line:
        return ""
    return linecache.getline(file, line).strip()
