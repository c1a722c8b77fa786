"""The ``--json`` result file."""

from __future__ import annotations

import json
from typing import Any

from ..outcome import SearchResult
from ..hooks import accelerator
from .console import statement
from .output import write_text
from .trace import relevant_trace


def result_dict(result: SearchResult) -> dict[str, Any]:
    failure = result.failure
    lines, _ = relevant_trace((failure.events if failure else None) or [],
                              (failure.threads if failure else None) or [])
    return {
        "verdict": result.verdict.value,
        "statement": statement(result) if result.failure is None else result.summary,
        "classes": result.classes,
        "sleep_blocked": result.sleep_blocked,
        "pending_alternatives": result.pending,
        "preemption_bound": result.config.preemptions,
        "jobs": result.config.jobs,
        "shard": list(result.config.shard) if result.config.shard else None,
        "subtrees": result.subtrees,
        "kind": result.kind.value if result.kind is not None else None,
        "summary": result.summary,
        "executions": result.executions,
        "executions_to_bug": result.executions_to_bug,
        "seconds_to_bug": result.seconds_to_bug,
        "shrink_executions": result.shrink_executions,
        "seconds": round(result.seconds, 4),
        "stopped_by": result.stopped_by.value,
        "schedule": result.schedule.token() if result.schedule else None,
        #: the token was replayed before it was printed: why it did not reproduce (else null)
        "replay_problem": result.replay_problem,
        "model": result.config.model.value,
        #: which hooks ran: the C accelerator or the pure-Python path (INTERLACE_PURE_PYTHON=1)
        "accelerated": accelerator() is not None,
        "strategy": result.config.strategy,
        "seed": result.config.seed,
        "budget": result.config.budget,
        "preemptions": failure.preemptions if failure is not None else None,
        "switches": failure.switches if failure is not None else None,
        "trace": [line.as_dict() for line in lines],
        "details": result.details,
        "warnings": result.warnings,
        "potential_deadlocks": result.potential_deadlocks,
        "by_strategy": result.by_strategy,
        "found_by": result.found_by,
        "program_output": result.program_output if result.verdict.value == "setup-error" else None,
        #: ``--races``: one object per pair of racing source lines (empty when none or not asked)
        "races_checked": result.config.races,
        "races": [race.as_dict() for race in result.races],
        #: without ``--races``: the races its first recorded executions showed (a note)
        "races_seen": [race.as_dict() for race in result.races_seen],
    }


def write_json(result: SearchResult, path: str) -> None:
    """``path``: a file, or ``-`` for standard output (:mod:`interlace.report.output`)."""
    write_text(path, json.dumps(result_dict(result), indent=2) + "\n")


def write_json_models(result: SearchResult, verdicts, path: str) -> None:
    """``run --model all``: the result shown, plus ``models``: each model's own verdict."""
    data = result_dict(result)
    data["models"] = {v.model.value: v.as_dict() for v in verdicts}
    write_text(path, json.dumps(data, indent=2) + "\n")
