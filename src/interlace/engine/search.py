"""The search loop: run executions until one fails, the budget runs out, or time is up.

Each execution is a fresh forked child (:mod:`interlace.runtime.executor`) driven by a policy
derived from ``(seed, execution index)``, so the same script and seed give the same
executions.  The first failure is shrunk, then replayed once more with full recording to
produce the trace.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from ..models import Model
from ..runtime.executor import ExecutionSpec, PolicySpec, run_execution
from .schedule import Schedule, python_tag, script_hash
from .shrinker import shrink
from .target import Target

STRATEGIES = ("pct", "random", "dpor")

#: Defaults chosen so that a plain ``interlace run`` ends within about a minute.
DEFAULT_BUDGET = 1000
#: Systematic search stops when the interleavings run out, normally long before this.
DEFAULT_DPOR_BUDGET = 100_000


#: DPOR's preemption bound unless told otherwise: most bugs need one to three (CHESS, the
#: SCTBench study; loom recommends 2-3), and without a bound a long test's interleavings
#: cannot be exhausted.  ``--preemptions none`` lifts it, for a full proof.
DEFAULT_PREEMPTIONS = 2


def default_budget(strategy: str) -> int:
    return DEFAULT_DPOR_BUDGET if strategy == "dpor" else DEFAULT_BUDGET


def default_preemptions(strategy: str) -> Optional[int]:
    return DEFAULT_PREEMPTIONS if strategy == "dpor" else None


DEFAULT_TIMEOUT = 50.0
DEFAULT_DEPTH = 3
DEFAULT_MAX_STEPS = 100_000


@dataclass(frozen=True)
class SearchConfig:
    #: The program: a script run as ``__main__`` (with ``argv``), or else ``target``.
    script: str = ""
    argv: tuple[str, ...] = ()
    strategy: str = "pct"
    budget: int = DEFAULT_BUDGET
    seed: int = 0
    timeout: float = DEFAULT_TIMEOUT
    model: Model = Model.FREE_THREADED
    depth: int = DEFAULT_DEPTH
    max_steps: int = DEFAULT_MAX_STEPS
    include: tuple[str, ...] = ()
    shrink: bool = True
    #: Wall-clock limit of one execution before it is killed as hung.
    execution_timeout: float = 30.0
    #: DPOR only: at most this many preemptions per execution (``None``: unbounded).
    preemptions: Optional[int] = None
    #: Worker processes that share the search (1: run in this process).
    jobs: int = 1
    #: ``(index, count)``: run only this part of the search (1-based index), for CI sharding.
    shard: Optional[tuple[int, int]] = None
    #: A Python callable to run instead of ``script`` (the API and the pytest plugin).
    target: Optional[Target] = None
    #: Also report data races (happens-before) in every execution (``--races``).
    races: bool = False

    def program_hash(self) -> str:
        """The ``HASH`` of this program's replay tokens (its source, or its target's code)."""
        return self.target.code_hash if self.target is not None else script_hash(self.script)

    def validate(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}: choose one of {', '.join(STRATEGIES)}")
        if self.budget < 1:
            raise ValueError(f"budget must be at least 1 (got {self.budget})")
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1 (got {self.depth})")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive (got {self.timeout})")
        if self.max_steps < 1:
            raise ValueError(f"max-steps must be at least 1 (got {self.max_steps})")
        if self.preemptions is not None and self.preemptions < 0:
            raise ValueError(f"preemptions must be 0 or more (got {self.preemptions})")
        if self.preemptions is not None and self.strategy != "dpor":
            raise ValueError("a preemption bound needs --strategy dpor")
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1 (got {self.jobs})")
        if self.shard is not None:
            index, count = self.shard
            if count < 1 or not 1 <= index <= count:
                raise ValueError(f"shard must be I/N with 1 <= I <= N (got {index}/{count})")


@dataclass
class SearchResult:
    #: ``"bug"``, ``"no-bug-found"`` or, when a systematic search ran out of interleavings,
    #: ``"verified"``.
    verdict: str
    config: SearchConfig
    executions: int
    seconds: float
    #: Why the search stopped: ``bug``, ``budget``, ``timeout``, ``interrupt``, and for
    #: systematic search ``exhausted`` or ``nondeterminism``.
    stopped_by: str
    kind: Optional[str] = None
    summary: Optional[str] = None
    details: str = ""
    executions_to_bug: Optional[int] = None
    seconds_to_bug: Optional[float] = None
    shrink_executions: int = 0
    schedule: Optional[Schedule] = None
    #: The recorded failing execution (events, preemptions, steps...).
    failure: Optional[dict] = None
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
    #: ``--races``: the data races found (:class:`~interlace.engine.races.Race`), one per
    #: pair of source lines.
    races: list = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.verdict == "bug"


#: ``progress(done, total, bugs=0)``: executions run, the total known so far, bugs found.
ProgressFn = Callable[..., None]


def execution_seed(seed: int, index: int) -> int:
    return random.Random(f"{seed}:{index}").randrange(2**63)


def search(config: SearchConfig, progress: Optional[ProgressFn] = None) -> SearchResult:
    config.validate()
    if config.strategy == "dpor":
        from .systematic import search_systematic
        return search_systematic(config, progress)
    return _search_random(config, progress)


def own_indices(config: SearchConfig) -> list[int]:
    """The execution indices this process runs: all of them, or its shard's share.

    Every shard also runs execution 0 (the default schedule), which measures the step bound.
    """
    indices = range(config.budget)
    if config.shard is None:
        return list(indices)
    part, parts = config.shard
    return [i for i in indices if i == 0 or i % parts == part - 1]


def learned_from(index: int) -> int:
    """PCT's step bound for execution ``index`` is learned from the executions before this.

    A power of two, so that the bound changes at fixed points: an execution's policy never
    depends on how many ran beside it, and ``--jobs N`` makes the same choices as one process.
    """
    return 1 << (index.bit_length() - 1) if index > 0 else 0


def _search_random(config: SearchConfig, progress: Optional[ProgressFn]) -> SearchResult:
    """PCT or a random walk: independent executions, each one's policy from ``(seed, index)``."""
    from .pool import Pool
    started = time.monotonic()
    deadline = started + config.timeout
    epoch = time.time()
    indices = own_indices(config)
    waiting = list(reversed(indices))  # popped from the end, lowest index first
    steps: dict[int, int] = {}
    outcomes: dict[int, dict] = {}
    failing: Optional[int] = None
    stopped_by = "budget"

    def bound_for(index: int) -> Optional[int]:
        """The step bound of ``index``, or ``None`` while an execution it learns from runs."""
        learned = [i for i in indices if i < learned_from(index)]
        if any(i not in steps for i in learned):
            return None
        return max([steps[i] for i in learned] + [1])

    def settled() -> bool:  # every execution before the first failure has finished
        return failing is not None and all(i in steps for i in indices if i < failing)

    try:
        with Pool(config.jobs) as pool:
            while not settled():
                while pool.free and waiting and (failing is None or waiting[-1] < failing):
                    if time.monotonic() >= deadline:
                        stopped_by = "timeout"
                        break
                    index = waiting[-1]
                    bound = bound_for(index)
                    if bound is None:
                        break
                    waiting.pop()
                    policy = PolicySpec("replay") if index == 0 else PolicySpec(
                        config.strategy, execution_seed(config.seed, index), config.depth, bound)
                    pool.submit(index, _spec(config, policy, epoch, deadline, races=config.races))
                if not len(pool) or stopped_by == "timeout":
                    break
                index, outcome = pool.next_outcome()
                steps[index] = outcome.get("steps") or 0
                outcomes[index] = _summary(outcome)
                if outcome.get("failed") and (failing is None or index < failing):
                    failing = index
                    outcomes[index] = outcome
                    for later in [i for i in steps if i > index]:
                        del steps[later], outcomes[later]  # what one process would not have run
                if progress is not None:
                    progress(len(steps), len(indices), int(failing is not None))
    except KeyboardInterrupt:
        stopped_by = "interrupt"
    if failing is not None and settled():
        stopped_by = "bug"
    done = sorted(i for i in steps if failing is None or i <= failing)
    warnings: set[str] = set()
    inversions: set[str] = set()
    for i in done:
        _collect_caveats(outcomes[i], warnings, inversions)
    result = SearchResult("no-bug-found", config, len(done), 0.0, stopped_by,
                          warnings=sorted(warnings), potential_deadlocks=sorted(inversions),
                          max_steps_seen=max((steps[i] for i in done), default=0))
    if stopped_by == "bug":
        result.verdict = "bug"
        result.executions_to_bug = len(done)
        result.seconds_to_bug = time.monotonic() - started
        _finish_failure(config, result, outcomes[failing], epoch)
    if config.races:
        finish_races(config, result, [(i, outcomes[i]) for i in done], epoch)
    result.seconds = time.monotonic() - started
    return result


