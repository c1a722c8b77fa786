"""The scheduler of one execution: exactly one managed thread runs at a time.

Threads reach the scheduler at *scheduling points*: the hooks call :meth:`Scheduler.dispatch`
before instructions the switch model marks, and the cooperative primitives call
:meth:`Scheduler.schedule` and :meth:`Scheduler.block`.  At each point the policy picks the next
thread; handing over means releasing the chosen thread's baton and parking on one's own.
"""

from __future__ import annotations

import _thread
import sys
import threading
import traceback
from typing import Any, Callable, Optional, Sequence

from ..bytecode.plan import Step
from ..hooks.scope import PACKAGE_DIR as _PACKAGE_DIR
from .access import Namer, callee_is_python, resolve
from .events import CLOCK, Event, EventLog
from .policies import Policy, default_choice
from .threads import ManagedThread, State, handoff as _handoff

_real_lock = _thread.allocate_lock
_get_ident = _thread.get_ident
_RUNNABLE, _BLOCKED = State.RUNNABLE, State.BLOCKED
_CHECKS_AFTER_EVERY_CALL = sys.version_info < (3, 11)


class Abort(BaseException):
    """Unwinds a parked thread once the execution is over (never reaches user code's except)."""


class Scheduler:
    #: The state the hooks' hot path reads.  The C accelerator (``interlace.hooks.bind_scheduler``)
    #: mirrors these into C through data descriptors on a per-execution subclass, so every write
    #: is seen at once; on the pure-Python path they are plain attributes.  When not recording,
    #: C also counts the scheduling points ``Policy.quiet_until`` promises to keep quiet (only
    #: ``points += 1; step += 1``, as :meth:`schedule` does there): any other per-step effect
    #: added to ``schedule``/``_choose`` must keep ``quiet_until`` returning ``step`` for it.
    #: Every change of the runnable threads or of the running thread must write ``alone``, and
    #: a change to when :meth:`dispatch` does something must be made in ``_accel.c`` (decide) too.
    #: ``runnable`` is published for C only (Python never reads it back): the threads of the
    #: last choice, valid until ``alone`` is written; with them and a policy that is a random
    #: walk (``Policy.random_walk``), C makes those choices itself and calls :meth:`switch_to`
    #: only when the choice is another thread.
    ACCEL_FLAGS = ("alone", "pending_switch", "outside_count", "step", "points", "running",
                   "runnable")

    def __init__(self, policy: Policy, *, record: bool, max_steps: int,
                 finish: Callable[[dict], None], record_values: bool = True,
                 keep_events: bool = True, record_stacks: bool = False) -> None:
        self.policy = policy
        #: Record every shared access and sync operation (final replays, systematic search).
        self.record = record
        #: Recorded reads carry the value read (a ``repr``: only for the trace people read).
        self.record_values = record_values
        #: Send the event log back with the outcome (``--races`` searches detect in the child).
        self.keep_events = keep_events
        #: Recorded accesses carry their stack of user frames (``--races`` reports).
        self.record_stacks = record_stacks
        #: Inside the recorder: a ``repr`` there may run user code, which must neither be
        #: recorded nor reach a scheduling point.
        self._recording = False
        self.max_steps = max_steps
        #: Called once with the execution's outcome; never returns (ends the process).
        self._finish = finish
        self.threads: list[ManagedThread] = []
        self.by_object: dict[int, ManagedThread] = {}
        self.current: Optional[ManagedThread] = None
        #: Scheduling points with a choice: the unit of schedules and PCT's step bound.
        self.step = 0
        #: Every scheduling point, choice or not: bounds livelocks.
        self.points = 0
        #: Choices that differ from the default policy: the replayable schedule.
        self.deviations: list[tuple[int, int]] = []
        self.preemptions = 0
        self.switches = 0
        self.clock = 0.0
        #: A switch is owed at the next scheduling opportunity (``gil``: after a C call).
        self.pending_switch = False
        #: Threads marked OUTSIDE by the watchdog; checked on every hook call (cheap int).
        self.outside_count = 0
        #: Notes on what ran outside the scheduler's control (honest verdicts).
        self.outside_notes: list[str] = []
        self.uncontrolled_locks: list[str] = []
        self.lock_order = LockOrder()
        #: Guards state shared with the watchdog and threads returning from native code.
        self.mutex = _real_lock()
        self.log = EventLog() if record else None
        #: Every choice point as ``(enabled tids, chosen tid, running tid or None, objects
        #: numbered so far)``, for systematic search (``None`` when not recording).
        self.choices: Optional[list[tuple[tuple[int, ...], int, Optional[int], int]]] = [] if record else None
        #: Object id -> number in order of first recorded touch.  Addresses differ between
        #: executions (every fork starts from a different parent heap); first-touch order is
        #: the same as long as two executions follow the same schedule.
        self.objects: dict[int, int] = {}
        self._numbered: list[Any] = []
        self.namer = Namer()
        self.finished = False
        #: Cached "no other thread could run now" (``None``: unknown).  Lets the hot path skip
        #: scheduling points when there is no choice; reset on every thread state change.
        self.alone: Optional[bool] = None
        #: The ident of the thread whose turn it is, set by that thread when it resumes.  A
        #: hook call from any other thread (one interlace does not manage, or a managed one
        #: still on its way to park) decides nothing.
        self.running: Optional[int] = None
        #: The runnable threads at the last scheduling point with a choice, for the C
        #: accelerator (see ``ACCEL_FLAGS``).
        self.runnable: Optional[list[ManagedThread]] = None
        self._strays: set[int] = set()
        main = self._new_thread("MainThread", daemon=False, thread=None)
        main.baton.release()  # the main thread starts out running
        main.baton.acquire()
        main.ident = self.running = _thread.get_ident()
        self.current = main
        policy.attach(self)

    # -- threads -------------------------------------------------------------------------------

    def _new_thread(self, name: str, daemon: bool, thread: Any) -> ManagedThread:
        mt = ManagedThread(len(self.threads), name, daemon, thread)
        self.threads.append(mt)
        self.alone = None
        if thread is not None:
            self.by_object[id(thread)] = mt
        self.policy.thread_created(mt)
        return mt

    def add_thread(self, thread: Any) -> ManagedThread:
        mt = self._new_thread(thread.name, bool(thread.daemon), thread)
        self.note("start", f"start {mt.name}", obj=mt)
        return mt

    def managed(self, thread: Any) -> Optional[ManagedThread]:
        return self.by_object.get(id(thread))

    def me(self) -> Optional[ManagedThread]:
        """The calling managed thread, or ``None`` for threads interlace does not manage."""
        if self.outside_count:
            self._readmit()
        current = self.current
        if current is not None and current.ident == _thread.get_ident():
            return current
        return None

    def thread_main(self, mt: ManagedThread, body: Callable[[], None], attach: Callable[[], None]) -> None:
        """Body of every managed thread: wait for the first turn, run, report, hand over."""
        mt.ident = _thread.get_ident()
        attach()
        self._park(mt)
        self.touch(mt, write=False, kind="begin")  # ordered after the start that created it
        try:
            body()
        except Abort:
            return
        except SystemExit:
            pass
        except BaseException as exc:  # noqa: BLE001 - any uncaught exception is a finding
            self.fail_exception(exc, mt)
        self.thread_finished(mt)

    def thread_finished(self, mt: ManagedThread) -> None:
        with self.mutex:
            mt.state = State.FINISHED
            self.alone = None
            self.note("end", f"{mt.name} ends", obj=mt)
            for other in self.threads:
                if other.state is State.BLOCKED and other.waiting_for in (mt, _SHUTDOWN):
                    if other.waiting_for is mt or self._only_daemons_left():
                        self._wake(other)
        self._switch_away(mt, park=False)

    def main_finished(self) -> None:
        """The script's main code returned: shut down like CPython's ``threading._shutdown``.

        That first calls what libraries registered with ``threading._register_atexit``
        (``concurrent.futures`` wakes and joins its idle workers there), in the main thread,
        then waits for the non-daemon threads.
        """
        main = self.threads[0]
        if hasattr(threading, "_SHUTTING_DOWN"):
            threading._SHUTTING_DOWN = True  # type: ignore[attr-defined]
        for call in reversed(list(getattr(threading, "_threading_atexits", ()))):
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - reported like CPython prints it, as a failure
                self.fail_exception(exc, main)
        while not self._only_daemons_left():
            self.block(_SHUTDOWN)
        main.state = State.FINISHED
        self.alone = None

    def _only_daemons_left(self) -> bool:
        return all(t.state is State.FINISHED or t.daemon for t in self.threads[1:])

    # -- scheduling points ---------------------------------------------------------------------

    def dispatch(self, step: Step, frame: Any) -> None:
        """Hook entry: called before each planned instruction of the running thread."""
        if self._recording:
            return
        if self.outside_count:
            self._readmit()
        if self.running != _get_ident():
            self._stray(step, frame)
            return
        if (step.switch or self.pending_switch) and self.alone is not True:
            self.pending_switch = False
            self.schedule()
        if self.log is not None and step.kind is not None:
            self._record_access(step, frame)
        if step.switch_after_c_call and (_CHECKS_AFTER_EVERY_CALL or not callee_is_python(step, frame)):
            self.pending_switch = True

    def _stray(self, step: Step, frame: Any) -> None:
        """User code ran in a thread whose turn it is not: note it once if interlace does not
        manage that thread (a managed one is on its way to park, or ends)."""
        ident = _get_ident()
        if ident in self._strays or any(t.ident == ident for t in self.threads):
            return
        self._strays.add(ident)
        frame = frame or _user_frame()
        where = f"{frame.f_code.co_filename}:{step.line}" if frame is not None else f"line {step.line}"
        self.outside_notes.append(
            f"a thread interlace does not manage (not a threading.Thread started after it took "
            f"over) ran the program's code at {where}; what it did was not under control")

    def schedule(self) -> None:
        """A point where the running thread may be preempted.

        Only points with a real choice (another thread could run) count as steps: they are
        what schedules and PCT's step bound are made of.
        """
        self.points += 1
        if self.points > self.max_steps:
            self.fail("livelock", f"no progress after {self.max_steps} scheduling points "
                      "(a thread may spin forever waiting for another)")
        current = self.current
        runnable = self._runnable()
        if len(runnable) == 1 and runnable[0] is current:
            self.alone = True
            return
        self.alone = False
        self.runnable = runnable
        self.step += 1
        choice = self._choose(runnable, current)
        if choice is not current:
            self._transfer(current, choice, park=True)

    def switch_to(self, runnable: tuple[ManagedThread, ...], choice: ManagedThread) -> None:
        """C made the choice of a scheduling point (already counted): run ``choice`` next.

        Called by the accelerator only, when the policy's random walk chose another thread
        than the running one among ``runnable`` (as published in ``self.runnable``)."""
        current = self.current
        self._chosen(runnable, current, choice)
        self._transfer(current, choice, park=True)

    def block(self, resource: Any, deadline: Optional[float] = None) -> bool:
        """Park the running thread until ``resource`` wakes it; True if the deadline fired."""
        me = self.current
        me.state = State.BLOCKED
        self.alone = None
        me.waiting_for = resource
        me.deadline = deadline
        me.timed_out = False
        if deadline is not None:
            self.touch(CLOCK, write=True, raw=True)  # its deadline can disable others' timeouts
        self._switch_away(me, park=True)
        # Each primitive records what it observes once awake (acquire, join...); a timeout
        # observes the clock.
        if me.timed_out:
            self.touch(CLOCK, write=True, raw=True)
        return me.timed_out

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            self.schedule()
            return
        self.note("sleep", f"sleep({seconds:g})")
        self.block(_SLEEP, self.clock + seconds)

    def wake(self, thread: ManagedThread) -> None:
        with self.mutex:
            self._wake(thread)

    def _wake(self, thread: ManagedThread) -> None:
        if thread.state is State.BLOCKED:
            thread.state = State.RUNNABLE
            self.alone = None
            thread.waiting_for = None
            thread.deadline = None

    def _runnable(self) -> list[ManagedThread]:
        """Runnable threads in creation order, then the timed waiters whose deadline is first.

        One pass (this runs at every scheduling point with a choice)."""
        ready = []
        timed = None
        for t in self.threads:
            state = t.state
            if state is _RUNNABLE:
                ready.append(t)
            elif state is _BLOCKED and t.deadline is not None:
                if timed is None:
                    timed = [t]
                else:
                    timed.append(t)
        if timed:
            first = min(t.deadline for t in timed)
            ready.extend(t for t in timed if t.deadline == first)
        return ready

    def _choose(self, runnable: list[ManagedThread], current: Optional[ManagedThread]) -> ManagedThread:
        choice = self.policy.choose(self.step, runnable, current)
        self._chosen(runnable, current, choice)
        return choice

    def _chosen(self, runnable: Sequence[ManagedThread], current: Optional[ManagedThread],
                choice: ManagedThread) -> None:
        """Record the choice of step ``self.step``: for systematic search, and as a deviation."""
        if self.choices is not None:
            running = current.tid if current is not None and current.state is State.RUNNABLE else None
            self.choices.append((tuple(t.tid for t in runnable), choice.tid, running, len(self.objects)))
        if choice is not default_choice(runnable, current):
            self.deviations.append((self.step, choice.tid))
            if current is not None and current.state is State.RUNNABLE:
                self.preemptions += 1

    def _switch_away(self, me: ManagedThread, park: bool) -> None:
        """``me`` cannot continue (blocked or finished): pick another thread or report."""
        with self.mutex:
            runnable = self._runnable()
            if not runnable:
                if self.outside_count:
                    self.current = None  # idle until a thread returns from native code
                else:
                    self._deadlock_or_done(me)
                    return
        if runnable:
            self.step += 1
            choice = self._choose(runnable, me)
            self._transfer(me, choice, park=park)
        elif park:
            self._park(me)

    def _transfer(self, me: Optional[ManagedThread], to: ManagedThread, park: bool) -> None:
        if to.state is State.BLOCKED:  # its timeout fires now
            self.clock = max(self.clock, to.deadline)
            to.state = State.RUNNABLE
            self.alone = None
            to.timed_out = True
            to.deadline = None
            to.waiting_for = None
        if me is to:
            return
        self.switches += 1
        if self.log is not None:
            self.log.add(Event(self.step, to.tid, "switch", f"switch to {to.name}",
                               preempted=me is not None and me.state is State.RUNNABLE))
        self.current = to
        if park and me is not None and _handoff is not None:
            _handoff(to.baton, me.baton)  # C batons: release theirs, wait on ours, GIL dropped
            if self.finished:
                raise Abort()
            self.running = me.ident
            return
        to.baton.release()
        if park and me is not None:
            self._park(me)

    def _park(self, me: ManagedThread) -> None:
        me.baton.acquire()
        if self.finished:
            raise Abort()
        self.running = me.ident

    def _readmit(self) -> None:
        ident = _thread.get_ident()
        with self.mutex:
            mine = next((t for t in self.threads if t.ident == ident and t.state is State.OUTSIDE), None)
            if mine is None:
                return
            self.outside_count -= 1
            mine.state = State.RUNNABLE
            self.alone = None
            if self.current is None:
                self.current = mine
                self.running = mine.ident
                return
        self._park(mine)

    # -- recording -----------------------------------------------------------------------------

    def _record_access(self, step: Step, frame: Any) -> None:
        if frame is None:
            frame = sys._getframe(3)
        self._recording = True
        try:
            access = resolve(step, frame, self.namer, self.record_values)
        finally:
            self._recording = False
        if access is not None:
            self.log.add(Event(self.step, self.current.tid, "access", access.label,
                               write=access.write, value=access.value,
                               location=self._logical(access.location, access.target),
                               file=frame.f_code.co_filename, line=step.line, op=step.kind,
                               stack=_user_stack(frame) if self.record_stacks else None))

    def note(self, kind: str, text: str, obj: Any = None, write: bool = True) -> None:
        """Record a synchronization event (lock, start, join, notify...) in the trace.

        ``write``: does it change the primitive's state (acquire, release, notify) or only
        observe it (a blocked attempt, a join that returns)?  Systematic search reorders two
        operations on one primitive unless both only observe.
        """
        if self.log is None or self.current is None or self._recording:
            return
        frame = _user_frame()
        self.log.add(Event(self.step, self.current.tid, kind, text, write=write,
                           location=("s", self._number(obj)) if obj is not None else None,
                           file=frame.f_code.co_filename if frame else None,
                           line=frame.f_lineno if frame else None))

    def touch(self, obj: Any, write: bool, raw: bool = False, kind: str = "touch") -> None:
        """Record a dependence on a primitive (or, ``raw``, a location) that the trace hides."""
        if self.log is None or self.current is None or self._recording:
            return
        location = obj if raw else ("s", self._number(obj))
        self.log.add(Event(self.step, self.current.tid, kind, "", write=write, location=location))

    def _number(self, obj: Any) -> int:
        number = self.objects.get(id(obj))
        if number is None:
            number = self.objects[id(obj)] = len(self.objects)
            # Alive until the execution ends: a dead object's address can be reused, and its
            # successor must not inherit its number (nor its number depend on the heap).
            self._numbered.append(obj)
        return number

    def _logical(self, location: tuple, target: Any) -> tuple:
        """``location`` with the object's address replaced by its first-touch number."""
        if location[0] in ("g", "a", "o") and isinstance(location[1], int):
            return (location[0], self._number(target), *location[2:])
        return location

    # -- outcomes ------------------------------------------------------------------------------

    def fail_exception(self, exc: BaseException, thread: ManagedThread) -> None:
        kind = "assertion" if isinstance(exc, AssertionError) else "exception"
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_PACKAGE_DIR)]
        text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + \
            "".join(traceback.format_exception_only(type(exc), exc))
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.fail(kind, f"{message} (in thread {thread.name})", details=text, thread=thread)

    def fail(self, kind: str, summary: str, details: str = "", thread: Optional[ManagedThread] = None) -> None:
        self.conclude({"failed": True, "kind": kind, "summary": summary, "details": details,
                       "thread": (thread or self.current).name if (thread or self.current) else None})

    def conclude(self, outcome: dict) -> None:
        self.finished = True
        outcome.update({
            "steps": self.step, "deviations": list(self.deviations),
            "preemptions": self.preemptions, "switches": self.switches,
            "threads": [t.name for t in self.threads],
            "outside": list(self.outside_notes),
            "uncontrolled_locks": sorted(set(self.uncontrolled_locks)),
            "lock_order": self.lock_order.inversions(),
            "events": self.log.as_dicts() if self.log is not None and self.keep_events else None,
            "choices": self.choices,
        })
        outcome.update(self.policy.report())
        self._finish(outcome)

    def _deadlock_or_done(self, me: ManagedThread) -> None:
        from .deadlock import describe_deadlock
        live = [t for t in self.threads if t.state is not State.FINISHED]
        if all(t.daemon for t in live if t.tid != 0) and self.threads[0].state is State.FINISHED:
            self.conclude({"failed": False})
        summary, details = describe_deadlock(self, live)
        self.fail("deadlock", summary, details)


