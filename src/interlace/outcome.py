"""What an execution and a search end with: typed values, and the words that explain them.

An :class:`Outcome` is made in the forked child (by the scheduler, or by the parent for an
execution that hung or died) and pickled back to the search; a :class:`SearchResult` is what
a whole search (or one replay) established.  Verdicts, stop reasons and failure kinds are
enums whose values are the strings the JSON report has always carried, and each carries its
own prose, so the console, the JSON report and ``--model all`` say the same thing.

This module imports nothing from the rest of interlace at run time: the runtime (in the
child), the engine and the reports all use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .config import SearchConfig
    from .engine.schedule import Schedule


class _Text(str, Enum):
    """An enum that is also its value (``Verdict.BUG == "bug"``) and prints as it."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Verdict(_Text):
    """What a search established about the program."""

    #: A failing execution was found (and replays).
    BUG = "bug"
    #: Nothing failed in what was explored; no claim about the rest.
    NO_BUG_FOUND = "no-bug-found"
    #: A systematic search ran out of interleavings (within its bound) with nothing failing.
    VERIFIED = "verified"
    #: The search could not answer: the program did not repeat itself under replay, or
    #: interlace itself failed.  Exit status 3: neither a bug nor a pass.
    INCONCLUSIVE = "inconclusive"
    #: The program fails with no other thread started (a missing argument, an import
    #: error): nothing to do with interleavings.  Exit status 2, as for bad input.
    SETUP_ERROR = "setup-error"
    #: interlace itself failed (a recorder or hook error): never the program's bug.  Exit
    #: status 3, like ``inconclusive``.
    INTERNAL_ERROR = "internal-error"

    @property
    def prose(self) -> str:
        return _VERDICT_PROSE[self]


_VERDICT_PROSE = {
    Verdict.BUG: "a bug was found",
    Verdict.NO_BUG_FOUND: "no bug found in what was explored (not a proof)",
    Verdict.VERIFIED: "every interleaving within the search's bound was explored, no failure",
    Verdict.INCONCLUSIVE: "the search could not reach an answer",
    Verdict.SETUP_ERROR: "the program fails on its own, before any thread starts",
    Verdict.INTERNAL_ERROR: "interlace itself failed (not the program's bug)",
}


class StopReason(_Text):
    """Why a search stopped."""

    BUG = "bug"
    BUDGET = "budget"
    TIMEOUT = "timeout"
    INTERRUPT = "interrupt"
    #: A systematic search (or the portfolio's DPOR part) ran out of interleavings.
    EXHAUSTED = "exhausted"
    #: A replayed prefix did not do what it did before: no systematic claim is possible.
    NONDETERMINISM = "nondeterminism"
    #: The program started no thread: there is only one interleaving.
    SINGLE_THREADED = "single-threaded"
    #: The run without any preemption already failed: the program fails on its own.
    SETUP_ERROR = "setup-error"
    #: interlace itself failed inside an execution.
    INTERNAL_ERROR = "internal-error"
    #: The run without any preemption did not finish within the per-execution limit: too
    #: slow under interlace (or blocked where it cannot see), whatever the interleaving.
    TOO_SLOW = "too-slow"

    def sentence(self, config: "SearchConfig") -> str:
        """Why the search stopped, as a clause of the result's statement."""
        return {
            StopReason.BUDGET: f"the budget of {config.budget} executions was used up",
            StopReason.TIMEOUT: f"the {config.timeout:g} s time limit was reached",
            StopReason.INTERRUPT: "the search was interrupted",
            StopReason.NONDETERMINISM: "the program did not repeat itself under replay",
            StopReason.EXHAUSTED: "every interleaving class was explored, with the caveats below",
            StopReason.BUG: "a bug was found",
            StopReason.SINGLE_THREADED: "the program started no thread, so there is nothing "
                                        "to interleave",
            StopReason.SETUP_ERROR: "the program fails without any preemption",
            StopReason.INTERNAL_ERROR: "interlace itself failed",
            StopReason.TOO_SLOW: f"the first execution, with no thread preempted, did not finish "
                                 f"within {config.execution_timeout:g} s",
        }[self]

    def short(self, config: "SearchConfig", timeout: Optional[float] = None) -> str:
        """A few words for one model's line under ``--model all``."""
        return {
            StopReason.BUDGET: "budget used up",
            StopReason.TIMEOUT: f"its {timeout if timeout is not None else config.timeout:.1f} s "
                                "share of the time ran out",
            StopReason.INTERRUPT: "interrupted",
            StopReason.EXHAUSTED: "every interleaving explored, with warnings",
            StopReason.NONDETERMINISM: "stopped: the program behaves nondeterministically",
            StopReason.BUG: "a bug was found",
            StopReason.SINGLE_THREADED: "the program starts no thread",
            StopReason.SETUP_ERROR: "the program fails on its own",
            StopReason.INTERNAL_ERROR: "interlace itself failed",
            StopReason.TOO_SLOW: "the first execution did not finish",
        }[self]


