"""Hostile but correct programs, and faults: no false finding, nothing left behind (issue 16)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from interlace.engine.search import SearchConfig, search
from interlace.runtime.executor import ExecutionSpec, PolicySpec, run_execution
from interlace.models import Model

HOSTILE = ROOT / "tests" / "hostile_programs"


def _spec(name: str, *argv: str, **kw) -> ExecutionSpec:
    return ExecutionSpec(str(HOSTILE / name), argv, Model.FREE_THREADED, PolicySpec("replay"), **kw)


@pytest.mark.slow
def test_time_limit_cutting_an_execution_is_running_out_of_time_not_a_hang():
    outcome = run_execution(_spec("select_then_lock.py", "3", wall_timeout=1.0, wall_cut=True))
    assert not outcome["failed"] and outcome["out_of_time"]
    result = search(SearchConfig(script=str(HOSTILE / "select_then_lock.py"), argv=("3",),
                                 timeout=1.0, budget=5))
    assert result.verdict == "no-bug-found" and result.stopped_by == "timeout"
    assert result.executions == 0


@pytest.mark.slow
def test_an_execution_that_really_exceeds_its_own_limit_is_still_a_hang():
    outcome = run_execution(_spec("select_then_lock.py", "3", wall_timeout=1.0))
    assert outcome["failed"] and outcome["kind"] == "hang"
