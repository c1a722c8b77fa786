"""The systematic search loop (``--strategy dpor``): run the branches the DPOR trees ask for.

Every execution is recorded (the tree needs each transition's footprint).  The search ends at
the first failure, when the trees are exhausted (the verdict is then ``verified``: every
equivalence class of interleavings ran, at the explored granularity and within the preemption
bound), or when the budget or the time limit stops it first (the verdict says how far it got).

With ``--jobs N`` the tree hands out up to N branches at a time (the cheapest), and their
outcomes are folded in in that order, so the search depends on the seed and N, never on
timing.  Branches that run side by side cannot put each other to sleep, so a few more
executions run than in one process.  With ``--shard I/N`` the search is split into subtrees
that need no communication (:mod:`interlace.engine.partition`) and this process explores
every N-th.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from ..config import SearchConfig
from ..outcome import Outcome, SearchResult, StopReason, Verdict
from ..runtime.policies import Systematic
from .adjacent import finish_races
from .passing_races import PassingRaces
from .dpor import Branch, Explorer
from .failure import (Caveats, execution_spec, fails_on_its_own, finish_failure, nothing_to_interleave,
                      unmodelled_warning)
from .partition import Split, owned, split
from .pool import Pool
from .sampling import ProgressFn


_NONDETERMINISM = ("inconclusive: the program did not repeat itself when a schedule was "
                   "replayed ({}); the search cannot be exhaustive")


@dataclass
class _Search:
    """The state one systematic search shares between its trees."""

    config: SearchConfig
    observe: Optional[Callable[[Outcome], None]]
    epoch: float
    deadline: float
    executions: int = 0
    caveats: Caveats = field(default_factory=Caveats)
    max_steps: int = 0
    stopped_by: Optional[StopReason] = None
    #: The first execution (the default schedule), for setup errors and single threads.
    first: Optional[Outcome] = None
    #: ``file:line: operation`` of operations the recorder could not model (in order seen).
    unmodelled: dict = field(default_factory=dict)
    #: The outcome of an execution in which interlace itself failed.
    internal: Optional[Outcome] = None
    #: ``--races``: (execution index, its outcome) of every execution...
    raced: list = field(default_factory=list)
    #: ...without it: the races the first executions show, for a note.
    passing: PassingRaces = field(default_factory=PassingRaces)

    def spec(self, branch: Branch, bounded: bool):
        policy = Systematic(branch.prefix, tuple(sorted(branch.sleep.items())),
                            stop_when_asleep=not bounded)
        return replace(execution_spec(self.config, policy, self.epoch, self.deadline, record=True,
                                      races=self.config.races), record_values=False)

    def finished(self, outcome: Outcome) -> None:
        if self.config.races:
            self.raced.append((self.executions, outcome))
        else:
            self.passing.look(outcome)
        self.executions += 1
        if self.first is None:
            self.first = outcome
        if self.observe is not None:
            self.observe(outcome)
        self.max_steps = max(self.max_steps, outcome.steps or 0)
        self.caveats.add(outcome)
        for note in outcome.unmodelled:
            self.unmodelled.setdefault(note, None)
        if outcome.internal_error and self.internal is None:
            self.internal = outcome

    @property
    def warnings(self) -> set[str]:
        return self.caveats.warnings

    def may_start(self, running: int) -> bool:
        """Budget and time left for one more execution?  Notes why not."""
        if self.executions + running >= self.config.budget:
            self.stopped_by = self.stopped_by or StopReason.BUDGET
            return False
        if time.monotonic() >= self.deadline:
            self.stopped_by = self.stopped_by or StopReason.TIMEOUT
            return False
        return True


def search_systematic(config: SearchConfig, progress: Optional[ProgressFn] = None, *,
                      explorer: Optional[Explorer] = None,
                      observe: Optional[Callable[[Outcome], None]] = None) -> SearchResult:
    """``explorer``: a prepared tree (tests pass ``Explorer(reduce=False)`` for brute force);
    ``observe`` sees every execution's outcome (tests compare the classes it visits)."""
    started = time.monotonic()
    search = _Search(config, observe, time.time(), started + config.timeout)
    bound = config.preemptions
    parts: Optional[Split] = None
    failing: Optional[Outcome] = None
    explorers: list[Explorer] = []
    try:
        if explorer is not None or config.shard is None:
            explorers = [explorer or Explorer(preemption_bound=bound)]
        else:
            parts = _split(search)
            failing = parts.failure
            if parts.divergence:
                search.warnings.add(_NONDETERMINISM.format(parts.divergence))
                search.stopped_by = StopReason.NONDETERMINISM
            elif failing is None:
                explorers = [Explorer(preemption_bound=bound, root=parts.roots[i].choices,
                                      root_sleep=parts.roots[i].sleep)
                             for i in owned(parts.roots, config.shard)]
        if explorers:
            failing = _explore(search, explorers, progress)
    except KeyboardInterrupt:
        search.stopped_by = StopReason.INTERRUPT
    exhausted = search.stopped_by is None and failing is None
    if search.unmodelled:
        search.warnings.add(unmodelled_warning(list(search.unmodelled)))
    verdict = Verdict.VERIFIED if exhausted and not search.warnings else Verdict.NO_BUG_FOUND
    if search.stopped_by == StopReason.NONDETERMINISM and failing is None:
        verdict = Verdict.INCONCLUSIVE
    result = SearchResult(verdict,
                          config, search.executions, 0.0,
                          StopReason.BUG if failing is not None else search.stopped_by or StopReason.EXHAUSTED,
                          max_steps_seen=search.max_steps)
    search.caveats.into(result)
    if exhausted:
        result.verified_bound = bound
    result.classes = sum(e.complete for e in explorers)
    result.sleep_blocked = sum(e.sleep_blocked for e in explorers)
    result.bounded_out = sum(e.bounded_out for e in explorers)
    result.pending = 0 if exhausted else sum(e.pending_alternatives() for e in explorers)
    result.subtrees = len(explorers) if parts is not None else None
    first = search.first
    if search.internal is not None:
        result.record_internal_error(search.internal)
    elif first is not None and failing is first and fails_on_its_own(config, result, first):
        pass
    elif first is not None and search.executions == 1 and nothing_to_interleave(result, first):
        result.verdict = Verdict.NO_BUG_FOUND
    elif failing is not None:
        result.verdict = Verdict.BUG
        result.executions_to_bug = search.executions
        result.seconds_to_bug = time.monotonic() - started
        finish_failure(config, result, failing, search.epoch, progress)
    if config.races and search.internal is None:
        finish_races(config, result, search.raced, search.epoch)
    result.races_seen = search.passing.races
    result.seconds = time.monotonic() - started
    return result


