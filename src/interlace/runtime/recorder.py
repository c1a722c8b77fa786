"""Recording one execution: which thread touched which location, in order.

The recorder is an observer, and an observer must not change what it observes:

- it never runs program code: no ``repr``, ``==``, ``hash``, ``getattr`` of program objects
  (see :mod:`interlace.runtime.access` for how objects are read without it); values are shown
  only for builtin immutable values recognized by exact type, anything else as
  ``<TypeName #n>``;
- it never keeps program objects alive: objects are numbered through weak references (see
  :class:`ObjectTable`), so ``__del__``, weakref callbacks and ``WeakSet`` removals happen
  exactly when they would without interlace.

Every recorded operation names a :class:`Location`; two operations of different threads
*conflict* when they touch one location and one of them writes (see
:class:`~interlace.runtime.events.Footprint`).  What is modelled, operation by operation, is
listed in docs/dpor.md ("The dependency model").
"""

from __future__ import annotations

import types
import weakref
from typing import Any, Callable, NamedTuple, Optional

from ..bytecode.plan import PlanEntry
from .events import Event, EventLog

#: The spaces of :class:`Location`.
OBJECT = "obj"   #: a key of one object (attribute, dict key, list index); key WHOLE: all of it
SYNC = "sync"    #: a synchronization primitive or a thread (any two non-observing ops conflict)
CELL = "cell"    #: a closure variable, by file and name (a frame does not expose its cells)
CLOCK = "clock"  #: the virtual clock
#: The key of an operation on a whole object (``len``, iteration, ``append``, ``__class__ =``).
WHOLE = None


class Location(NamedTuple):
    """What one recorded operation touched.

    ``obj`` is the object's number in this execution (first-touch order, so it is the same in
    every execution that follows the same schedule), a file name for cells, ``0`` for the
    clock, or ``"*"`` in a generalized footprint (see ``events.generalized``).  ``key`` is an
    attribute name, a dict key, a list index, or :data:`WHOLE`.  An object's attributes are
    keys of its instance ``__dict__``: ``obj.x``, ``obj.__dict__["x"]``, ``vars(obj)["x"]``,
    ``setattr(obj, "x", v)`` and (for a module) the global ``x`` are one location.
    """

    space: str
    obj: Any
    key: Any = WHOLE


CLOCK_LOCATION = Location(CLOCK, 0)


class ObjectTable:
    """Numbers for objects in first-touch order, without keeping any of them alive.

    Addresses differ between executions, first-touch order does not (as long as two
    executions follow one schedule), so numbers are what locations hold.

    An object that can be weakly referenced is remembered by a weak reference: when it dies
    and another object takes its address, the newcomer gets a new number.  One that cannot
    (``list``, ``dict``, ``int``, ``tuple``, instances of classes with ``__slots__`` and no
    ``__weakref__``) is remembered by address and exact type only: if it dies and an object of
    the same type takes its address, the two share a number and are treated as one location.
    That only adds conflicts (more interleavings explored, never fewer), and holding the
    object instead would keep it and everything it refers to alive.

    An object with an instance ``__dict__`` and that dict share one number (see
    :meth:`owner`), so that ``obj.x`` and ``obj.__dict__["x"]`` are one location.
    """

    def __init__(self) -> None:
        #: id -> (weak reference or None, number, exact type)
        self._by_id: dict[int, tuple[Optional[weakref.ref], int, type]] = {}
        self.count = 0

    def lookup(self, obj: object) -> Optional[int]:
        entry = self._by_id.get(id(obj))
        if entry is None:
            return None
        ref, number, kind = entry
        if ref is None:
            return number if type(obj) is kind else None
        return number if ref() is obj else None

    def number(self, obj: object) -> int:
        found = self.lookup(obj)
        if found is None:
            found = self.count
            self.count += 1
            self._set(obj, found)
        return found

    def owner(self, obj: object, instance_dict: Optional[dict]) -> int:
        """The number of ``obj``, shared with its instance dict (``None``: it has none)."""
        if instance_dict is None:
            return self.number(obj)
        mine, theirs = self.lookup(obj), self.lookup(instance_dict)
        if mine is None:
            mine = theirs if theirs is not None else self.number(obj)
            self._set(obj, mine)
        if theirs != mine:
            self._set(instance_dict, mine)  # a new ``__dict__`` joins its owner
        return mine

    def _set(self, obj: object, number: int) -> None:
        try:
            ref: Optional[weakref.ref] = weakref.ref(obj)
        except TypeError:
            ref = None
        self._by_id[id(obj)] = (ref, number, type(obj))


