"""The one wait queue under every blocking primitive: ``Lock``, ``Condition``, ``join``, shutdown.

As trio's ``ParkingLot``: a primitive decides *whether* its thread must wait (the lock is held,
the thread has not ended, nobody notified yet); the queue holds who waits, in arrival order,
parks them on the scheduler and wakes them.  So there is one place that says how a thread
waits (blocked on the scheduler, with an optional virtual-time deadline, named in deadlock
reports by the queue's ``resource``) and in which order waiters are woken.

A ticket stays in the queue from :meth:`WaitQueue.enter` to :meth:`WaitQueue.leave`; between
the two a thread may park several times (a lock re-checked after each release).  A woken
ticket is not removed: its thread leaves when it is done waiting, as ``threading``'s own
waiters do.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional


class Ticket:
    """One waiter: its managed thread (``None`` for a thread interlace does not manage, which
    polls ``woken`` itself) and whether a wake-up was meant for it."""

    __slots__ = ("thread", "woken")

    def __init__(self, thread: Any) -> None:
        self.thread = thread
        self.woken = False


class WaitQueue:
    """Threads waiting for ``resource``, in the order they came."""

    __slots__ = ("resource", "_tickets")

    def __init__(self, resource: Any) -> None:
        #: What a parked thread waits for (``ManagedThread.waiting_for``): the primitive
        #: itself, so deadlock reports name it and find its owner.
        self.resource = resource
        self._tickets: list[Ticket] = []

    def __len__(self) -> int:
        return len(self._tickets)

    def __iter__(self) -> Iterator[Ticket]:
        return iter(self._tickets)

    def enter(self, thread: Any) -> Ticket:
        ticket = Ticket(thread)
        self._tickets.append(ticket)
        return ticket

    def leave(self, ticket: Ticket) -> None:
        if ticket in self._tickets:
            self._tickets.remove(ticket)

    def park(self, sched: Any, deadline: Optional[float] = None) -> bool:
        """Block the running thread on the scheduler until woken; True if ``deadline`` (virtual
        time) ended the wait instead."""
        return sched.block(self.resource, deadline)

    def wait(self, sched: Any, thread: Any, deadline: Optional[float] = None) -> bool:
        """Enter, park once, leave: True if the deadline ended the wait."""
        ticket = self.enter(thread)
        try:
            return self.park(sched, deadline)
        finally:
            self.leave(ticket)

    def wake(self, wake_thread: Optional[Callable[[Any], None]], n: Optional[int] = None) -> int:
        """Wake the first ``n`` waiters not woken yet (all of them for ``None``), in arrival
        order, through ``wake_thread`` (the scheduler's; ``None`` once the execution ended, when
        only the tickets are marked).  Returns how many were woken."""
        woken = 0
        for ticket in list(self._tickets):
            if n is not None and woken >= n:
                break
            if ticket.woken:
                continue
            ticket.woken = True
            woken += 1
            if wake_thread is not None and ticket.thread is not None:
                wake_thread(ticket.thread)
        return woken
