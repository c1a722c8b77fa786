"""Happens-before data races in one recorded execution (``--races``).

Pure functions over an event log; nothing here runs an execution.  Two parts:

- :func:`records_of`, the *adapter*: the one place that reads the recorder's events and
  turns them into :class:`Record` s (who accessed which location, reading or writing, and the
  synchronization edges).  Pointing the detector at another recorder means changing only it.
- :class:`Detector`: vector clocks with FastTrack-style epochs (Flanagan & Freund, PLDI 2009).
  Each thread has a vector clock; each synchronization object keeps the clock of the last
  operation that published through it (a lock's release, a thread's start and end).  An
  access is remembered as an *epoch* ``(thread, that thread's clock)``, not as a vector clock,
  so checking a later access against it is one comparison.  Unlike FastTrack, which keeps
  only the last write and the reads since, it keeps the latest epoch per (thread, source
  line, read/write): every pair of racing source lines is found, not one race per location.

Happens-before comes from what interlace controls: thread start (the parent's ``start`` is
published, the child's ``begin`` acquires it), thread end and ``join`` / ``is_alive``, and
locks.  Condition, Semaphore, Event, Barrier, ``queue.Queue``, ``SimpleQueue``, executors,
futures and ``Timer`` are built on interlace's locks and conditions, so their hand-offs are
release/acquire pairs of the locks inside them.  Reads of a primitive's state that the
recorder notes (``Event.is_set``, ``Lock.locked``, ``Thread.is_alive``) acquire what was
published through it: conservative (it can hide a race, never invent one).  A *writing*
touch publishes: ``Event.set()`` publishes through the event itself before it stores the
flag, and an ``is_set()`` that returns ``True`` acquires it (the setter may still hold the
event's lock when the flag is seen).

A race: two accesses to one location by different threads, at least one a write, neither
ordered before the other by happens-before, and not both *atomic*.  Calls of a built-in
container's own methods (``list.append``, ``dict.get``, ``deque.popleft``...) and reading
built-ins (``len``) are single operations under every CPython build; two of them never race,
as two atomic operations do not in C11 or Go.  A plain read or write (``d[k] = v``,
``x.attr``, a global) against one of them does.
"""

from __future__ import annotations

import linecache
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator, NamedTuple, Optional

from .recorder import OBJECT, SYNC

READ, WRITE, ACQUIRE, RELEASE = "read", "write", "acquire", "release"

#: Recorder event kinds that publish the caller's clock through a primitive (release-like).
#: Every other operation on a primitive (acquire, begin, join, a read of its state) takes in
#: what was published.
_PUBLISHING = frozenset({"release", "start", "end"})

#: Plan step kinds whose access is one call of a built-in container method or a reading
#: built-in: atomic (see the module's docstring).
_ATOMIC_OPS = frozenset({"call"})

#: ``# interlace: ignore-race`` on a line: no race involving that line is reported.
SUPPRESS = re.compile(r"#.*\binterlace:\s*ignore-race\b")


class Record(NamedTuple):
    """One thing a thread did that matters for races (a tuple: made once per access)."""

    tid: int
    #: ``read``/``write`` (an access) or ``acquire``/``release`` (a synchronization edge).
    op: str
    #: Accesses: the location (``("obj", object number, key)``: an attribute, global, item; key ``None``: the whole object); sync: the primitive.
    location: Any
    atomic: bool = False
    label: str = ""
    file: Optional[str] = None
    line: Optional[int] = None
    #: Accesses: how many accesses this thread made before this one (finds it again in
    #: another execution of the same schedule prefix).
    seq: int = 0


