"""Managed threads: the scheduler's view of each ``threading.Thread`` of the program."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Optional

from ..accel import batons
from .waitqueue import WaitQueue


class State(enum.Enum):
    RUNNABLE = "runnable"
    #: Waiting on a primitive (``waiting_for``), possibly with a virtual-time ``deadline``.
    BLOCKED = "blocked"
    FINISHED = "finished"
    #: Blocked or busy in code the scheduler cannot see (a socket ``recv``, a C extension):
    #: the others run meanwhile, and the thread is re-admitted when it comes back.
    OUTSIDE = "outside"


#: ``handoff(to, me)``: release ``to``'s baton and wait on ``me``'s (``None``: do it in Python).
new_baton, handoff = batons()


@dataclass(eq=False)
class ManagedThread:
    #: Creation order; 0 is the main thread.  Schedules name threads by this number.
    tid: int
    name: str
    daemon: bool
    #: The ``threading.Thread`` object (``None`` for the main thread).
    thread: Any = None
    #: Held (locked) while the thread must not run; the scheduler releases it to hand over.
    baton: Any = field(default_factory=new_baton)
    state: State = State.RUNNABLE
    #: The primitive this thread is blocked on, for wake-ups and deadlock reports.
    waiting_for: Any = None
    #: Virtual time at which a timed wait gives up (``None``: waits forever).
    deadline: Optional[float] = None
    #: Virtual time at which its current wait began (for "the 5 s timeout expired" notes).
    wait_began: float = 0.0
    #: Set when the thread was woken by its deadline rather than by an event.
    timed_out: bool = False
    #: Locks currently held, in acquisition order (for deadlock and lock-order reports).
    held: list = field(default_factory=list)
    ident: Optional[int] = None
    #: The kernel's id of the thread (``threading.get_native_id``), for the watchdog.
    native_id: Optional[int] = None
    #: Threads joining this one, woken when it ends.
    joiners: WaitQueue = field(init=False)

    def __post_init__(self) -> None:
        self.baton.acquire()
        self.joiners = WaitQueue(self)

    @property
    def deadline_pending(self) -> bool:
        """Runnable only because its timeout may fire now."""
        return self.state is State.BLOCKED and self.deadline is not None

    def __repr__(self) -> str:
        return f"<thread {self.tid} {self.name} {self.state.value}>"
