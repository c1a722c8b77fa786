"""Installing the scheduler-aware replacements into ``threading``, ``time`` and ``queue``.

Done once per execution, in the child process, before the program's code runs, so locks the
program creates are controlled.  Locks that already existed (created when a library was
imported) stay real; the watchdog keeps them from freezing an execution.

Sources of nondeterminism are made repeatable too, so that a replayed schedule does what it
did: every clock reads the scheduler's virtual clock (``time.time``/``monotonic``/
``perf_counter`` and their ``_ns`` variants, ``datetime.now``/``utcnow``/``today``), and
``random``, ``os.urandom`` (so ``uuid.uuid4`` and ``secrets``) and unseeded ``random.Random``
instances start from one fixed seed in every execution.
"""

from __future__ import annotations

import collections.abc
import datetime
import functools
import os
import queue
import random
import signal
import sys
import threading
import time
from typing import Callable, Optional

from . import current, sync
from .recorder import CLOCK_LOCATION

_orig_start = threading.Thread.start
_orig_join = threading.Thread.join
_real_sleep = time.sleep
_real_time = time.time
_real_monotonic = time.monotonic
_real_perf_counter = time.perf_counter


def install(attach_thread: Callable[[], None], epoch: float) -> None:
    """Patch the stdlib; ``attach_thread`` installs the hooks in each new managed thread."""
    threading.Lock = sync.Lock
    threading._allocate_lock = sync.Lock
    threading.RLock = sync.RLock
    threading.Condition = sync.Condition
    threading._time = _virtual_monotonic
    queue.SimpleQueue = queue._PySimpleQueue  # the C one blocks where we cannot see it
    queue.time = _virtual_monotonic
    time.sleep = _sleep
    time.monotonic = _virtual_monotonic
    time.perf_counter = _virtual_monotonic
    time.time = lambda: epoch + _virtual_monotonic()
    time.monotonic_ns = _virtual_monotonic_ns
    time.perf_counter_ns = _virtual_monotonic_ns
    time.time_ns = lambda: int(epoch * 1e9) + _virtual_monotonic_ns()
    _install_datetime(epoch)
    _install_randomness()
    threading.Thread.start = _make_start(attach_thread)
    threading.Thread.join = _join
    threading.Thread.is_alive = _is_alive
    threading.Event.is_set = _event_is_set
    threading.Event.set = _event_set
    _order_pool_threads()
    signal.signal = _signal
    signal.getsignal = _getsignal


_orig_signal = signal.signal
_orig_getsignal = signal.getsignal


def _signal(signum, handler):
    """``signal.signal``, with a Python handler run atomically (unscheduled).

    CPython runs a handler in the main thread between two of its instructions, wherever that
    thread is: also while it waits for its turn, or inside the scheduler itself.  Scheduling
    the handler's code there would corrupt the hand-off; run as one step, it cannot."""
    if callable(handler):
        handler = _Atomic(handler)
    previous = _orig_signal(signum, handler)
    return previous.handler if isinstance(previous, _Atomic) else previous


def _getsignal(signum):
    handler = _orig_getsignal(signum)
    return handler.handler if isinstance(handler, _Atomic) else handler


class _Atomic:
    """A program's signal handler, run with the scheduler's hooks off."""

    def __init__(self, handler) -> None:
        self.handler = handler

    def __call__(self, signum, frame):
        sched = current.scheduler
        if sched is None:
            return self.handler(signum, frame)
        saved = sched._recording
        sched._recording = True  # hook calls and recording return at once
        try:
            return self.handler(signum, frame)
        finally:
            sched._recording = saved


def _virtual_monotonic() -> float:
    sched = current.scheduler
    if sched is None:
        return _real_monotonic()
    sched.touch(CLOCK_LOCATION, write=False)
    return 1000.0 + sched.clock


def _virtual_monotonic_ns() -> int:
    return int(round(_virtual_monotonic() * 1e9))


def _install_datetime(epoch: float) -> None:
    """``datetime.datetime.now()`` and friends on the virtual clock.

    ``datetime.datetime`` is a C type whose methods cannot be replaced, so the module gets a
    subclass under the same name; code imported before the execution began keeps the real
    class (its ``now()`` stays real: the stdlib and site-packages are not the program)."""
    real = datetime.datetime

    class VirtualDatetime(real):
        @classmethod
        def now(cls, tz=None):
            return cls.fromtimestamp(epoch + _virtual_monotonic(), tz)

        @classmethod
        def utcnow(cls):
            stamp = epoch + _virtual_monotonic()
            return cls.fromtimestamp(stamp, datetime.timezone.utc).replace(tzinfo=None)

        @classmethod
        def today(cls):
            return cls.now()

    class VirtualDate(datetime.date):
        @classmethod
        def today(cls):
            return cls.fromtimestamp(epoch + _virtual_monotonic())

    for cls, name in ((VirtualDatetime, "datetime"), (VirtualDate, "date")):
        cls.__name__ = cls.__qualname__ = name
        cls.__module__ = "datetime"
    datetime.datetime = VirtualDatetime
    datetime.date = VirtualDate


#: The seed every execution starts ``random``, ``os.urandom`` and unseeded generators from.
RANDOM_SEED = 0x1A7E


