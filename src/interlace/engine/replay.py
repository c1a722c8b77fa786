"""Replaying one schedule token against a script or a target (a Python callable)."""

from __future__ import annotations

import time
from dataclasses import replace

from .schedule import Schedule, python_tag, script_hash
from .search import SearchConfig, SearchResult, replay_recorded


def replay_script(token: str, config: SearchConfig) -> SearchResult:
    """Re-execute exactly the interleaving in ``token``; the result says whether it failed.

    A script edited since the token was recorded is still replayed, with a warning: the user
    is often checking whether an edit fixed the bug.
    """
    schedule = Schedule.parse(token)
    warnings = []
    if schedule.script_hash != script_hash(config.script):
        warnings.append("the script changed since this schedule was recorded; "
                        "the replay may not follow the same interleaving")
    return _replay(schedule, config, warnings)


def replay_target(token: str, config: SearchConfig) -> SearchResult:
    """Like :func:`replay_script` for ``config.target``, but a token for other code is refused.

    A target's hash covers only the functions handed to interlace (not the code they call),
    so a mismatch means the token belongs to another test or to an earlier version of this
    one.  Following its steps would exercise an unrelated interleaving and report it as if it
    were the recorded one, so the mismatch is an error.
    """
    if config.target is None:
        raise ValueError("replay_target needs a SearchConfig with a target")
    schedule = Schedule.parse(token)
    if schedule.script_hash != config.target.code_hash:
        raise ValueError(
            f"schedule {token!r} was recorded for different code (hash {schedule.script_hash}; "
            f"{config.target.label} hashes to {config.target.code_hash}): it belongs to another "
            "test, or the code changed since it was recorded. Run the search again for a fresh token.")
    return _replay(schedule, config, [])


def _replay(schedule: Schedule, config: SearchConfig, warnings: list[str]) -> SearchResult:
    config = replace(config, model=schedule.model, budget=1, strategy="replay")
    if schedule.python != python_tag():
        warnings.append(f"this schedule was recorded on {schedule.python} and is replayed on "
                        f"{python_tag()}: bytecode differs between versions, so the steps may not line up")
    started = time.monotonic()
    outcome, output = replay_recorded(config, schedule.deviations)
    seconds = time.monotonic() - started
    races = []
    if config.races:
        from .adjacent import races_in
        races = races_in(config, outcome, schedule.deviations)
    result = SearchResult("bug" if outcome.get("failed") else "no-bug-found", config, 1, seconds,
                          "bug" if outcome.get("failed") else "budget", warnings=warnings)
    result.schedule = schedule
    result.races = races
    if outcome.get("failed"):
        result.kind = outcome["kind"]
        result.summary = outcome.get("summary")
        result.details = outcome.get("details") or ""
        result.failure = outcome
        result.executions_to_bug = 1
        result.seconds_to_bug = seconds
        result.program_output = output
    return result