class FailureKind(_Text):
    """How a failing execution failed."""

    EXCEPTION = "exception"
    ASSERTION = "assertion"
    INVARIANT = "invariant"
    DEADLOCK = "deadlock"
    LIVELOCK = "livelock"
    EXIT = "exit"
    #: The execution exceeded its wall-clock limit (killed by the parent).
    HANG = "hang"
    #: The interpreter running the execution died.
    CRASH = "crash"
    #: A test body called ``pytest.skip``/``xfail`` (the API re-raises it; never a bug).
    PYTEST_OUTCOME = "pytest-outcome"
    #: interlace itself failed: never the user's bug (exit status 3).
    INTERNAL_ERROR = "internal-error"

    @property
    def prose(self) -> str:
        return _KIND_PROSE[self]

    @property
    def replays(self) -> bool:
        """Can a replay of its schedule reproduce it in a way worth shrinking and recording?"""
        return self not in (FailureKind.HANG, FailureKind.CRASH, FailureKind.INTERNAL_ERROR)


_KIND_PROSE = {
    FailureKind.EXCEPTION: "an uncaught exception in a thread",
    FailureKind.ASSERTION: "a failed assert",
    FailureKind.INVARIANT: "the invariant failed after every worker finished",
    FailureKind.DEADLOCK: "no thread could run (a deadlock)",
    FailureKind.LIVELOCK: "no progress within the step limit (a livelock)",
    FailureKind.EXIT: "the program exited with a non-zero status",
    FailureKind.HANG: "an execution exceeded its wall-clock limit",
    FailureKind.CRASH: "the interpreter died during an execution",
    FailureKind.PYTEST_OUTCOME: "the test called pytest.skip or pytest.xfail",
    FailureKind.INTERNAL_ERROR: "interlace itself failed (not the program's bug)",
}

Deviations = tuple[tuple[int, int], ...]


@dataclass
class Outcome:
    """How one execution ended, and what it recorded.

    Built in the forked child and pickled to the parent; every field is plain data.
    """

    failed: bool = False
    kind: Optional[FailureKind] = None
    #: One line (``ValueError: overdrawn (in thread withdraw-2)``).
    summary: Optional[str] = None
    #: The traceback, or the deadlock's wait-for cycle.
    details: str = ""
    #: The thread that failed.
    thread: Optional[str] = None
    #: Scheduling points with a choice (``None``: the execution hung or died before saying).
    steps: Optional[int] = None
    #: The replayable schedule: choices that differ from the default one.
    deviations: Deviations = ()
    preemptions: int = 0
    switches: int = 0
    #: Every managed thread's name, by thread number (``MainThread`` first).
    threads: list[str] = field(default_factory=list)
    #: Caveats: code that ran outside control, locks it could not control, lock inversions.
    outside: list[str] = field(default_factory=list)
    uncontrolled_locks: list[str] = field(default_factory=list)
    lock_order: list[str] = field(default_factory=list)
    #: The recorded trace (``EventLog.as_dicts``), when recording.
    events: Optional[list[dict]] = None
    #: Every choice point as ``(enabled, chosen, running, objects numbered)``, when recording.
    choices: Optional[list[tuple]] = None
    #: interlace itself failed in this execution (``kind`` is ``internal-error``): never a bug.
    internal_error: bool = False
    #: Operations on shared objects the recorder could not name (``"file:line: operation"``):
    #: a systematic search that met one cannot say "verified".
    unmodelled: list[str] = field(default_factory=list)
    #: A deadlock's wait-for graph (``runtime.deadlock.wait_for_graph``), for the HTML report.
    wait_for: Optional[dict] = None
    #: The search's own time limit ended it (not a failure: the search stops there).
    out_of_time: bool = False
    #: It did not end within twice ``--max-steps`` scheduling points, the second half under a
    #: fair schedule: not a finding, a caveat (``summary`` says how far it got).
    unfinished: bool = False
    #: ``--races``: the data races the child found in this execution (``RacePair.as_dict``),
    #: the events its bounded log dropped (the detector did not see them), and a detector
    #: failure's traceback (interlace's own error, never the program's).
    races: Optional[list[dict]] = None
    races_truncated: int = 0
    races_error: Optional[str] = None
    #: Steering executions (``runtime.steer``) only: did the two accesses run back to back?
    adjacent: bool = False
    #: Timed waits that gave up, as sentences ("MainThread's wait with a 5 s timeout gave up
    #: ..."): a failure that needed one is explained as such.
    timeouts: list[str] = field(default_factory=list)
    #: Systematic executions only: a replayed prefix could not be followed...
    diverged: bool = False
    #: ...the execution stopped because only sleeping threads could run...
    sleep_blocked: bool = False
    #: ...or, under a preemption bound, the step from which it ran on past that point.
    asleep_from: Optional[int] = None

    @property
    def started_threads(self) -> bool:
        """Did the program start any thread besides its main thread?"""
        return len(self.threads) > 1

    def caveats(self) -> "Caveats":
        """What this execution leaves for the result, without its trace (cheap to keep)."""
        return Caveats(tuple(self.outside), tuple(self.uncontrolled_locks), tuple(self.lock_order),
                       self.summary if self.unfinished else None)



