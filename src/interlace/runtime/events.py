"""The event log of a recorded execution: what each thread did, in order.

An :class:`Event` is one thing one thread did at one scheduling step: a shared access (kind
``access``), an operation on a primitive or thread (``acquire``, ``release``, ``wait``,
``notify``, ``start``, ``begin``, ``join``, ``end``, ``sleep``, ``blocked``...), a dependence
the trace hides (``touch``), or a hand-off (``switch``).  Events with a ``location`` are what
happens-before and conflicts are computed from (DPOR, race detection): two events of different
threads *conflict* when their locations overlap (same location, or one is the ``WHOLE`` of an
object and the other a key of it) and at least one writes.  Locations are
:class:`~interlace.runtime.recorder.Location` ``(space, obj, key)`` tuples; ``as_dicts`` keeps
them as plain tuples (picklable, comparable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class Event:
    #: Scheduling step at which the event happened.
    step: int
    #: Thread number (0 = main).
    tid: int
    #: ``access``, ``switch``, or a sync kind: ``acquire``, ``release``, ``wait``, ``notify``,
    #: ``start``, ``join``, ``end``, ``sleep``, ``blocked``...
    kind: str
    text: str
    write: bool = False
    value: Optional[str] = None
    #: Conflict identity, a ``Location(space, obj, key)``: ``("obj", n, key)`` for a key of
    #: object number ``n`` (an attribute, a global of a module, a dict key, a list index;
    #: ``key`` ``None``: the whole object), ``("sync", n, None)`` for a primitive or thread,
    #: ``("cell", file, name)``, ``("clock", 0, None)``.  ``None``: no dependence (a switch).
    location: Any = None
    file: Optional[str] = None
    line: Optional[int] = None
    #: For switches: was the previous thread still runnable (a preemption)?
    preempted: bool = False
    #: Accesses: the plan step's kind (``global``, ``attr``, ``item``, ``call``...).
    op: Optional[str] = None
    #: Accesses, when asked for (``--races`` reports): the user frames, innermost first, as
    #: ``(file, line, function)``.
    stack: Optional[tuple] = None


class EventLog:
    """Append-only; bounded so a runaway loop cannot eat the machine's memory."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.dropped = 0

    def add(self, event: Event) -> None:
        if len(self.events) < self.LIMIT:
            self.events.append(event)
        else:
            self.dropped += 1

    def as_dicts(self) -> list[dict]:
        # by hand: dataclasses.asdict deep-copies every field, and was a third of a small
        # recorded execution's time
        return [{"step": e.step, "tid": e.tid, "kind": e.kind, "text": e.text, "write": e.write,
                 "value": e.value, "location": plain_location(e.location), "file": e.file,
                 "line": e.line, "preempted": e.preempted, "op": e.op, "stack": e.stack}
                for e in self.events]


def plain_location(location: Any) -> Any:
    """Locations hold object ids and keys; keep them picklable and comparable."""
    if location is None:
        return None
    return tuple(item if isinstance(item, (int, str, float, bool, type(None))) else repr(item)
                 for item in location)


#: Space tag of keyed objects (``recorder.OBJECT``; repeated here so that this module, which
#: the parent's DPOR imports, needs nothing from the recorder).
_OBJECT = "obj"


class Footprint:
    """What one transition (a thread's run between two scheduling points) touched.

    Two transitions are *dependent* when they touch one location and at least one writes.
    Objects are special: ``("obj", c, None)`` is the whole of object ``c`` (``len``, an
    ``append``, iteration, ``__class__`` assignment) and conflicts with every key of ``c``;
    ``("obj", c, k)`` conflicts only with the same key.  This is the independence relation
    systematic search reorders by.
    """

    __slots__ = ("locations", "parts")

    def __init__(self) -> None:
        #: location -> written?
        self.locations: dict[tuple, bool] = {}
        #: container id -> was some single key of it written?  (keyed accesses only)
        self.parts: dict[object, bool] = {}

    def add(self, location: tuple, write: bool) -> None:
        self.locations[location] = self.locations.get(location, False) or write
        if location[0] == _OBJECT and location[2] is not None:
            self.parts[location[1]] = self.parts.get(location[1], False) or write

    def conflicts(self, other: "Footprint") -> bool:
        for loc, write in self.locations.items():
            theirs = other.locations.get(loc)
            if theirs is not None and (write or theirs):
                return True
            if loc[0] == _OBJECT and loc[2] is None:
                part = other.parts.get(loc[1])
                if part is not None and (write or part):
                    return True
        for container, write in self.parts.items():
            whole = other.locations.get((_OBJECT, container, None))
            if whole is not None and (write or whole):
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.locations)

    def __getstate__(self):
        return (self.locations, self.parts)

    def __setstate__(self, state) -> None:
        self.locations, self.parts = state

    def __repr__(self) -> str:
        return f"Footprint({self.locations})"


def generalized(fp: Footprint, base: int) -> Footprint:
    """``fp`` with every object first touched at number ``base`` or later made anonymous.

    Object numbers agree between two executions only up to the point where their schedules
    part (``base`` objects were numbered by then); after it, the same object can get another
    number.  A sleeping thread's footprint and a new transition are compared with the objects
    of both numbered from ``base`` on treated as one: conservative, never unsound.
    """
    out = Footprint()
    for loc, write in fp.locations.items():
        if loc[0] in (_OBJECT, "sync") and isinstance(loc[1], int) and loc[1] >= base:
            loc = (loc[0], "*", *loc[2:])
        out.add(loc, write)
    return out


def footprint_of(events: list[dict]) -> Footprint:
    """The footprint of a list of recorded events (as :meth:`EventLog.as_dicts` gives them)."""
    fp = Footprint()
    for event in events:
        loc = event.get("location")
        if loc is not None:
            fp.add(tuple(loc), bool(event.get("write")))
    return fp


@dataclass
class Sleeper:
    """A thread kept from running first: the footprint of the transition it would make.

    Objects numbered from ``base`` on are anonymous in ``footprint`` (see :func:`generalized`).
    """

    footprint: Footprint
    base: int

    @classmethod
    def of(cls, fp: Footprint, base: int) -> "Sleeper":
        return cls(generalized(fp, base), base)

    def woken_by(self, fp: Footprint) -> bool:
        """Does a transition with footprint ``fp`` disturb this thread's transition?"""
        return self.footprint.conflicts(generalized(fp, self.base))
