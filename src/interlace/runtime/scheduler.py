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

from ..bytecode.plan import PlanEntry
from ..hooks.scope import PACKAGE_DIR as _PACKAGE_DIR
from ..outcome import FailureKind, Outcome
from .access import callee_is_python, release_locals
from .deadlock import LockOrder, label as waited_label
from .recorder import CLOCK_LOCATION, Recorder
from .policies import Policy, default_choice
from .threads import ManagedThread, State, handoff as _handoff
from .waitqueue import WaitQueue

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
                 finish: Callable[[Outcome], None], record_values: bool = True,
                 in_scope: Optional[Callable[[Any], bool]] = None,
                 assume_no_timeouts: bool = False, keep_events: bool = True,
                 record_stacks: bool = False) -> None:
        self.policy = policy
        #: Timed waits (not sleeps) give up only when no other thread can run: the program's
        #: assumption that its timeouts never expire while the awaited thread can still act.
        self.assume_no_timeouts = assume_no_timeouts
        #: Timed waits that gave up in this execution, as sentences (explained in reports).
        self.timeouts_fired: list[str] = []
        #: Record every shared access and sync operation (final replays, systematic search).
        self.record = record
        #: The recorder of accesses and sync operations (``None`` when not recording).  It
        #: never runs program code; ``_recording`` still guards it, so that a finaliser the
        #: interpreter runs meanwhile is neither recorded nor a scheduling point.  With
        #: ``record_stacks`` every access carries its user frames (``--races`` reports).
        self.recorder: Optional[Recorder] = \
            Recorder(record_values, in_scope, stacks=record_stacks) if record else None
        #: Send the event log back with the outcome (``--races`` searches detect in the child).
        self.keep_events = keep_events
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
        #: The choices that differ from the default one: this execution's replayable schedule.
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
        #: The main thread waiting, at the end of the script, for the non-daemon threads...
        self.shutdown = WaitQueue(_SHUTDOWN)
        #: ...and threads in ``time.sleep``, which only their deadline wakes.
        self.sleepers = WaitQueue(_SLEEP)
        self.log = self.recorder.log if self.recorder is not None else None
        #: Every choice point as ``(enabled tids, chosen tid, running tid or None, objects
        #: numbered so far)``, for systematic search (``None`` when not recording).
        self.choices: Optional[list[tuple[tuple[int, ...], int, Optional[int], int]]] = [] if record else None
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
        main.native_id = _thread.get_native_id()
        self.current = main
        policy.attach(self)

    def adopt(self, policy: Policy) -> None:
        """Take ``policy`` instead of the stand-in this scheduler was made with (a spare
        child, set up before its execution was known; nothing has run yet)."""
        self.policy = policy
        for thread in self.threads:
            policy.thread_created(thread)
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
        mt.native_id = _thread.get_native_id()
        attach()
        try:  # an Abort (the execution is over) ends the thread quietly, wherever it comes
            self._park(mt)
            self.touch(mt, write=False, kind="begin")  # ordered after the start that created it
            self._run_body(mt, body)
            self.thread_finished(mt)
        except Abort:
            return

    def _run_body(self, mt: ManagedThread, body: Callable[[], None]) -> None:
        try:
            body()
        except (Abort, SystemExit):
            if self.finished:
                raise Abort() from None
        except BaseException as exc:  # noqa: BLE001 - any uncaught exception is a finding
            if not self._handled_by_excepthook(exc, mt):
                self.fail_exception(exc, mt)

    def _handled_by_excepthook(self, exc: BaseException, mt: ManagedThread) -> bool:
        """A program that installed its own ``threading.excepthook`` handles its threads'
        uncaught exceptions itself (as with CPython, the hook runs in the failing thread):
        the exception is not a finding, unless the hook itself raises."""
        hook = threading.excepthook
        if hook is getattr(threading, "__excepthook__", hook):
            return False
        args = threading.ExceptHookArgs((type(exc), exc, exc.__traceback__, mt.thread))
        try:
            hook(args)
        except Abort:
            raise
        except BaseException as error:  # noqa: BLE001 - the hook's own failure
            self.fail_exception(error, mt)
        return True

    def thread_finished(self, mt: ManagedThread) -> None:
        with self.mutex:
            mt.state = State.FINISHED
            self.alone = None
            self.note("end", f"{mt.name} ends", obj=mt)
            mt.joiners.wake(self._wake)
            if self._only_daemons_left():
                self.shutdown.wake(self._wake)
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
            self.shutdown.wait(self, main)
        main.state = State.FINISHED
        self.alone = None

    def _only_daemons_left(self) -> bool:
        return all(t.state is State.FINISHED or t.daemon for t in self.threads[1:])

    # -- scheduling points ---------------------------------------------------------------------

    def dispatch(self, step: PlanEntry, frame: Any) -> None:
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
        if self.recorder is not None and step.kind is not None:
            self._record_access(step, frame)
        if step.switch_after_c_call and (_CHECKS_AFTER_EVERY_CALL or not callee_is_python(step, frame)):
            self.pending_switch = True

    def _stray(self, step: PlanEntry, frame: Any) -> None:
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
            self._check_fair_phase()
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
        """Park the running thread until something wakes it; True if the deadline fired.

        Primitives wait through a :class:`~.waitqueue.WaitQueue` (whose ``resource`` this is),
        never by calling it directly: the queue knows who to wake."""
        me = self.current
        me.state = State.BLOCKED
        self.alone = None
        me.waiting_for = resource
        me.deadline = deadline
        me.wait_began = self.clock
        me.timed_out = False
        if deadline is not None:
            self.touch(CLOCK_LOCATION, write=True)  # its deadline can disable others' timeouts
        self._switch_away(me, park=True)
        # Each primitive records what it observes once awake (acquire, join...); a timeout
        # observes the clock.
        if me.timed_out:
            self.touch(CLOCK_LOCATION, write=True)
        return me.timed_out

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            self.schedule()
            return
        self.note("sleep", f"sleep({seconds:g})")
        self.sleepers.wait(self, self.current, self.clock + seconds)

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
        if timed and ready and self.assume_no_timeouts:
            timed = [t for t in timed if t.waiting_for is _SLEEP]  # sleeps still end
        if timed:
            first = min(t.deadline for t in timed)
            ready.extend(t for t in timed if t.deadline == first)
        return ready

    def _choose(self, runnable: list[ManagedThread], current: Optional[ManagedThread]) -> ManagedThread:
        if self.points > self.max_steps:
            choice = _round_robin(runnable, current)
        else:
            choice = self.policy.choose(self.step, runnable, current)
        self._chosen(runnable, current, choice)
        return choice

    # -- long executions -----------------------------------------------------------------------
    #
    # ``max_steps`` scheduling points into an execution, the policy stops choosing: the rest
    # runs under a fair round-robin schedule (every runnable thread gets the next turn in
    # order), so a thread that waits politely for another (``while not flag: sleep(0)``), or
    # that a policy's priorities starved, sees the other make progress and the execution ends.
    # Long correct programs simply keep running.  If ``max_steps`` more points pass under the
    # fair schedule and the execution still has not ended, it is stopped *unfinished*: not a
    # finding (a fair schedule that has not finished yet is no evidence of a livelock: the
    # program may just be long), but a caveat the result states, since its end was not explored.

    def _check_fair_phase(self) -> None:
        if self.points > 2 * self.max_steps:
            self.conclude(Outcome(unfinished=True, summary=(
                f"did not finish within {2 * self.max_steps} scheduling points, the "
                f"last {self.max_steps} under a fair round-robin schedule")))

    def _chosen(self, runnable: Sequence[ManagedThread], current: Optional[ManagedThread],
                choice: ManagedThread) -> None:
        """Record the choice of step ``self.step``: for systematic search, and as a deviation."""
        if self.choices is not None:
            running = current.tid if current is not None and current.state is State.RUNNABLE else None
            self.choices.append((tuple(t.tid for t in runnable), choice.tid, running,
                                 self.recorder.objects.count))
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
            if to.waiting_for is not _SLEEP:
                self.timeouts_fired.append(
                    f"{to.name}'s wait with a {to.deadline - to.wait_began:g} s timeout gave up "
                    f"(on {waited_label(to.waiting_for)}) before another thread ended the wait")
            self.clock = max(self.clock, to.deadline)
            to.state = State.RUNNABLE
            self.alone = None
            to.timed_out = True
            to.deadline = None
            to.waiting_for = None
        if me is to:
            return
        self.switches += 1
        if self.recorder is not None:
            self.recorder.switch(self.step, to.tid, f"switch to {to.name}",
                                 me is not None and me.state is State.RUNNABLE)
        self.current = to
        # Nobody's turn until ``to`` takes it: code this thread still runs before it parks (a
        # signal handler that runs while it waits on its baton) must not look like its turn.
        self.running = None
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

    def _record_access(self, step: PlanEntry, frame: Any) -> None:
        if frame is None:
            frame = sys._getframe(3)
        self._recording = True
        try:
            self.recorder.access(step, frame, self.step, self.current.tid)
            release_locals(frame)
        except BaseException as exc:  # noqa: BLE001 - interlace's own failure, not the program's
            self._recording = False
            self.internal_error(exc)
        self._recording = False

    def note(self, kind: str, text: str, obj: Any = None, write: bool = True) -> None:
        """Record a synchronization event (lock, start, join, notify...) in the trace.

        ``write``: does it change the primitive's state (acquire, release, notify) or only
        observe it (a blocked attempt, a join that returns)?  Systematic search reorders two
        operations on one primitive unless both only observe.
        """
        if self.recorder is None or self.current is None or self._recording:
            return
        frame = _user_frame()
        self.recorder.sync(self.step, self.current.tid, kind, text, obj, write,
                           frame.f_code.co_filename if frame else None,
                           frame.f_lineno if frame else None)

    def touch(self, obj: Any, write: bool, kind: str = "touch") -> None:
        """Record a dependence on a primitive (or a :class:`Location`) that the trace hides."""
        if self.recorder is None or self.current is None or self._recording:
            return
        self.recorder.touch(self.step, self.current.tid, obj, write, kind)

    # -- outcomes ------------------------------------------------------------------------------

    def fail_exception(self, exc: BaseException, thread: ManagedThread) -> None:
        kind = FailureKind.ASSERTION if isinstance(exc, AssertionError) else FailureKind.EXCEPTION
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_PACKAGE_DIR)]
        text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + \
            "".join(traceback.format_exception_only(type(exc), exc))
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.fail(kind, f"{message} (in thread {thread.name})", details=text, thread=thread)

    def internal_error(self, exc: BaseException) -> None:
        """interlace itself failed (a recorder or hook error): never reported as the program's bug."""
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.conclude(Outcome(internal_error=True, kind=FailureKind.INTERNAL_ERROR,
                              summary=f"interlace failed: {type(exc).__name__}: {exc}",
                              details=text))

    def fail(self, kind: FailureKind, summary: str, details: str = "",
             thread: Optional[ManagedThread] = None, wait_for: Optional[dict] = None) -> None:
        """``wait_for``: a deadlock's wait-for graph (for the HTML report)."""
        who = thread or self.current
        self.conclude(Outcome(failed=True, kind=FailureKind(kind), summary=summary,
                              details=details, thread=who.name if who is not None else None,
                              wait_for=wait_for))

    def go_inert(self) -> None:
        """The execution is over (its outcome sent): from now on the program's remaining code
        (its ``finally`` blocks and ``atexit`` handlers) runs unscheduled: hooks return at
        once, and the patched primitives act as the real ones."""
        from . import current
        self.finished = True
        self._recording = True
        current.scheduler = None

    def conclude(self, outcome: Outcome) -> None:
        """End the execution with ``outcome`` (how it ended), completed with what was recorded."""
        self.finished = True
        outcome.steps = self.step
        outcome.deviations = tuple(self.deviations)
        outcome.preemptions = self.preemptions
        outcome.switches = self.switches
        outcome.threads = [t.name for t in self.threads]
        outcome.outside = list(self.outside_notes)
        outcome.uncontrolled_locks = sorted(set(self.uncontrolled_locks))
        outcome.lock_order = self.lock_order.inversions()
        outcome.events = self.log.as_dicts() if self.log is not None and self.keep_events else None
        outcome.unmodelled = list(self.recorder.unmodelled) if self.recorder is not None else []
        outcome.choices = self.choices
        outcome.timeouts = list(self.timeouts_fired)
        self.policy.report(outcome)
        self._finish(outcome)

    def _deadlock_or_done(self, me: ManagedThread) -> None:
        from .deadlock import describe_deadlock, wait_for_graph
        live = [t for t in self.threads if t.state is not State.FINISHED]
        if all(t.daemon for t in live if t.tid != 0) and self.threads[0].state is State.FINISHED:
            self.conclude(Outcome())
        summary, details = describe_deadlock(self, live)
        self.fail(FailureKind.DEADLOCK, summary, details, wait_for=wait_for_graph(live))


def _round_robin(runnable: Sequence[ManagedThread], current: Optional[ManagedThread]) -> ManagedThread:
    """The next runnable thread after ``current`` in creation order (a fair schedule).

    Threads that can run only because their timeout may fire come last: under a fair
    schedule, time passes only when no thread can run otherwise."""
    ready = [t for t in runnable if not t.deadline_pending] or list(runnable)
    after = current.tid if current is not None else -1
    return next((t for t in ready if t.tid > after), ready[0])


_SHUTDOWN = "interpreter shutdown (waiting for non-daemon threads)"
_SLEEP = "time.sleep"


def _user_frame():
    """The innermost frame outside interlace and threading/queue internals."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_PACKAGE_DIR) and not name.endswith(("threading.py", "queue.py")):
            return frame
        frame = frame.f_back
    return None
