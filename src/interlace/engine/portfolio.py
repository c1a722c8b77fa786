"""The default search (``--strategy portfolio``): several strategies over one budget and time limit.

No single strategy wins everywhere (the SCTBench study; Shuttle's portfolio runner), so the
portfolio takes turns, in a fixed cycle, between

- **bounded DPOR** (:mod:`.dpor`, cheapest preemptions first): every other execution.  When
  its tree is exhausted and nothing ran outside control or failed to repeat itself, the
  program is verified within the preemption bound and the search stops at once;
- **POS** (partial order sampling), a **random walk** (uniform per step, or switching at half
  the steps) and **PCT** (depth ``--depth``): the executions in between, each seeded from
  ``(seed, position in the cycle)``.  Two of every three executions of each start threads
  together (``StartTogether``): new threads wait while their creator can go on, so a bug
  that needs many threads under way at once is not hidden behind the program's start
  sequence; the third samples the program as it starts them.

Execution 0 runs the default schedule (no preemption), unrecorded: it measures the step bound
PCT spreads its change points over, and tells a program that fails on its own or starts no
thread from one worth searching.  A DPOR execution records every shared access, which can make
a long execution slow: one that exceeds its wall-clock limit stops the systematic part (with a
warning; nothing is verified then) instead of being reported as a hang, which the unrecorded
samplers would find themselves if the program truly hangs.

With ``--jobs N`` each round takes the next N turns of the cycle and folds their outcomes in
in cycle order, so a seed and a ``--jobs`` give one result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Optional, Union

from ..config import SearchConfig
from ..outcome import FailureKind, Outcome, SearchResult, StopReason, Verdict
from ..runtime.policies import DEFAULT_SCHEDULE, PCT, POS, PolicySpec, RandomWalk, Systematic
from .adjacent import finish_races
from .passing_races import PassingRaces
from .dpor import Branch, Explorer
from .failure import (Caveats, execution_spec, fails_on_its_own, finish_failure, nothing_to_interleave,
                      unmodelled_warning)
from .pool import Pool
from .sampling import ProgressFn, execution_seed

DEFAULT, DPOR, PCT_, WALK, POS_ = "default", "dpor", "pct", "random", "pos"
#: The turns, in order: DPOR every other execution, the samplers in between.
CYCLE = (DPOR, POS_, DPOR, WALK, DPOR, PCT_)

_NONDETERMINISM = ("the program did not repeat itself when a schedule was replayed ({}); "
                   "the systematic part stopped, so nothing can be verified")
_TOO_SLOW = ("a systematic execution (which records every shared access) exceeded its wall-clock "
             "limit; the systematic part stopped, so nothing can be verified")


@dataclass
class _Turn:
    strategy: str
    policy: PolicySpec
    branch: Optional[Branch] = None


@dataclass
class _Portfolio:
    config: SearchConfig
    explorer: Explorer
    epoch: float
    deadline: float
    executions: int = 0
    cycle: int = 0
    #: Executions per strategy, and the sampling turns taken per strategy.
    by_strategy: dict = field(default_factory=lambda: {DEFAULT: 0, DPOR: 0, PCT_: 0, WALK: 0, POS_: 0})
    sampled: dict = field(default_factory=lambda: {PCT_: 0, WALK: 0, POS_: 0})
    caveats: Caveats = field(default_factory=Caveats)
    max_steps: int = 0
    #: The systematic part: still running, exhausted, or stopped by nondeterminism.
    dpor_done: bool = False
    dpor_diverged: bool = False
    ahead: Optional[Branch] = None
    first: Optional[Outcome] = None
    #: ``file:line: operation`` of operations the recorder could not model (in order seen):
    #: no "verified" then.
    unmodelled: dict = field(default_factory=dict)
    #: An execution in which interlace itself failed: the search stops, and says so.
    internal: Optional[Outcome] = None
    #: ``--races``: (execution index, its outcome) of every execution...
    raced: list = field(default_factory=list)
    #: ...without it: the races the first recorded executions show, for a note.
    passing: PassingRaces = field(default_factory=PassingRaces)

    def next_turn(self) -> _Turn:
        if self.executions == 0:  # the default schedule, unrecorded: cheap, and it decides
            return _Turn(DEFAULT, DEFAULT_SCHEDULE)  # whether there is anything to search
        while True:
            strategy = CYCLE[self.cycle % len(CYCLE)]
            self.cycle += 1
            if strategy != DPOR:
                return self._sampling_turn(strategy)
            if self.dpor_done:
                continue
            branch = self.ahead or self.explorer.next()
            self.ahead = None
            if branch is None:
                self.dpor_done = True
                continue
            bounded = self.config.preemptions is not None
            return _Turn(DPOR, Systematic(branch.prefix, tuple(sorted(branch.sleep.items())),
                                          stop_when_asleep=not bounded), branch)

    def _sampling_turn(self, strategy: str) -> _Turn:
        nth = self.sampled[strategy]
        self.sampled[strategy] += 1
        seed = execution_seed(self.config.seed, self.cycle)
        # two turns in three start threads together (see the module docstring); the third
        # samples the program as it starts its threads
        variant = nth % 3
        together = variant != 2
        if strategy == PCT_:
            policy: PolicySpec = PCT(seed, self.config.depth, max(self.max_steps, 1), together)
        elif strategy == WALK:  # uniform per step, or a switch at half the steps
            policy = RandomWalk(seed, switch_probability=0.5 if variant == 0 else 1.0,
                                together=together)
        else:
            policy = POS(seed, together)
        return _Turn(strategy, policy)

    def spec(self, turn: _Turn):
        systematic = turn.strategy == DPOR
        spec = execution_spec(self.config, turn.policy, self.epoch, self.deadline, record=systematic,
                              races=self.config.races)
        return replace(spec, record_values=False) if systematic else spec

    def fold(self, turn: _Turn, outcome: Outcome) -> None:
        """Count ``outcome`` and, for a DPOR turn, grow the tree with it."""
        if self.config.races:
            self.raced.append((self.executions, outcome))
        elif turn.strategy == DPOR:
            self.passing.look(outcome)
        self.executions += 1
        self.by_strategy[turn.strategy] += 1
        if self.first is None:
            self.first = outcome
        self.max_steps = max(self.max_steps, outcome.steps or 0)
        self.caveats.add(outcome)
        for note in outcome.unmodelled:
            self.unmodelled.setdefault(note, None)
        if turn.strategy == DPOR and outcome.kind is FailureKind.HANG:
            # recording made it slow, or it truly hangs: the samplers (unrecorded) will tell
            self.caveats.warnings.add(_TOO_SLOW)
            self.dpor_done = self.dpor_diverged = True
            return
        if turn.strategy != DPOR or outcome.failed or self.dpor_diverged:
            return
        problem = outcome.summary if outcome.diverged else None
        if problem is None:
            self.explorer.record(outcome, turn.branch)
            problem = self.explorer.divergence
        if problem is not None:
            self.caveats.warnings.add(_NONDETERMINISM.format(problem))
            self.dpor_done = self.dpor_diverged = True

    @property
    def verified(self) -> bool:
        """The tree is exhausted, and its executions can be trusted to stand for all others."""
        return (self.dpor_done and not self.dpor_diverged and not self.caveats.warnings
                and not self.unmodelled)


def search_portfolio(config: SearchConfig, progress: Optional[ProgressFn] = None) -> SearchResult:
    started = time.monotonic()
    search = _Portfolio(config, Explorer(preemption_bound=config.preemptions), time.time(),
                        started + config.timeout)
    search.ahead = search.explorer.first()
    failing: Optional[tuple[str, Outcome]] = None
    stopped_by: Optional[StopReason] = None
    try:
        with Pool(config.jobs) as pool:
            while failing is None and stopped_by is None:
                stopped_by = _round(search, pool, progress)
                if isinstance(stopped_by, tuple):
                    failing, stopped_by = stopped_by, None
    except KeyboardInterrupt:
        stopped_by = StopReason.INTERRUPT
    result = SearchResult(Verdict.NO_BUG_FOUND, config, search.executions, 0.0,
                          StopReason.BUG if failing is not None else stopped_by or StopReason.BUDGET,
                          max_steps_seen=search.max_steps)
    if search.unmodelled:
        search.caveats.warnings.add(unmodelled_warning(list(search.unmodelled)))
    search.caveats.into(result)
    explorer = search.explorer
    result.classes = explorer.complete
    result.sleep_blocked = explorer.sleep_blocked
    result.bounded_out = explorer.bounded_out
    result.pending = 0 if search.dpor_done else explorer.pending_alternatives()
    result.by_strategy = dict(search.by_strategy)
    first = search.first
    if search.internal is not None:
        result.record_internal_error(search.internal)
    elif first is not None and failing is not None and failing[1] is first \
            and fails_on_its_own(config, result, first):
        pass
    elif first is not None and search.executions == 1 and nothing_to_interleave(result, first):
        pass
    elif failing is not None:
        result.verdict = Verdict.BUG
        result.found_by = failing[0]
        result.executions_to_bug = search.executions
        result.seconds_to_bug = time.monotonic() - started
        finish_failure(config, result, failing[1], search.epoch, progress)
    elif stopped_by is StopReason.EXHAUSTED:
        result.verdict = Verdict.VERIFIED
        result.verified_bound = config.preemptions
    if config.races and search.internal is None:
        finish_races(config, result, search.raced, search.epoch)
    result.races_seen = search.passing.races
    result.seconds = time.monotonic() - started
    return result


def _round(search: _Portfolio, pool: Pool,
           progress: Optional[ProgressFn]) -> Union[None, StopReason, tuple[str, Outcome]]:
    """Run the next ``jobs`` turns; return a reason to stop, ``(strategy, outcome)`` of the
    first failure in turn order, or ``None`` to go on."""
    config = search.config
    turns: list[_Turn] = []
    while len(turns) < pool.jobs:
        if search.executions + len(turns) >= config.budget:
            break
        if time.monotonic() >= search.deadline:
            break
        if search.first is None and turns:
            break  # execution 0 alone: it decides whether there is anything to search
        turns.append(search.next_turn())
    if not turns:
        if search.executions >= config.budget:
            return StopReason.BUDGET
        return StopReason.TIMEOUT
    for n, turn in enumerate(turns):
        pool.submit(n, search.spec(turn))
    outcomes: dict[int, Outcome] = {}
    while len(pool):
        n, outcome = pool.next_outcome()
        outcomes[n] = outcome
    for n, turn in enumerate(turns):
        outcome = outcomes[n]
        if outcome.internal_error:
            search.internal = outcome
            return StopReason.INTERNAL_ERROR
        if outcome.out_of_time:  # the time limit, not the program, ended it
            return StopReason.TIMEOUT
        search.fold(turn, outcome)
        if outcome.failed and not (turn.strategy == DPOR and outcome.kind is FailureKind.HANG):
            if progress is not None:
                progress(search.executions, config.budget, 1)
            return (turn.strategy, outcome)
        if search.executions == 1 and not outcome.started_threads and not outcome.outside:
            return StopReason.SINGLE_THREADED
    if progress is not None:
        progress(search.executions, config.budget)
    if not search.dpor_done and search.ahead is None:  # is the tree exhausted already?
        search.ahead = search.explorer.next()
        search.dpor_done = search.ahead is None
    if search.verified:
        return StopReason.EXHAUSTED
    return None  # exhausted with caveats is no proof: the samplers go on
