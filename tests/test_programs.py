"""Classic races and every synchronization primitive, both ways: misuse found, correct use quiet."""

import json

import pytest

from conftest import NO_TIME_LIMIT, PROGRAMS, run_cli
from expect import expectation

#: every program here declares its verdict on its first line (tests/expect.py)
NAMES = sorted(p.name for p in PROGRAMS.glob("*.py"))


def _run(tmp_path, name, *extra):
    out = tmp_path / "r.json"
    result = run_cli("run", str(PROGRAMS / name), "--json", str(out), *NO_TIME_LIMIT, *extra)
    assert out.exists(), result.stdout + result.stderr
    return result, json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_verdict(tmp_path, name):
    expect = expectation(PROGRAMS / name)
    safe = expect.verdict() == "safe"
    budget = expect.budget or (150 if safe else 1000)
    result, data = _run(tmp_path, name, "--budget", str(budget))
    if safe:
        assert result.returncode == 0, result.stdout
        # the default portfolio ends early when its bounded DPOR tree runs out
        assert (data["verdict"] == "verified" and data["executions"] <= budget
                or data["verdict"] == "no-bug-found" and data["executions"] == budget), data
    else:
        assert result.returncode == 1, result.stdout
        assert data["verdict"] == "bug" and data["kind"] == expect.kind, data["summary"]


@pytest.mark.slow
@pytest.mark.parametrize("model,found", [("gil", False), ("gil-3.9", True), ("free-threaded", True)])
def test_attr_increment_loop_depends_on_the_model(tmp_path, model, found):
    result, data = _run(tmp_path, "attr_loop.py", "--model", model, "--budget", "300")
    assert (data["verdict"] == "bug") is found, (model, data["summary"])
    assert data["model"] == model


@pytest.mark.slow
def test_deadlock_report_names_the_cycle(tmp_path):
    result, data = _run(tmp_path, "deadlock_abba.py")
    assert "deadlock:" in data["summary"] and "held by" in data["summary"]
    assert "holds a; waits for b" in data["details"] and "deadlock_abba.py" in data["details"]


@pytest.mark.slow
def test_lock_order_inversion_is_warned_without_a_deadlock(tmp_path):
    result, data = _run(tmp_path, "lock_order_inversion.py", "--budget", "20")
    assert result.returncode == 0, result.stdout
    assert any("took a then b" in p for p in data["potential_deadlocks"]), data
    assert "potential deadlock" in result.stdout


@pytest.mark.slow
def test_native_blocking_does_not_freeze_and_is_reported(tmp_path):
    result, data = _run(tmp_path, "socket_blocking.py", "--budget", "5")
    assert result.returncode == 0, result.stdout
    assert any("outside interlace's control" in w and "socket_blocking.py" in w
               for w in data["warnings"]), data["warnings"]


@pytest.mark.slow
def test_uncontrolled_preexisting_lock_never_hangs(tmp_path):
    result, data = _run(tmp_path, "preexisting_lock.py", "--budget", "5", "--timeout", "60")
    assert result.returncode == 0, result.stdout
    assert data["warnings"], "running outside control must be reported"


@pytest.mark.skipif(__import__("sys").version_info < (3, 12),
                    reason="sys.settrace only sees the threads interlace starts")
@pytest.mark.slow
def test_a_thread_started_behind_interlaces_back_is_reported_not_scheduled(tmp_path):
    _, data = _run(tmp_path, "raw_thread.py", "--budget", "20")
    assert data["verdict"] == "no-bug-found", data["summary"]
    assert any("a thread interlace does not manage" in w and "raw_thread.py" in w
               for w in data["warnings"]), data["warnings"]


_LONG_COLLECTIONS = """
import gc
import threading

junk = [[i] for i in range(1_500_000)]  # containers every full collection traverses


def other():
    pass


t = threading.Thread(target=other)
t.start()
gc.collect()
t.join()
"""


@pytest.mark.slow
def test_a_long_garbage_collection_is_not_a_thread_blocked_outside(tmp_path):
    """Collections stop every thread; on free-threaded builds each one walks the whole heap,
    which took longer than the watchdog's threshold here, and looked like a blocked thread."""
    script = tmp_path / "long_collections.py"
    script.write_text(_LONG_COLLECTIONS)
    out = tmp_path / "r.json"
    result = run_cli("run", str(script), "--budget", "3", "--json", str(out), "--strategy", "pct")
    data = json.loads(out.read_text())
    assert result.returncode == 0 and data["verdict"] == "no-bug-found", result.stdout
    assert data["warnings"] == [], data["warnings"]