def records_of(events: Iterable[Any], plain=None) -> Iterator[Record]:
    """The adapter: recorded events (``runtime.events.Event`` or their dicts) to records.

    ``plain`` makes a location hashable and comparable (defaults to the recorder's own
    ``plain_location``).
    """
    if plain is None:
        from ..runtime.events import plain_location as plain
    plain_keys = (int, str, float, bool, type(None))
    seqs: dict[int, int] = {}
    for event in events:
        get = event.get if isinstance(event, dict) else event.__dict__.get
        kind = get("kind")
        location = get("location")
        if location is None:
            continue
        tid = get("tid")
        if kind == "access":
            seq = seqs.get(tid, 0)
            seqs[tid] = seq + 1
            if location[0] == OBJECT and type(location[2]) not in plain_keys:
                location = plain(location)  # only an item's key can be a program object
            yield Record(tid, WRITE if get("write") else READ, location,
                         get("op") in _ATOMIC_OPS, get("text") or "", get("file"), get("line"), seq)
        elif location[0] == SYNC:
            publishes = kind in _PUBLISHING or (kind == "touch" and get("write"))
            yield Record(tid, RELEASE if publishes else ACQUIRE, tuple(location))


@dataclass(frozen=True)
class Access:
    """One side of a race, as found in an execution."""

    tid: int
    write: bool
    atomic: bool
    label: str
    file: Optional[str]
    line: Optional[int]
    seq: int

    @property
    def kind(self) -> str:
        return "write" if self.write else "read"

    @property
    def site(self) -> tuple:
        return (self.file, self.line)


@dataclass(frozen=True)
class RacePair:
    """Two racing accesses; ``first`` came first in the execution."""

    location: Any
    first: Access
    second: Access

    @property
    def key(self) -> frozenset:
        """A race is reported once per pair of source lines."""
        return frozenset((self.first.site, self.second.site))

    def as_dict(self) -> dict:
        return {"location": self.location, "first": self.first.__dict__.copy(),
                "second": self.second.__dict__.copy()}

    @classmethod
    def from_dict(cls, data: dict) -> "RacePair":
        return cls(data["location"], Access(**data["first"]), Access(**data["second"]))


Clock = dict  # thread -> its clock; absent = 0


def _join(into: Clock, other: Clock) -> None:
    for tid, value in other.items():
        if into.get(tid, 0) < value:
            into[tid] = value


@dataclass
class _Seen:
    """The latest epoch of one (thread, line, read/write, atomic) at a location."""

    epoch: int
    access: Access


@dataclass
class Detector:
    """Feed it an execution's records in order (:meth:`feed`); ``races`` holds what it found."""

    clocks: dict[int, Clock] = field(default_factory=dict)
    published: dict[Any, Clock] = field(default_factory=dict)
    #: location -> (tid, site, write, atomic) -> latest epoch there
    seen: dict[Any, dict[tuple, _Seen]] = field(default_factory=dict)
    #: container -> the same, over every single key of it (checked by whole-container accesses)
    parts: dict[Any, dict[tuple, _Seen]] = field(default_factory=dict)
    races: dict[frozenset, RacePair] = field(default_factory=dict)

    def clock(self, tid: int) -> Clock:
        found = self.clocks.get(tid)
        if found is None:
            found = self.clocks[tid] = {tid: 1}
        return found

    def feed(self, records: Iterable[Record]) -> "Detector":
        for record in records:
            if record.op == ACQUIRE:
                source = self.published.get(record.location)
                if source:
                    _join(self.clock(record.tid), source)
            elif record.op == RELEASE:
                mine = self.clock(record.tid)
                _join(self.published.setdefault(record.location, {}), mine)
                mine[record.tid] += 1
            else:
                self._access(record)
        return self

    def _access(self, record: Record) -> None:
        tid, loc, write = record.tid, record.location, record.op == WRITE
        mine = self.clock(tid)
        epoch = mine[tid]
        key = (tid, record.file, record.line, write, record.atomic)
        at = self.seen.get(loc)
        if at is None:
            at = self.seen[loc] = {}
        known = at.get(key)
        if known is not None and known.epoch == epoch:
            return  # same thread, line and kind, no release since: nothing new can race
        access = Access(tid, write, record.atomic, record.label, record.file, record.line, record.seq)
        self._check(loc, at, tid, write, record.atomic, mine, access)
        container = _container(loc)
        if container is not None:
            if loc[2] is None:  # the whole container: against each of its keys
                self._check(loc, self.parts.get(container, {}), tid, write, record.atomic, mine, access)
            else:  # one key: against whole-container accesses
                self._check(loc, self.seen.get((OBJECT, container, None), {}), tid, write,
                            record.atomic, mine, access)
                self.parts.setdefault(container, {})[key] = _Seen(epoch, access)
        at[key] = _Seen(epoch, access)

    def _check(self, loc: Any, entries: dict, tid: int, write: bool, atomic: bool, mine: Clock,
               access: Access) -> None:
        for (other, _, _, other_write, other_atomic), seen in entries.items():
            if other == tid or not (write or other_write) or (atomic and other_atomic):
                continue
            if seen.epoch > mine.get(other, 0):  # not ordered before this access
                pair = RacePair(loc, seen.access, access)
                self.races.setdefault(pair.key, pair)


