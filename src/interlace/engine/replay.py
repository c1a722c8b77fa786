"""Replaying one schedule token against a script or a target (a Python callable)."""

from __future__ import annotations

import time
from dataclasses import replace

from ..config import SearchConfig
from ..outcome import Outcome, SearchResult, StopReason, Verdict
from .failure import replay_recorded
from .schedule import Schedule, python_tag, script_hash


def replay_script(token: str, config: SearchConfig) -> SearchResult:
    """Re-execute exactly the interleaving in ``token``; the result says whether it failed.

    A script edited since the token was recorded is still replayed, with a warning: the user
    is often checking whether an edit fixed the bug.
    """
    schedule = Schedule.parse(token)
    warnings = []
    changed = schedule.script_hash != script_hash(config.script)
    if changed:
        warnings.append("the script changed since this schedule was recorded; "
                        "the replay may not follow the same interleaving")
    return _replay(schedule, config, warnings, changed)


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


def _replay(schedule: Schedule, config: SearchConfig, warnings: list[str],
            changed: bool = False) -> SearchResult:
    config = replace(config, model=schedule.model, budget=1, strategy="replay")
    if schedule.python != python_tag():
        warnings.append(f"this schedule was recorded on {schedule.python} and is replayed on "
                        f"{python_tag()}: bytecode differs between versions, so the steps may not line up")
    started = time.monotonic()
    outcome, output = replay_recorded(config, schedule.deviations)
    seconds = time.monotonic() - started
    problem = misfit(schedule.deviations, outcome)
    if problem is not None:
        if outcome.failed or outcome.internal_error:
            warnings.append(f"the execution failed before following the whole token: {problem}")
        elif changed:  # checking an edit: the interleaving may be gone with the bug
            warnings.append(f"the replay could not follow the token ({problem}): the program "
                            "changed since it was recorded")
        else:
            raise ValueError(f"the schedule token does not fit this program: {problem}")
    result = SearchResult(Verdict.BUG if outcome.failed else Verdict.NO_BUG_FOUND, config, 1,
                          seconds, StopReason.BUG if outcome.failed else StopReason.BUDGET,
                          warnings=warnings)
    result.schedule = schedule
    if config.races:
        from .adjacent import races_in
        result.races = races_in(config, outcome, schedule.deviations)
    if outcome.internal_error:
        result.record_internal_error(outcome)
    elif outcome.failed:
        result.record_failure(outcome)
        result.executions_to_bug = 1
        result.seconds_to_bug = seconds
        result.program_output = output
    return result


def misfit(deviations, outcome: Outcome):
    """Why the replay did not follow ``deviations``, or ``None`` if it followed every one.

    A token printed by interlace names, at each of its steps, a thread that could run there;
    an entry naming a thread that never existed, or a step past the end of the execution, is
    not this program's token (or the program changed)."""
    followed = {tuple(d) for d in outcome.deviations}
    steps = outcome.steps or 0
    threads = len(outcome.threads)
    for step, tid in deviations:
        if (step, tid) in followed:
            continue
        if step > steps:
            return f"step {step} is past the end of the execution (it has {steps} steps)"
        if tid >= threads:
            return f"thread {tid} at step {step} never exists (the execution has {threads} threads)"
        return f"thread {tid} could not run at step {step}"
    return None