@dataclass(frozen=True)
class Caveats:
    """The honest notes of one execution (kept for every execution, unlike its trace)."""

    outside: tuple[str, ...] = ()
    uncontrolled_locks: tuple[str, ...] = ()
    lock_order: tuple[str, ...] = ()
    #: How far an unfinished execution got (see :attr:`Outcome.unfinished`).
    unfinished: Optional[str] = None

    def warnings(self) -> list[str]:
        notes = list(self.outside) + [
            f"{label} was held by a thread interlace does not manage; waiting for it ran "
            "outside control" for label in self.uncontrolled_locks]
        if self.unfinished is not None:
            notes.append(f"an execution {self.unfinished}, so its end was not explored: the "
                         "program may livelock (threads that run on without progress), or it "
                         "may just be long (raise --max-steps to let it finish)")
        return notes


@dataclass
class SearchResult:
    """What a search (or one replay) established."""

    verdict: Verdict
    config: "SearchConfig"
    executions: int
    seconds: float
    stopped_by: StopReason
    kind: Optional[FailureKind] = None
    summary: Optional[str] = None
    details: str = ""
    executions_to_bug: Optional[int] = None
    seconds_to_bug: Optional[float] = None
    shrink_executions: int = 0
    schedule: Optional["Schedule"] = None
    #: The recorded failing execution (events, preemptions, steps...).
    failure: Optional[Outcome] = None
    program_output: str = ""
    #: Honest caveats: code that ran outside control, locks that could not be controlled.
    warnings: list[str] = field(default_factory=list)
    #: Lock-order inversions seen in executions that did not deadlock.
    potential_deadlocks: list[str] = field(default_factory=list)
    max_steps_seen: int = 0
    #: Systematic search only: executions that ran to the end (one per equivalence class)...
    classes: Optional[int] = None
    #: ...executions cut short because they would repeat an explored class...
    sleep_blocked: int = 0
    #: ...alternatives left unexplored by the preemption bound, and still pending when stopped.
    bounded_out: int = 0
    pending: int = 0
    #: Subtrees explored when the search was split (``--jobs``, ``--shard``), else ``None``.
    subtrees: Optional[int] = None
    #: The portfolio: executions each strategy ran (``{"dpor": 40, "pct": 13, ...}``).
    by_strategy: Optional[dict[str, int]] = None
    #: The portfolio: the strategy whose execution found the bug.
    found_by: Optional[str] = None
    #: The preemption bound a "verified" verdict holds within (``None``: no bound).
    verified_bound: Optional[int] = None
    #: Why the printed replay token did not reproduce the failure when it was checked
    #: (``None``: it did, or there is no token).
    replay_problem: Optional[str] = None
    #: ``--races``: the data races found (:class:`~interlace.runtime.races.Race`), one per
    #: pair of source lines.
    races: list = field(default_factory=list)
    #: Without ``--races``: the data races its first recorded executions showed
    #: (:class:`~interlace.engine.passing_races.SeenRace`), for a note; they change neither the
    #: verdict nor the exit status.
    races_seen: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.verdict = Verdict(self.verdict)
        self.stopped_by = StopReason(self.stopped_by)
        if self.kind is not None:
            self.kind = FailureKind(self.kind)

    @property
    def found(self) -> bool:
        return self.verdict is Verdict.BUG

    @property
    def internal_error(self) -> bool:
        return self.kind is FailureKind.INTERNAL_ERROR

    def record_internal_error(self, outcome: Outcome) -> None:
        """interlace failed inside an execution (a recorder or hook error): say so, as its own
        verdict; it is never the program's bug."""
        self.verdict = Verdict.INTERNAL_ERROR
        self.stopped_by = StopReason.INTERNAL_ERROR
        self.kind = FailureKind.INTERNAL_ERROR
        self.summary = outcome.summary
        self.details = outcome.details or ""

    def record_failure(self, failing: Outcome) -> None:
        """Take the failure's kind, summary and details from ``failing``."""
        self.kind = failing.kind
        self.summary = failing.summary
        self.details = failing.details or ""
        self.failure = failing