def _container(loc: Any) -> Any:
    if isinstance(loc, tuple) and len(loc) == 3 and loc[0] == OBJECT:
        return loc[1]
    return None


def detect(events: Iterable[Any]) -> list[RacePair]:
    """The races of one recorded execution, one per pair of source lines, in the order found."""
    return list(Detector().feed(records_of(events)).races.values())


def suppressed(pair: RacePair, source_line) -> bool:
    """Does either access's line carry ``# interlace: ignore-race``?"""
    for access in (pair.first, pair.second):
        if access.file and access.line and SUPPRESS.search(source_line(access.file, access.line)):
            return True
    return False


@dataclass(frozen=True)
class Found:
    """A race as first seen in a search: the execution it ran in, and that one's schedule."""

    pair: RacePair
    execution: int
    deviations: tuple[tuple[int, int], ...]
    #: The same pair of lines racing in later executions (a few), other starting points for
    #: building an execution in which the two accesses are adjacent.
    others: tuple["Found", ...] = ()


#: Executions kept per race beside the first (see ``Found.others``).
WITNESSES = 2


def first_seen(executions: Iterable[tuple[int, Iterable[tuple[int, int]], Iterable[dict]]],
               source_line) -> list[Found]:
    """Each race once per pair of source lines, from ``(index, deviations, races)`` per
    execution, in execution order; races on a line marked ``# interlace: ignore-race`` are
    left out."""
    out: dict[frozenset, Found] = {}
    for index, deviations, races in sorted(executions, key=lambda e: e[0]):
        for data in races:
            pair = RacePair.from_dict(data)
            here = Found(pair, index, tuple(tuple(d) for d in deviations))
            known = out.get(pair.key)
            if known is None:
                if not suppressed(pair, source_line):
                    out[pair.key] = here
            elif len(known.others) < WITNESSES and known.execution != index \
                    and all(o.execution != index for o in known.others):
                out[pair.key] = replace(known, others=known.others + (here,))
    return list(out.values())


@dataclass(frozen=True)
class RaceSide:
    """One of the two accesses of a reported race."""

    thread: str
    #: ``read`` or ``write``
    kind: str
    file: Optional[str]
    line: Optional[int]
    #: The source text of the line.
    code: str
    #: The user frames, innermost first: ``(file, line, function)``.
    stack: tuple = ()

    @classmethod
    def of(cls, access: "Access", threads: list[str], stack: tuple = ()) -> "RaceSide":
        """``access`` as reported: its thread by name (``threads``: the execution's) and
        its line's source text."""
        name = threads[access.tid] if access.tid < len(threads) else f"thread {access.tid}"
        code = linecache.getline(access.file, access.line).strip() if access.file and access.line else ""
        return cls(name, access.kind, access.file, access.line, code, stack)

    def as_dict(self) -> dict:
        return {"thread": self.thread, "kind": self.kind, "file": self.file, "line": self.line,
                "code": self.code, "stack": [list(frame) for frame in self.stack]}


@dataclass(frozen=True)
class Race:
    """A reported race: the location, both accesses, and a schedule that shows it."""

    location: str
    accesses: tuple[RaceSide, RaceSide]
    #: The replay token: an execution in which the two accesses are adjacent (when
    #: ``adjacent``), else the execution the race was found in.
    schedule: Optional[str]
    adjacent: bool
    #: The search's execution (0-based index) that first ran into it.
    execution: int

    def as_dict(self) -> dict:
        return {"location": self.location, "accesses": [a.as_dict() for a in self.accesses],
                "schedule": self.schedule, "adjacent": self.adjacent}