def _install_randomness() -> None:
    source = random.Random(RANDOM_SEED)  # interlace's own: the program never sees it
    real_seed = random.Random.seed

    def urandom(size: int) -> bytes:
        if size < 0:
            raise ValueError("negative argument not allowed")
        return source.getrandbits(8 * size).to_bytes(size, "little") if size else b""

    def seed(self, a=None, version=2):
        if a is None:
            a = source.getrandbits(64)
        real_seed(self, a, version)

    os.urandom = urandom
    random._urandom = urandom  # SystemRandom's
    random.Random.seed = seed
    random.seed(RANDOM_SEED)


class _OrderedThreads(collections.abc.MutableSet):
    """A set that iterates in insertion order, for ``ThreadPoolExecutor._threads``.

    The executor keeps its workers in a ``set`` and joins them in its order at shutdown: the
    order of their addresses, which differs between two runs of one schedule, so the joins
    (scheduling points) did too and a systematic search had to stop as "nondeterministic"
    on any program with a thread pool.
    """

    def __init__(self, items=()) -> None:
        self._items = dict.fromkeys(items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item) -> None:
        self._items[item] = None

    def discard(self, item) -> None:
        self._items.pop(item, None)


def _order_pool_threads() -> None:
    """Make ``ThreadPoolExecutor`` keep its workers in an :class:`_OrderedThreads`.

    The module is imported before the fork (``executor._preload_child_modules``), so every
    execution finds it here; an interpreter without it (never in CPython) is left alone.
    """
    pool = sys.modules.get("concurrent.futures.thread")
    executor_class = getattr(pool, "ThreadPoolExecutor", None)
    if executor_class is None or getattr(executor_class.__init__, "_interlace", False):
        return
    original = executor_class.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if type(getattr(self, "_threads", None)) is set:
            self._threads = _OrderedThreads(self._threads)

    __init__._interlace = True  # type: ignore[attr-defined]
    functools.update_wrapper(__init__, original)
    executor_class.__init__ = __init__


_orig_is_alive = threading.Thread.is_alive
_orig_is_set = threading.Event.is_set
_orig_event_set = threading.Event.set


def _is_alive(self: threading.Thread) -> bool:
    sched = current.scheduler
    mt = sched.managed(self) if sched is not None else None
    if mt is not None:
        sched.touch(mt, write=False)  # ordered against the thread's end
    return _orig_is_alive(self)


def _event_is_set(self: threading.Event) -> bool:
    sched = current.scheduler
    if sched is not None:
        # set() and clear() hold the Condition's lock: order this read against them.
        lock = self._cond._lock
        sched.touch(getattr(lock, "_block", lock), write=False)
    flag = _orig_is_set(self)
    if flag and sched is not None:
        # it saw a set(): what the setter did before set() happens before what follows
        # (--races).  Not through the lock: set() may still hold it, between its store of the
        # flag and its notify, when this runs.
        sched.touch(self, write=False)
    return flag


def _event_set(self: threading.Event) -> None:
    sched = current.scheduler
    if sched is not None:
        sched.touch(self, write=True)  # published before the flag can be seen (see is_set)
    _orig_event_set(self)


def _sleep(seconds: float) -> None:
    sched = current.scheduler
    if sched is None or sched.me() is None:
        return _real_sleep(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    sched.sleep(seconds)


class _StartedFlag:
    """A real one-shot event for ``Thread._started`` (set by the new thread before it parks)."""

    def __init__(self) -> None:
        self._gate = sync._real_lock()
        self._gate.acquire()
        self._flag = False

    def set(self) -> None:
        if not self._flag:
            self._flag = True
            self._gate.release()

    def is_set(self) -> bool:
        return self._flag

    def wait(self, timeout: Optional[float] = None) -> bool:
        if not self._flag:
            self._gate.acquire()
            self._gate.release()
        return True

    def clear(self) -> None:
        self._flag = False

    def _at_fork_reinit(self) -> None:
        """threading's after-fork hook calls this in a forked child (``Event`` has it)."""
        self._gate = sync._real_lock()
        if not self._flag:
            self._gate.acquire()


def _make_start(attach_thread: Callable[[], None]) -> Callable[[threading.Thread], None]:
    def start(self: threading.Thread) -> None:
        sched = current.scheduler
        if sched is None or sched.me() is None:
            return _orig_start(self)
        if not getattr(self, "_initialized", True):
            raise RuntimeError("thread.__init__() not called")
        if sched.managed(self) is not None or _orig_is_set(self._started):  # no recorded touch
            raise RuntimeError("threads can only be started once")
        mt = sched.add_thread(self)
        body = self.run
        self.run = lambda: sched.thread_main(mt, body, attach_thread)
        # Thread.start waits on an Event that the new thread sets before it parks; it must be
        # a real one, set outside the scheduler.
        self._started = _StartedFlag()
        _orig_start(self)
        sched.schedule()

    return start


def _join(self: threading.Thread, timeout: Optional[float] = None) -> None:
    sched = current.scheduler
    me = sched.me() if sched is not None else None
    mt = sched.managed(self) if me is not None else None
    if mt is None:
        return _orig_join(self, timeout)
    if mt is me:
        raise RuntimeError("cannot join current thread")
    from .threads import State
    sched.schedule()
    deadline = None if timeout is None else sched.clock + max(timeout, 0)
    while mt.state is not State.FINISHED:
        if mt.joiners.wait(sched, me, deadline):
            return
    sched.note("join", f"join {mt.name}", obj=mt, write=False)
