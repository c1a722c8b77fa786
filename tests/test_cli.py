"""The command line as a user meets it: verdicts, exit codes, replay, JSON, bad input."""

import json

import pytest

from conftest import PROGRAMS, ROOT, default_sigint, run_cli


@pytest.mark.slow
def test_finds_the_bundled_example_and_prints_a_replayable_trace(tmp_path):
    out = tmp_path / "r.json"
    result = run_cli("run", "examples/counter.py", "--json", str(out))
    assert result.returncode == 1, result.stderr
    assert "BUG FOUND (assertion)" in result.stdout
    assert "read  counter" in result.stdout and "write counter" in result.stdout
    assert "preempted" in result.stdout
    data = json.loads(out.read_text())
    assert data["verdict"] == "bug" and data["kind"] == "assertion"
    assert data["model"] == "free-threaded" and data["strategy"] == "portfolio"
    assert data["schedule"].startswith("il1:") and data["executions"] >= 1
    assert any(step["kind"] == "access" and step["text"] == "counter" for step in data["trace"])
    replay = run_cli("replay", "--schedule", data["schedule"], "examples/counter.py")
    assert replay.returncode == 1
    assert data["summary"] in replay.stdout


@pytest.mark.slow
def test_same_seed_same_executions(tmp_path):
    runs = []
    for i in range(2):
        out = tmp_path / f"{i}.json"
        run_cli("run", str(PROGRAMS / "list_concat.py"), "--seed", "7", "--json", str(out))
        data = json.loads(out.read_text())
        runs.append((data["executions_to_bug"], data["schedule"]))
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_nothing_found_is_not_called_safe(tmp_path):
    result = run_cli("run", str(PROGRAMS / "attr_loop_locked.py"), "--budget", "20", "--strategy", "pct")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No bug found in 20 executions" in result.stdout
    assert "free-threaded" in result.stdout and "not a proof" in result.stdout
    assert "safe" not in result.stdout.lower()


def test_usage_errors_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    cases = [
        (["run", "missing.py"], "script not found"),
        (["run", str(bad)], "syntax error"),
        (["run", "examples/counter.py", "--budget", "0"], "at least 1"),
        (["run", "examples/counter.py", "--model", "gil-2.7"], "unknown model"),
        (["run", "examples/counter.py", "--strategy", "magic"], "invalid choice"),
        (["run", "examples/counter.py", "--include", "no_such_package_xyz"], "no importable package"),
        (["replay", "--schedule", "garbage", "examples/counter.py"], "not an interlace il1 schedule"),
        (["replay", "--schedule", "il1:py311:free-threaded:00:1.x", "examples/counter.py"], "bad step"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_replay_warns_when_the_script_changed(tmp_path):
    script = tmp_path / "c.py"
    script.write_text((ROOT / "examples" / "counter.py").read_text())
    out = tmp_path / "r.json"
    run_cli("run", str(script), "--json", str(out))
    token = json.loads(out.read_text())["schedule"]
    script.write_text(script.read_text() + "\n# edited\n")
    result = run_cli("replay", "--schedule", token, str(script))
    assert "script changed" in result.stdout


@pytest.mark.slow
def test_script_arguments_follow_a_double_dash(tmp_path):
    script = tmp_path / "args.py"
    script.write_text("import sys\nassert sys.argv[1:] == ['a', 'b'], sys.argv\n")
    result = run_cli("run", str(script), "--budget", "2", "--", "a", "b")
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_exit_130():
    import signal
    import subprocess
    import sys
    import time
    proc = subprocess.Popen([sys.executable, "-m", "interlace", "run",
                             str(PROGRAMS / "attr_loop_locked.py"), "--budget", "100000",
                             "--timeout", "600", "--strategy", "pct"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "the search was interrupted" in out and "No bug found in" in out