def _summary(outcome: dict) -> dict:
    """What a finished execution leaves for the result (its caveats, its races), without its trace."""
    return {k: outcome.get(k) for k in ("outside", "uncontrolled_locks", "lock_order", "races",
                                        "races_error", "races_truncated", "deviations")}


def finish_races(config: SearchConfig, result: SearchResult, outcomes: list[tuple[int, dict]],
                 epoch: float) -> None:
    """``--races``: one report per pair of racing source lines, each with a schedule showing it."""
    import linecache

    from .adjacent import report_races
    from .races import first_seen
    truncated = sum(1 for _, outcome in outcomes if outcome.get("races_truncated"))
    if truncated:
        result.warnings.append(f"{truncated} execution(s) recorded more events than the log "
                               "keeps; races after that point in them were not checked")
    for _, outcome in outcomes:
        if outcome.get("races_error"):
            result.warnings.append("race detection failed in an execution (an internal error "
                                   "of interlace; races may be missing):\n" + outcome["races_error"])
            break
    found = first_seen(((i, o.get("deviations") or (), o.get("races") or ()) for i, o in outcomes),
                       linecache.getline)
    try:
        result.races = report_races(config, found, epoch)
    except KeyboardInterrupt:
        result.warnings.append("interrupted while building the races' schedules")


