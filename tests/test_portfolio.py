"""The default strategy, the portfolio: finds bugs that sit behind a program's start sequence,
and ends early with "verified within K preemptions" on a safe program.  Counts executions,
never seconds."""

import json

import pytest

from conftest import ROOT, run_cli

PORTFOLIO = ROOT / "tests" / "portfolio_programs"
REORDER = PORTFOLIO / "reorder_n.py"


def _run(tmp_path, *args):
    out = tmp_path / "r.json"
    result = run_cli("run", "--json", str(out), *args, timeout=300)
    return result, json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("setters", [4, 10, 20])
def test_the_default_finds_a_torn_update_behind_the_start_sequence(tmp_path, setters):
    # no --timeout: the budget of executions bounds the search, whatever the machine's load
    result, data = _run(tmp_path, str(REORDER), "--timeout", "100000", "--budget", "2000",
                        "--", str(setters))
    assert result.returncode == 1, result.stdout
    assert data["strategy"] == "portfolio" and data["verdict"] == "bug"
    assert "torn record" in data["summary"]
    # pct, random and dpor alone need thousands of executions here, or never find it
    assert data["executions_to_bug"] <= 600, data["by_strategy"]
    assert data["found_by"] in ("pos", "random", "pct", "dpor")
    replay = run_cli("replay", "--schedule", data["schedule"], str(REORDER), "--", str(setters))
    assert replay.returncode == 1 and "torn record" in replay.stdout


@pytest.mark.slow
def test_a_safe_program_is_verified_within_the_bound_and_ends_early(tmp_path):
    result, data = _run(tmp_path, str(PORTFOLIO / "reorder_n_locked.py"), "--timeout", "100000",
                        "--", "3")
    assert result.returncode == 0, result.stdout
    assert data["verdict"] == "verified" and data["stopped_by"] == "exhausted"
    assert data["executions"] < 1000 and data["preemption_bound"] == 2
    assert data["by_strategy"]["dpor"] == data["classes"] + data["sleep_blocked"]
    assert "Verified within 2 preemptions" in result.stdout
    assert "--preemptions none" in result.stdout


@pytest.mark.slow
def test_the_portfolio_takes_a_preemption_bound_and_jobs(tmp_path):
    result, data = _run(tmp_path, str(PORTFOLIO / "reorder_n_locked.py"), "--preemptions", "1",
                        "--jobs", "2", "--timeout", "100000", "--", "2")
    assert result.returncode == 0 and data["verdict"] == "verified", result.stdout
    assert data["preemption_bound"] == 1 and "Verified within 1 preemption:" in result.stdout
    again = _run(tmp_path, str(PORTFOLIO / "reorder_n_locked.py"), "--preemptions", "1",
                 "--jobs", "2", "--timeout", "100000", "--", "2")[1]
    assert again["executions"] == data["executions"] and again["by_strategy"] == data["by_strategy"]


def test_the_portfolio_cannot_be_sharded():
    result = run_cli("run", str(REORDER), "--shard", "1/2")
    assert result.returncode == 2
    assert "--strategy pct" in result.stderr and "Traceback" not in result.stderr