class LockOrder:
    """Lock-acquisition order per thread, to warn about ABBA inversions that did not deadlock."""

    def __init__(self) -> None:
        self._edges: dict[tuple[str, str], str] = {}

    def acquired(self, thread: ManagedThread, lock_label: str) -> None:
        for held in thread.held:
            label = getattr(held, "_interlace_label", None)
            if label and label != lock_label:
                self._edges.setdefault((label, lock_label), thread.name)

    def inversions(self) -> list[str]:
        out = []
        for (a, b), who in self._edges.items():
            other = self._edges.get((b, a))
            if other and other != who and a < b:
                out.append(f"{who} took {a} then {b}, while {other} took {b} then {a}")
        return out


_SHUTDOWN = "interpreter shutdown (waiting for non-daemon threads)"
_SLEEP = "time.sleep"


def _user_stack(frame, limit: int = 20) -> tuple:
    """``(file, line, function)`` of the user frames from ``frame`` outwards (innermost first)."""
    from ..hooks.scope import _library_dirs
    hidden = (_PACKAGE_DIR, *_library_dirs())
    out = []
    while frame is not None and len(out) < limit:
        code = frame.f_code
        if not code.co_filename.startswith(hidden):
            out.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return tuple(out)


def _user_frame():
    """The innermost frame outside interlace and threading/queue internals."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_PACKAGE_DIR) and not name.endswith(("threading.py", "queue.py")):
            return frame
        frame = frame.f_back
    return None
