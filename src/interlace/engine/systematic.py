"""The systematic search loop (``--strategy dpor``): run the branches the DPOR tree asks for.

Every execution is recorded (the tree needs each transition's footprint).  The search ends at
the first failure, when the tree is exhausted (the verdict is then ``verified``: every
equivalence class of interleavings ran, at the explored granularity), or when the budget or
the time limit stops it first (the verdict says how far it got).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Optional

from ..runtime.executor import PolicySpec, run_execution
from .dpor import Branch, Explorer
from .search import (ProgressFn, SearchConfig, SearchResult, _collect_caveats, _finish_failure,
                     _spec)


def search_systematic(config: SearchConfig, progress: Optional[ProgressFn] = None, *,
                      explorer: Optional[Explorer] = None,
                      observe: Optional[Callable[[dict], None]] = None) -> SearchResult:
    """``explorer``: a prepared tree (tests pass ``Explorer(reduce=False)`` for brute force);
    ``observe`` sees every execution's outcome (tests compare the classes it visits)."""
    started = time.monotonic()
    deadline = started + config.timeout
    epoch = time.time()
    if explorer is None:
        explorer = Explorer(preemption_bound=config.preemptions)
    warnings: set[str] = set()
    inversions: set[str] = set()
    executions = 0
    stopped_by = "budget"
    failing: Optional[dict] = None
    branch: Optional[Branch] = explorer.first()
    max_steps = 0
    try:
        while branch is not None:
            if executions >= config.budget:
                break
            if time.monotonic() >= deadline:
                stopped_by = "timeout"
                break
            policy = _policy(branch, bounded=explorer.preemption_bound is not None)
            outcome = run_execution(replace(_spec(config, policy, epoch, deadline, record=True),
                                            record_values=False))
            executions += 1
            if observe is not None:
                observe(outcome)
            max_steps = max(max_steps, outcome.get("steps") or 0)
            _collect_caveats(outcome, warnings, inversions)
            if outcome.get("failed"):
                failing = outcome
                stopped_by = "bug"
                break
            if outcome.get("diverged"):
                warnings.add("the program did not repeat itself when a schedule was replayed "
                             f"({outcome.get('summary')}); the search cannot be exhaustive")
                stopped_by = "nondeterminism"
                break
            explorer.record(outcome)
            if explorer.divergence:
                warnings.add("the program did not repeat itself when a schedule was replayed "
                             f"({explorer.divergence}); the search cannot be exhaustive")
                stopped_by = "nondeterminism"
                break
            branch = explorer.next()
            if progress is not None:
                progress(executions, executions + explorer.pending_alternatives())
        else:
            stopped_by = "exhausted"
    except KeyboardInterrupt:
        stopped_by = "interrupt"
    verdict = "no-bug-found"
    if stopped_by == "exhausted" and not warnings:
        verdict = "verified"
    result = SearchResult(verdict, config, executions, 0.0, stopped_by,
                          warnings=sorted(warnings), potential_deadlocks=sorted(inversions),
                          max_steps_seen=max_steps)
    result.classes = explorer.complete
    result.sleep_blocked = explorer.sleep_blocked
    result.bounded_out = explorer.bounded_out
    result.pending = explorer.pending_alternatives() if stopped_by != "exhausted" else 0
    if failing is not None:
        result.verdict = "bug"
        result.executions_to_bug = executions
        result.seconds_to_bug = time.monotonic() - started
        _finish_failure(config, result, failing, epoch)
    result.seconds = time.monotonic() - started
    return result


def _policy(branch: Branch, bounded: bool) -> PolicySpec:
    return PolicySpec("systematic", prefix=branch.prefix, sleep=tuple(sorted(branch.sleep.items())),
                      stop_when_asleep=not bounded)
