"""What every search does around its loop: build an execution, keep its caveats, and turn the
first failure into a result (shrink it, replay it once more with full recording).

Shared by the sampling loop (:mod:`.sampling`), the systematic one (:mod:`.systematic`), the
portfolio (:mod:`.portfolio`) and replays (:mod:`.replay`), none of which import each other.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from ..config import SearchConfig
from ..outcome import FailureKind, Outcome, SearchResult, StopReason, Verdict
from ..runtime.executor import ExecutionSpec, run_execution
from ..runtime.policies import PolicySpec, Replay
from .schedule import Deviations, Schedule
from .shrinker import Shrinker



#: ``progress(done, total, bugs=0, phase="exploring")``: executions run, the total known so
#: far, bugs found; ``phase="minimizing"`` while the shrinker runs (done/total: its attempts).
ProgressFn = Callable[..., None]


def execution_spec(config: SearchConfig, policy: PolicySpec, epoch: float,
                   deadline: Optional[float], record: bool = False,
                   output_path: Optional[str] = None, races: bool = False) -> ExecutionSpec:
    """One execution of ``config``'s program under ``policy``, killed as hung at its wall
    limit or a second after the search's ``deadline``, whichever is first."""
    wall = config.execution_timeout
    # Near the search's time limit an execution gets only the time that is left (plus a
    # second): if that ends it, the search ran out of time; the program did not hang.
    cut = deadline is not None and deadline - time.monotonic() + 1.0 < wall
    if cut:
        wall = max(1.0, deadline - time.monotonic() + 1.0)
    return ExecutionSpec(config.script, config.argv, config.model, policy, record=record,
                         max_steps=config.max_steps, include=config.include, epoch=epoch,
                         wall_timeout=wall, wall_cut=cut, output_path=output_path,
                         assume_no_timeouts=config.assume_no_timeouts,
                         target=config.target.run if config.target is not None else None,
                         module=config.module, races=races,
                         keep_events=record, record_values=record)


@dataclass
class Caveats:
    """The honest notes of a search: gathered from every execution it counts."""

    warnings: set[str] = field(default_factory=set)
    inversions: set[str] = field(default_factory=set)

    def add(self, outcome: Outcome) -> None:
        notes = outcome.caveats()
        self.warnings.update(notes.warnings())
        self.inversions.update(notes.lock_order)

    def into(self, result: SearchResult) -> None:
        result.warnings = sorted(set(result.warnings) | self.warnings)
        result.potential_deadlocks = sorted(set(result.potential_deadlocks) | self.inversions)


def fails_on_its_own(config: SearchConfig, result: SearchResult, first: Outcome) -> bool:
    """The default schedule failed before the program started any thread, or it hung.

    With one thread there is no choice to make, so nothing about the failure depends on the
    schedule: a missing argument (argparse exits 2), an import error, an exception at start-up.
    It is reported as a setup error with the program's output, never as a race with a replay
    token.  (A program that started threads and failed without a preemption is a bug like
    any other: a missing ``join`` fails exactly so.)  Fills ``result`` and returns ``True``
    in that case.
    """
    if first.failed and first.kind is FailureKind.HANG and not first.deviations:
        # The default schedule preempts no thread: a hang there is no interleaving's doing.
        # The program is too slow under interlace (3.10/3.11's settrace runs a hook at every
        # instruction) or blocked outside its control: no answer, and not the program's bug.
        result.verdict = Verdict.INCONCLUSIVE
        result.stopped_by = StopReason.TOO_SLOW
        result.summary = first.summary
        result.warnings.append(f"nothing explored: {StopReason.TOO_SLOW.sentence(config)} (too "
                               "slow under interlace, or blocked where it cannot see)")
        return True
    if not first.failed or first.started_threads or first.kind is None or not first.kind.replays:
        return False  # a hang or a crash says nothing about which threads there were
    recorded, output = first, ""
    replayed, output = replay_recorded(config, (), time.time())  # again, for its output
    if replayed.failed:
        recorded = replayed
    result.verdict = Verdict.SETUP_ERROR
    result.stopped_by = StopReason.SETUP_ERROR
    result.record_failure(recorded)
    result.program_output = output
    return True


def nothing_to_interleave(result: SearchResult, first: Outcome) -> bool:
    """The default schedule ended well and started no thread: every execution would be this
    one (no scheduling point ever has a choice).  Marks ``result`` and returns ``True``."""
    if first.failed or first.started_threads or first.outside:
        return False
    result.stopped_by = StopReason.SINGLE_THREADED
    return True


