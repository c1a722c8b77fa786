"""Scheduler-aware ``Lock``, ``RLock`` and ``Condition``.

They replace ``threading``'s factories during an execution.  The stdlib's ``Semaphore``,
``BoundedSemaphore``, ``Event``, ``Barrier`` and ``queue.Queue`` look ``Lock``/``Condition`` up
at construction time, so they become scheduler-aware too, with their own logic unchanged.
A thread that would block waits in the primitive's :class:`~.waitqueue.WaitQueue`, parked on the
scheduler; it is never picked until a release, notify or its (virtual-time) timeout wakes it.
Threads interlace does not manage use the real lock underneath, so nothing is ever stuck.
"""

from __future__ import annotations

import _thread
import sys
import time
from typing import Any, Optional

from . import current
from .waitqueue import WaitQueue
from ..bytecode.symbolic import LOCAL_LOADS

_real_lock = _thread.allocate_lock
_label_counts: dict[str, int] = {}


def _new_label(kind: str) -> str:
    """``a`` for ``a = threading.Lock()`` in the program (``lock#2`` for the second primitive
    stored under that name), else ``Lock#1``: reports name locks as the program does."""
    base = _variable_name() or kind
    n = _label_counts.get(base, 0) + 1
    _label_counts[base] = n
    return base if n == 1 and base != kind else f"{base}#{n}"


#: code object -> {offset of a call: the name its result is stored under, or None}
_stored_names: dict[Any, dict[int, Optional[str]]] = {}
_STORES = {"STORE_NAME", "STORE_GLOBAL", "STORE_FAST", "STORE_DEREF"}
#: ``self`` in ``self.lock = Lock()``: 3.14 loads it with ``LOAD_FAST_BORROW``
_LOADS = {"LOAD_NAME", "LOAD_GLOBAL", "LOAD_DEREF"} | LOCAL_LOADS


def _variable_name() -> Optional[str]:
    """The variable or attribute the program's code stores the primitive being built in.

    Read from the constructing frame's bytecode (the instructions after the call), never from
    its objects: the observer runs none of the program's code.  Primitives that the stdlib or
    interlace builds for themselves (a Semaphore's Condition) get no name.
    """
    try:  # 0 this function, 1 _new_label, 2 the primitive's __init__, 3 who built it
        frame = sys._getframe(3)
    except ValueError:
        return None
    if frame.f_code.co_filename == __file__ or not _user_scope().includes(frame.f_code):
        return None  # built by another primitive (a Condition's RLock) or by a library
    names = _stored_names.get(frame.f_code)
    if names is None:
        names = _stored_names[frame.f_code] = _call_targets(frame.f_code)
    return names.get(frame.f_lasti)


def learn_names(code: Any) -> None:
    """Read where ``code`` and the functions it defines store what their calls return, ahead
    of time: the search does it once for its script, and every forked execution inherits the
    answer instead of disassembling the script again (a third of a small execution's time)."""
    if code in _stored_names:
        return
    _stored_names[code] = _call_targets(code)
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            learn_names(const)


def _call_targets(code: Any) -> dict[int, Optional[str]]:
    import dis
    instructions = list(dis.get_instructions(code))
    targets: dict[int, Optional[str]] = {}
    for i, instruction in enumerate(instructions):
        if not instruction.opname.startswith("CALL") and instruction.opname != "PRECALL":
            continue
        after = [x for x in instructions[i + 1:i + 4] if x.opname not in ("CACHE", "CALL", "PRECALL")]
        if after and after[0].opname in _STORES:
            targets[instruction.offset] = after[0].argval
        elif len(after) > 1 and after[0].opname in _LOADS and after[1].opname == "STORE_ATTR":
            targets[instruction.offset] = after[1].argval
    return targets


_scope = None


def _user_scope():
    global _scope
    if _scope is None:
        from ..hooks.scope import Scope
        _scope = Scope()
    return _scope


def _deadline(sched: Any, blocking: bool, timeout: Optional[float]) -> Optional[float]:
    if not blocking or timeout is None or timeout < 0:
        return None
    return sched.clock + timeout


