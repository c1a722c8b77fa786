"""Sampling search (``--strategy pct`` / ``random``): independent executions, each one's
policy drawn from ``(seed, execution index)``, until one fails, the budget runs out, or time is up.

The same script and seed give the same executions, with any ``--jobs``: an execution's
policy never depends on which others ran beside it.  Execution 0 runs the default schedule
(no preemption), which also measures the number of choice points PCT spreads its change
points over.
"""

from __future__ import annotations

import random
import time
from typing import Optional

from ..config import SearchConfig
from ..outcome import Caveats as ExecutionCaveats, Outcome, SearchResult, StopReason, Verdict
from ..runtime.policies import DEFAULT_SCHEDULE, PCT, PolicySpec, RandomWalk
from .failure import (Caveats, ProgressFn, execution_spec, fails_on_its_own, finish_failure,
                      nothing_to_interleave)
from .adjacent import finish_races
from .pool import Pool



def execution_seed(seed: int, index: int) -> int:
    return random.Random(f"{seed}:{index}").randrange(2**63)


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


def sampling_policy(config: SearchConfig, index: int, step_bound: int) -> PolicySpec:
    """The policy of execution ``index`` (> 0) of a pct or random search."""
    seed = execution_seed(config.seed, index)
    if config.strategy == "random":
        return RandomWalk(seed)
    return PCT(seed, config.depth, step_bound)


def search_sampling(config: SearchConfig, progress: Optional[ProgressFn] = None) -> SearchResult:
    """PCT or a random walk: independent executions, each one's policy from ``(seed, index)``."""
    started = time.monotonic()
    deadline = started + config.timeout
    epoch = time.time()
    indices = own_indices(config)
    waiting = list(reversed(indices))  # popped from the end, lowest index first
    steps: dict[int, int] = {}
    caveats: dict[int, ExecutionCaveats] = {}
    failing: Optional[int] = None
    failure: Optional[Outcome] = None
    first: Optional[Outcome] = None
    #: An execution in which interlace itself failed: the search stops, and says so.
    internal: Optional[Outcome] = None
    #: ``--races``: the counted executions, by index, for their races.
    raced: dict[int, Outcome] = {}
    stopped_by = StopReason.BUDGET

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
                        stopped_by = StopReason.TIMEOUT
                        break
                    index = waiting[-1]
                    bound = bound_for(index)
                    if bound is None:
                        break
                    waiting.pop()
                    policy = DEFAULT_SCHEDULE if index == 0 else sampling_policy(config, index, bound)
                    pool.submit(index, execution_spec(config, policy, epoch, deadline,
                                                      races=config.races))
                if not len(pool) or stopped_by is StopReason.TIMEOUT:
                    break
                index, outcome = pool.next_outcome()
                if outcome.internal_error:
                    internal = outcome
                    break
                if outcome.out_of_time:  # the time limit, not the program, ended it
                    stopped_by = StopReason.TIMEOUT
                    break
                steps[index] = outcome.steps or 0
                caveats[index] = outcome.caveats()
                if config.races:
                    raced[index] = outcome  # (no trace: only its races and schedule)
                if index == 0:
                    first = outcome
                    if not outcome.failed and not outcome.started_threads and not outcome.outside:
                        break  # nothing to interleave: every execution would be this one
                if outcome.failed and (failing is None or index < failing):
                    failing, failure = index, outcome
                    for later in [i for i in steps if i > index]:
                        del steps[later], caveats[later]  # what one process would not have run
                        raced.pop(later, None)
                if progress is not None:
                    progress(len(steps), len(indices), int(failing is not None))
    except KeyboardInterrupt:
        stopped_by = StopReason.INTERRUPT
    if failing is not None and settled():
        stopped_by = StopReason.BUG
    done = sorted(i for i in steps if failing is None or i <= failing)
    notes = Caveats()
    for i in done:
        notes.warnings.update(caveats[i].warnings())
        notes.inversions.update(caveats[i].lock_order)
    result = SearchResult(Verdict.NO_BUG_FOUND, config, len(done), 0.0, stopped_by,
                          max_steps_seen=max((steps[i] for i in done), default=0))
    notes.into(result)
    if internal is not None:
        result.record_internal_error(internal)
    elif first is not None and failing == 0 and fails_on_its_own(config, result, first):
        pass
    elif first is not None and nothing_to_interleave(result, first):
        pass
    elif stopped_by is StopReason.BUG and failure is not None:
        result.verdict = Verdict.BUG
        result.executions_to_bug = len(done)
        result.seconds_to_bug = time.monotonic() - started
        finish_failure(config, result, failure, epoch, progress)
    if config.races and internal is None:
        finish_races(config, result, [(i, raced[i]) for i in done if i in raced], epoch)
    result.seconds = time.monotonic() - started
    return result