def _split(search: _Search) -> Split:
    config = search.config

    def run_all(prefixes: list) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        with Pool(config.jobs) as pool:
            waiting = list(reversed(range(len(prefixes))))
            while waiting or len(pool):
                while waiting and pool.free:
                    n = waiting.pop()
                    branch = Branch(prefixes[n].choices, prefixes[n].sleep)
                    pool.submit(n, search.spec(branch, config.preemptions is not None))
                n, outcome = pool.next_outcome()
                search.finished(outcome)
                outcomes[n] = outcome
        return [outcomes[n] for n in range(len(prefixes))]

    # as few subtrees as give every shard one: above the split nothing is reduced
    return split(run_all, config.shard[1] * 4, config.preemptions)


def _explore(search: _Search, explorers: list[Explorer],
             progress: Optional[ProgressFn]) -> Optional[Outcome]:
    """Run the trees to their end in rounds; the first failure of a round, or ``None``.

    A round takes up to ``jobs`` branches (trees in order, each tree's cheapest first), runs
    them at once and folds their outcomes in in that order: what a round holds never depends
    on which execution finished first, so a seed and a ``--jobs`` give one result.
    """
    bounded = search.config.preemptions is not None
    ahead: dict[int, Optional[Branch]] = {k: e.first() for k, e in enumerate(explorers)}
    with Pool(search.config.jobs) as pool:
        while True:
            round_: list[tuple[int, Branch]] = []
            for k, explorer in enumerate(explorers):
                while len(round_) < pool.jobs:
                    branch = ahead.pop(k, None) or explorer.next()
                    if branch is None:
                        break
                    if not search.may_start(len(round_)):
                        ahead[k] = branch
                        break
                    round_.append((k, branch))
            if not round_:
                return None
            for n, (k, branch) in enumerate(round_):
                pool.submit(n, search.spec(branch, bounded))
            outcomes: dict[int, Outcome] = {}
            while len(pool):
                n, outcome = pool.next_outcome()
                outcomes[n] = outcome
            if any(o.out_of_time for o in outcomes.values()):
                search.stopped_by = StopReason.TIMEOUT  # the time limit ended a branch: not explored
                return None
            for n, (k, branch) in enumerate(round_):
                outcome = outcomes[n]
                search.finished(outcome)
                if outcome.internal_error:
                    return None
                if outcome.failed:
                    if progress is not None:
                        progress(search.executions, search.executions, 1)
                    return outcome
                problem = outcome.summary if outcome.diverged else None
                if problem is None:
                    explorers[k].record(outcome, branch)
                    problem = explorers[k].divergence
                if problem is not None:
                    search.warnings.add(_NONDETERMINISM.format(problem))
                    search.stopped_by = StopReason.NONDETERMINISM
                    return None
            if progress is not None:
                left = sum(e.pending_alternatives() for e in explorers)
                progress(search.executions, search.executions + left)