class Lock:
    """Drop-in for ``threading.Lock``."""

    def __init__(self) -> None:
        self._real = _real_lock()
        self._interlace_owner = None
        self._interlace_label = _new_label("Lock")
        self._waiters = WaitQueue(self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        sched = current.scheduler
        me = sched.me() if sched is not None else None
        if me is None:
            return self._real.acquire(blocking, timeout)
        sched.schedule()
        deadline = _deadline(sched, blocking, timeout)
        while not self._real.acquire(False):
            if not blocking:
                sched.touch(self, write=False)
                return False
            if self._interlace_owner is None:
                sched.uncontrolled_locks.append(self._interlace_label)
                return self._real.acquire(blocking, timeout)
            # A blocked attempt changes nothing: systematic search treats the acquisition as
            # disabled until a release, so it is not a dependence (no location).
            sched.note("blocked", f"blocked on {self._interlace_label}")
            if self._waiters.wait(sched, me, deadline):
                sched.touch(self, write=False)  # it saw the lock still held
                return False
        self._interlace_owner = me
        sched.lock_order.acquired(me, self._interlace_label)
        me.held.append(self)
        sched.note("acquire", f"acquire {self._interlace_label}", obj=self)
        return True

    def release(self) -> None:
        self._real.release()  # raises RuntimeError on an unlocked lock, like the real one
        owner, self._interlace_owner = self._interlace_owner, None
        if owner is not None and self in owner.held:
            owner.held.remove(self)
        sched = current.scheduler
        if sched is not None:
            sched.note("release", f"release {self._interlace_label}", obj=self)
            self._waiters.wake(sched.wake)  # every waiter tries again, as with a real lock

    __enter__ = acquire

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def locked(self) -> bool:
        sched = current.scheduler
        if sched is not None:
            sched.touch(self, write=False)
        return self._real.locked()

    # the old spellings, which ``_thread.lock`` still answers to
    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def _at_fork_reinit(self) -> None:
        self._real = _real_lock()
        self._interlace_owner = None

    def __repr__(self) -> str:
        state = "locked" if self.locked() else "unlocked"
        return f"<interlace {self._interlace_label} {state}>"


class RLock:
    """Drop-in for ``threading.RLock`` (re-entrant; released by its owner only)."""

    def __init__(self) -> None:
        self._block = Lock()
        self._block._interlace_label = self._interlace_label = _new_label("RLock")
        self._owner: Optional[int] = None
        self._count = 0

    @property
    def _interlace_owner(self):
        return self._block._interlace_owner

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = _thread.get_ident()
        if self._owner == me:
            self._count += 1
            return True
        if not self._block.acquire(blocking, timeout):
            return False
        self._owner, self._count = me, 1
        return True

    __enter__ = acquire

    def release(self) -> None:
        if self._owner != _thread.get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._owner = None
            self._block.release()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def locked(self) -> bool:
        return self._block.locked()

    def _is_owned(self) -> bool:
        return self._owner == _thread.get_ident()

    def _recursion_count(self) -> int:
        """How deep the calling thread holds it (3.14's ``multiprocessing`` asks)."""
        return self._count if self._owner == _thread.get_ident() else 0

    def _release_save(self) -> tuple:
        if self._count == 0:
            raise RuntimeError("cannot release un-acquired lock")
        state = (self._count, self._owner)
        self._count, self._owner = 0, None
        self._block.release()
        return state

    def _acquire_restore(self, state: tuple) -> None:
        self._block.acquire()
        self._count, self._owner = state

    def _at_fork_reinit(self) -> None:
        self._block._at_fork_reinit()
        self._owner, self._count = None, 0

    def __repr__(self) -> str:
        return f"<interlace {self._interlace_label} count={self._count}>"


class Condition:
    """Drop-in for ``threading.Condition``; waiters are parked by the scheduler."""

    def __init__(self, lock: Any = None) -> None:
        if lock is None:
            lock = RLock()
        self._lock = lock
        self.acquire = lock.acquire
        self.release = lock.release
        if hasattr(lock, "locked"):  # Condition.locked (3.14)
            self.locked = lock.locked
        self._interlace_label = _new_label("Condition")
        self._waiters = WaitQueue(self)

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def _at_fork_reinit(self) -> None:
        """threading's after-fork hook (through ``Event``) calls this in a forked child."""
        self._lock._at_fork_reinit()
        self._waiters = WaitQueue(self)

    def __exit__(self, *exc: Any) -> None:
        return self._lock.__exit__(*exc)

    def _is_owned(self) -> bool:
        owned = getattr(self._lock, "_is_owned", None)
        if owned is not None:
            return owned()
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    def _release_save(self) -> Any:
        save = getattr(self._lock, "_release_save", None)
        if save is not None:
            return save()
        self._lock.release()
        return None

    def _acquire_restore(self, state: Any) -> None:
        restore = getattr(self._lock, "_acquire_restore", None)
        if restore is not None:
            restore(state)
        else:
            self._lock.acquire()

    def wait(self, timeout: Optional[float] = None) -> bool:
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        sched = current.scheduler
        me = sched.me() if sched is not None else None
        ticket = self._waiters.enter(me)  # before the release: a notify right after sees it
        saved = self._release_save()
        try:
            if me is None:
                _poll_until(ticket, timeout)
            else:
                sched.note("wait", f"wait on {self._interlace_label}", obj=self)
                deadline = _deadline(sched, True, timeout)
                while not ticket.woken:
                    if self._waiters.park(sched, deadline):
                        break
        finally:
            self._waiters.leave(ticket)
            self._acquire_restore(saved)
        return ticket.woken

    def wait_for(self, predicate: Any, timeout: Optional[float] = None) -> Any:
        sched = current.scheduler
        clock = (lambda: sched.clock) if sched is not None else time.monotonic
        endtime = None if timeout is None else clock() + timeout
        result = predicate()
        while not result:
            waittime = None
            if endtime is not None:
                waittime = endtime - clock()
                if waittime <= 0:
                    break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        sched = current.scheduler
        woken = self._waiters.wake(sched.wake if sched is not None else None, n)
        if sched is not None:
            sched.note("notify", f"notify {self._interlace_label} ({woken} woken)", obj=self)

    def notify_all(self) -> None:
        self.notify(len(self._waiters))

    notifyAll = notify_all

    def __repr__(self) -> str:
        return f"<interlace {self._interlace_label}({self._lock!r}, {len(self._waiters)})>"


def _poll_until(ticket: Any, timeout: Optional[float]) -> None:
    """Unmanaged threads wait the old-fashioned way (they are not on the scheduler)."""
    end = None if timeout is None else time.monotonic() + timeout
    while not ticket.woken and (end is None or time.monotonic() < end):
        _thread.allocate_lock().acquire(True, 0.001)
