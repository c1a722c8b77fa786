"""What a search says about programs with nothing to interleave: a script that fails on its
own (before starting any thread) is a setup error, exit 2, never a race; a script that starts
no thread ends after one execution, exit 0."""

import json

import pytest

import interlace
from conftest import run_cli

NEEDS_ARGUMENT = """\
import argparse
import threading
parser = argparse.ArgumentParser()
parser.add_argument("count", type=int)
args = parser.parse_args()
threads = [threading.Thread(target=print, args=(i,)) for i in range(args.count)]
for t in threads:
    t.start()
"""

BROKEN_IMPORT = """\
import threading
import no_such_module_for_interlace_tests
"""

NO_THREADS = """\
total = 0
for i in range(100):
    total += i
assert total == 4950
"""

FAILS_WITHOUT_THREADS = """\
print("checking the configuration")
raise ValueError("bad configuration")
"""

STRATEGIES = ["pct", "random", "dpor", "portfolio"]


def _run(tmp_path, source, *args):
    script = tmp_path / "script.py"
    script.write_text(source)
    out = tmp_path / "r.json"
    result = run_cli("run", str(script), "--json", str(out), *args, timeout=120)
    return result, json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_script_that_needs_arguments_is_a_setup_error(tmp_path, strategy):
    result, data = _run(tmp_path, NEEDS_ARGUMENT, "--strategy", strategy)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "fails on its own" in result.stdout and "BUG FOUND" not in result.stdout
    assert "interlace replay" not in result.stdout and data["schedule"] is None
    assert "the following arguments are required: count" in result.stdout  # its own output
    assert data["verdict"] == "setup-error" and data["stopped_by"] == "setup-error"
    assert data["kind"] == "exit" and data["executions"] == 1


def test_a_broken_import_is_a_setup_error_with_its_traceback(tmp_path):
    result, data = _run(tmp_path, BROKEN_IMPORT)
    assert result.returncode == 2, result.stdout
    assert "No module named 'no_such_module_for_interlace_tests'" in result.stdout
    assert data["verdict"] == "setup-error" and data["kind"] == "exception"


@pytest.mark.slow
def test_the_same_script_with_its_arguments_is_searched(tmp_path):
    result, data = _run(tmp_path, NEEDS_ARGUMENT, "--budget", "5", "--strategy", "pct", "--", "2")
    assert result.returncode == 0, result.stdout
    assert data["verdict"] == "no-bug-found" and data["executions"] == 5


def test_an_exception_before_any_thread_shows_the_output(tmp_path):
    result, data = _run(tmp_path, FAILS_WITHOUT_THREADS, "--strategy", "pct")
    assert result.returncode == 2
    assert "checking the configuration" in result.stdout
    assert "ValueError: bad configuration" in result.stdout
    assert data["program_output"].strip() == "checking the configuration"


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_script_without_threads_stops_after_one_execution(tmp_path, strategy):
    result, data = _run(tmp_path, NO_THREADS, "--strategy", strategy)
    assert result.returncode == 0, result.stdout
    assert data["executions"] == 1 and data["stopped_by"] == "single-threaded"
    assert data["verdict"] == "no-bug-found"
    assert "Nothing to interleave" in result.stdout and "erified" not in result.stdout


def test_the_api_reports_a_failing_setup_as_a_setup_error():
    def setup():
        raise RuntimeError("no database")

    result = interlace.explore(setup, [lambda state: None] * 2, budget=5, strategy="pct")
    assert not result.ok and result.verdict == "setup-error"
    assert result.failure.kind == "exception" and "no database" in result.failure.message
    assert result.schedule is None and result.replay_call is None
    assert "fails on its own" in result.report
    with pytest.raises(AssertionError, match="no database"):
        result.assert_ok()
