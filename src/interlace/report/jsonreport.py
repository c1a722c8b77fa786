"""The ``--json`` result file."""

from __future__ import annotations

import json
from typing import Any

from ..engine.search import SearchResult
from ..hooks import accelerator
from .console import statement
from .trace import relevant_trace


def result_dict(result: SearchResult) -> dict[str, Any]:
    failure = result.failure or {}
    lines, _ = relevant_trace(failure.get("events") or [], failure.get("threads") or [])
    return {
        "verdict": result.verdict,
        "statement": statement(result) if not result.found else result.summary,
        "classes": result.classes,
        "sleep_blocked": result.sleep_blocked,
        "pending_alternatives": result.pending,
        "preemption_bound": result.config.preemptions,
        "jobs": result.config.jobs,
        "shard": list(result.config.shard) if result.config.shard else None,
        "subtrees": result.subtrees,
        "kind": result.kind,
        "summary": result.summary,
        "executions": result.executions,
        "executions_to_bug": result.executions_to_bug,
        "seconds_to_bug": result.seconds_to_bug,
        "shrink_executions": result.shrink_executions,
        "seconds": round(result.seconds, 4),
        "stopped_by": result.stopped_by,
        "schedule": result.schedule.token() if result.schedule else None,
        "model": result.config.model.value,
        #: which hooks ran: the C accelerator or the pure-Python path (INTERLACE_PURE_PYTHON=1)
        "accelerated": accelerator() is not None,
        "strategy": result.config.strategy,
        "seed": result.config.seed,
        "budget": result.config.budget,
        "preemptions": failure.get("preemptions"),
        "switches": failure.get("switches"),
        "trace": [line.as_dict() for line in lines],
        "details": result.details,
        "warnings": result.warnings,
        "potential_deadlocks": result.potential_deadlocks,
        #: ``--races``: one object per pair of racing source lines (empty when none or not asked)
        "races_checked": result.config.races,
        "races": [race.as_dict() for race in result.races],
    }


def write_json(result: SearchResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result_dict(result), handle, indent=2)
        handle.write("\n")


def write_json_models(result: SearchResult, verdicts, path: str) -> None:
    """``run --model all``: the result shown, plus ``models``: each model's own verdict."""
    data = result_dict(result)
    data["models"] = {v.model.value: v.as_dict() for v in verdicts}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