class Recorder:
    """The event log of one recorded execution, and the bookkeeping that feeds it.

    The scheduler calls :meth:`access` for planned instructions, :meth:`sync` for operations
    on primitives and threads, :meth:`touch` for dependences the trace hides, and
    :meth:`switch` for hand-offs.  Nothing here decides who runs next.
    """

    #: Unmodelled operations kept per execution (the first ones are the ones reported).
    UNMODELLED_LIMIT = 20

    def __init__(self, values: bool, in_scope: Optional[Callable[[types.CodeType], bool]] = None,
                 stacks: bool = False) -> None:
        from .access import Namer
        self.log = EventLog()
        self.objects = ObjectTable()
        #: Show the values read (for traces people read; systematic search goes without).
        self.values = values
        self.namer = Namer()
        #: Is a code object the program's (its own accesses are recorded when it runs)?
        self.in_scope = in_scope or (lambda code: True)
        #: ``file:line: operation`` for operations on objects the recorder could not name:
        #: a systematic search that met one cannot claim "verified".
        self.unmodelled: list[str] = []
        self._unmodelled_seen: set[str] = set()
        #: Every access carries its stack of user frames (``--races`` reports).
        self.stacks = stacks

    def access(self, step: PlanEntry, frame: types.FrameType, at: int, tid: int) -> None:
        from .access import resolve
        for access in resolve(step, frame, self):
            if access.location is None:
                self._unmodelled(f"{frame.f_code.co_filename}:{step.line}: {access.label}")
                continue
            self.log.add(Event(at, tid, "access", access.label, write=access.write,
                               value=access.value, location=access.location,
                               file=frame.f_code.co_filename, line=step.line, op=step.kind,
                               stack=user_stack(frame) if self.stacks else None))

    def sync(self, at: int, tid: int, kind: str, text: str, obj: Any, write: bool,
             file: Optional[str], line: Optional[int]) -> None:
        location = Location(SYNC, self.objects.number(obj)) if obj is not None else None
        self.log.add(Event(at, tid, kind, text, write=write, location=location, file=file, line=line))

    def touch(self, at: int, tid: int, obj: Any, write: bool, kind: str = "touch") -> None:
        """A dependence the trace hides: on a primitive, or (a :class:`Location`) directly."""
        location = obj if isinstance(obj, Location) else Location(SYNC, self.objects.number(obj))
        self.log.add(Event(at, tid, kind, "", write=write, location=location))

    def switch(self, at: int, tid: int, text: str, preempted: bool) -> None:
        self.log.add(Event(at, tid, "switch", text, preempted=preempted))

    def _unmodelled(self, note: str) -> None:
        if note not in self._unmodelled_seen and len(self.unmodelled) < self.UNMODELLED_LIMIT:
            self._unmodelled_seen.add(note)
            self.unmodelled.append(note)


def user_stack(frame, limit: int = 20) -> tuple:
    """``(file, line, function)`` of the user frames from ``frame`` outwards (innermost first)."""
    from ..hooks.scope import PACKAGE_DIR, _library_dirs
    hidden = (PACKAGE_DIR, *_library_dirs())
    out = []
    while frame is not None and len(out) < limit:
        code = frame.f_code
        if not code.co_filename.startswith(hidden):
            out.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return tuple(out)