def finish_failure(config: SearchConfig, result: SearchResult, failing: Outcome,
                   epoch: float, progress: Optional[ProgressFn] = None) -> None:
    """Shrink ``failing`` (unless told not to), replay the smallest with full recording, and
    fill ``result`` with it and its replay token."""
    kind = failing.kind
    if config.shrink and kind is not None and kind.replays:
        def attempt(deviations: Deviations) -> Optional[Outcome]:
            outcome = run_execution(execution_spec(config, Replay(tuple(deviations)), epoch, None))
            return outcome if outcome.failed and outcome.kind == kind else None

        def on_attempt(spent: int, budget: int) -> None:
            if progress is not None:
                progress(spent, budget, 1, phase="minimizing")

        shrinker = Shrinker(failing, attempt, config.shrink_budget, on_attempt)
        try:
            failing = shrinker.run()
        except KeyboardInterrupt:  # keep the simplest failure found so far
            failing = shrinker.best
        result.shrink_executions = shrinker.spent
    deviations = tuple(tuple(d) for d in failing.deviations)
    result.schedule = Schedule.of(config, deviations)
    if kind is None or not kind.replays:  # replaying it would hang (or die) again: no trace to gain
        recorded, output = failing, ""
    else:
        recorded, output = replay_recorded(config, deviations, epoch)
    # -- the printed token is checked: it is replayed once, exactly as `interlace replay` will
    if recorded.failed and recorded.kind == kind:
        failing = recorded
    elif kind is not None and kind.replays:
        result.replay_problem = replay_difference(recorded, kind)
        result.warnings.append(f"the replay token below was checked and did not reproduce the "
                               f"failure: {result.replay_problem}; the trace below may be "
                               "incomplete")
    result.record_failure(failing)
    result.program_output = output
    for note in failing.timeouts:
        result.warnings.append(
            f"in this interleaving {note}: that can happen for real (the other thread was "
            "slower than the timeout); if the program assumes its timeouts never expire, "
            "search with --assume-no-timeouts (pytest: --interlace-assume-no-timeouts or "
            "@pytest.mark.interlace(assume_no_timeouts=True))")
    for note in failing.outside:  # what ran outside control in the failing interleaving
        if note not in result.warnings:
            result.warnings.append(note)


_NOT_REPEATED = ("the program does not repeat itself under the same schedule (something "
                 "interlace does not control, such as a file, the network or object addresses, "
                 "changes what it does)")


def replay_difference(recorded: Outcome, kind: FailureKind) -> str:
    """Why a replayed token did not fail as the search saw it (for the report)."""
    if recorded.internal_error:
        return f"interlace failed during the replay ({recorded.summary})"
    if recorded.failed:
        return (f"the replay failed differently ({recorded.kind}: {recorded.summary}) where the "
                f"search saw {kind}; {_NOT_REPEATED}")
    return f"the replay ended without failure where the search saw {kind}; {_NOT_REPEATED}"


#: Unmodelled operations named in a warning; the rest are counted.
UNMODELLED_SHOWN = 5


def unmodelled_warning(notes: list[str]) -> str:
    """The caveat of a search that met operations the recorder could not model."""
    more = f" (and {len(notes) - UNMODELLED_SHOWN} more)" if len(notes) > UNMODELLED_SHOWN else ""
    return ("not verified: the search met operations interlace could not model, so nothing is "
            "proved about what they touched: " + "; ".join(notes[:UNMODELLED_SHOWN]) + more)


def replay_recorded(config: SearchConfig, deviations: Deviations,
                    epoch: Optional[float] = None) -> tuple[Outcome, str]:
    """Run one schedule with full recording; return the outcome and the program's output.

    The output goes to an unnamed temporary file: even a search killed with SIGKILL leaves
    no file behind.
    """
    with tempfile.TemporaryFile(prefix="interlace-output-") as stream:
        spec = replace(execution_spec(config, Replay(tuple(deviations)),
                                      epoch if epoch is not None else time.time(), None,
                                      record=True), output_fd=stream.fileno(),
                       record_stacks=config.races)  # --races: the replay shows each race's stacks
        outcome = run_execution(spec)
        stream.seek(0)
        output = stream.read().decode("utf-8", errors="replace")
    return outcome, output