def _spec(config: SearchConfig, policy: PolicySpec, epoch: float, deadline: Optional[float],
          record: bool = False, output_path: Optional[str] = None,
          races: bool = False) -> ExecutionSpec:
    wall = config.execution_timeout
    if deadline is not None:
        wall = max(1.0, min(wall, deadline - time.monotonic() + 1.0))
    return ExecutionSpec(config.script, config.argv, config.model, policy, record=record,
                         max_steps=config.max_steps, include=config.include, epoch=epoch,
                         wall_timeout=wall, output_path=output_path,
                         target=config.target.run if config.target is not None else None,
                         races=races, keep_events=record, record_values=record)


def _collect_caveats(outcome: dict, warnings: set, inversions: set) -> None:
    for note in outcome.get("outside") or ():
        warnings.add(note)
    for label in outcome.get("uncontrolled_locks") or ():
        warnings.add(f"{label} was held by a thread interlace does not manage; "
                     "waiting for it ran outside control")
    inversions.update(outcome.get("lock_order") or ())


def _finish_failure(config: SearchConfig, result: SearchResult, failing: dict, epoch: float) -> None:
    kind = failing["kind"]
    if config.shrink and kind not in ("hang", "crash"):
        def attempt(deviations):
            outcome = run_execution(_spec(config, PolicySpec("replay", deviations=deviations),
                                          epoch, None))
            if outcome.get("failed") and outcome.get("kind") == kind:
                return outcome
            return None

        try:
            failing, spent = shrink(failing, attempt, max_attempts=300,
                                    deadline=time.monotonic() + max(5.0, config.timeout / 3))
            result.shrink_executions = spent
        except KeyboardInterrupt:
            pass
    deviations = tuple(tuple(d) for d in failing["deviations"])
    result.schedule = Schedule(config.model, python_tag(), config.program_hash(), deviations)
    if kind in ("hang", "crash"):  # replaying it would hang (or die) again: no trace to gain
        recorded, output = failing, ""
    else:
        recorded, output = replay_recorded(config, deviations, epoch)
    if recorded.get("failed") and recorded.get("kind") == kind:
        failing = recorded
    else:
        result.warnings.append("the final recorded replay did not fail the same way; the trace "
                               "below may be incomplete (the program may be nondeterministic)")
    result.kind = failing["kind"]
    result.summary = failing.get("summary")
    result.details = failing.get("details") or ""
    result.failure = failing
    result.program_output = output
    for note in failing.get("outside") or ():
        if note not in result.warnings:
            result.warnings.append(note)


def replay_recorded(config: SearchConfig, deviations, epoch: Optional[float] = None) -> tuple[dict, str]:
    """Run one schedule with full recording; return the outcome and the program's output."""
    handle, path = tempfile.mkstemp(prefix="interlace-output-")
    os.close(handle)
    try:
        spec = _spec(config, PolicySpec("replay", deviations=tuple(deviations)),
                     epoch if epoch is not None else time.time(), None, record=True,
                     output_path=path)
        # --races: the replay shows each race's stacks
        outcome = run_execution(replace(spec, record_stacks=config.races))
        with open(path, encoding="utf-8", errors="replace") as stream:
            output = stream.read()
    finally:
        os.unlink(path)
    return outcome, output
