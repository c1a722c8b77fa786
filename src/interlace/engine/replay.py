"""Replaying one schedule token against a script."""

from __future__ import annotations

import time
from dataclasses import replace

from .schedule import Schedule, python_tag, script_hash
from .search import SearchConfig, SearchResult, replay_recorded


def replay_script(token: str, config: SearchConfig) -> SearchResult:
    """Re-execute exactly the interleaving in ``token``; the result says whether it failed."""
    schedule = Schedule.parse(token)
    config = replace(config, model=schedule.model, budget=1, strategy="replay")
    warnings = []
    if schedule.script_hash != script_hash(config.script):
        warnings.append("the script changed since this schedule was recorded; "
                        "the replay may not follow the same interleaving")
    if schedule.python != python_tag():
        warnings.append(f"this schedule was recorded on {schedule.python} and is replayed on "
                        f"{python_tag()}: bytecode differs between versions, so the steps may not line up")
    started = time.monotonic()
    outcome, output = replay_recorded(config, schedule.deviations)
    seconds = time.monotonic() - started
    result = SearchResult("bug" if outcome.get("failed") else "no-bug-found", config, 1, seconds,
                          "bug" if outcome.get("failed") else "budget", warnings=warnings)
    result.schedule = schedule
    if outcome.get("failed"):
        result.kind = outcome["kind"]
        result.summary = outcome.get("summary")
        result.details = outcome.get("details") or ""
        result.failure = outcome
        result.executions_to_bug = 1
        result.seconds_to_bug = seconds
        result.program_output = output
    return result
