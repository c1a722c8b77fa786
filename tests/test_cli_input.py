"""The command line's first minute: version, usage, bad input, --json, tokens that do not fit.

The tests that run a search are marked slow; the rest never start one.
"""

import json
import os

import pytest

from conftest import PROGRAMS, run_cli

COUNTER = str(PROGRAMS / "list_concat.py")


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("interlace ")


@pytest.mark.parametrize("argv", [[], ["nosuch"], ["run", "x.py", "3"]])
def test_usage_line_lists_every_subcommand(argv):
    result = run_cli(*argv)
    assert result.returncode == 2
    assert "{run,replay,stress,explain}" in result.stderr
    assert "{run,replay,stress,explain}" in run_cli("--help").stdout


def test_run_without_a_script_says_what_is_missing():
    result = run_cli("run")
    assert result.returncode == 2 and "give the script" in result.stderr


def test_script_arguments_without_double_dash_get_a_hint():
    result = run_cli("run", COUNTER, "3")
    assert result.returncode == 2
    assert "go after `--`" in result.stderr and "-- 3" in result.stderr


def test_unknown_option_is_still_an_error():
    result = run_cli("run", COUNTER, "--budjet", "3")
    assert result.returncode == 2 and "unrecognized arguments: --budjet" in result.stderr


def test_folder_as_script_is_a_clear_error(tmp_path):
    (tmp_path / "__main__.py").write_text("print(1)\n")
    result = run_cli("run", str(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr and "-m" in result.stderr


@pytest.mark.parametrize("command", [["run"], ["explain"]])
def test_device_as_source_is_refused_without_reading_it(command):
    result = run_cli(*command, "/dev/zero", timeout=60)
    assert result.returncode == 2
    assert "not a regular file" in result.stderr


@pytest.mark.parametrize("where", ["missing", "folder", "readonly"])
@pytest.mark.parametrize("command", ["run", "replay", "explain"])
def test_json_path_is_checked_before_the_work(tmp_path, where, command):
    if where == "readonly" and os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    path = {"missing": tmp_path / "no" / "r.json", "folder": tmp_path}.get(where)
    if where == "readonly":
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        path = folder / "r.json"
    argv = {"run": ["run", COUNTER, "--timeout", "600"],
            "replay": ["replay", "--schedule", "il1:py311:free-threaded:0:-", COUNTER],
            "explain": ["explain", COUNTER]}[command]
    result = run_cli(*argv, "--json", str(path), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--json" in result.stderr
    assert "BUG FOUND" not in result.stdout  # refused before searching


@pytest.mark.slow
def test_json_dash_is_standard_output_for_run_and_explain(tmp_path):
    result = run_cli("run", COUNTER, "--json", "-", cwd=tmp_path)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "bug"
    assert "BUG FOUND" in result.stderr  # the text report moved out of the way
    assert not (tmp_path / "-").exists()
    explained = run_cli("explain", COUNTER, "--json", "-")
    assert "functions" in json.loads(explained.stdout) or json.loads(explained.stdout)


@pytest.mark.slow
def test_a_reader_that_stops_early_loses_only_the_text(tmp_path):
    """``interlace run x.py --json F --html H | head -1``: the closed pipe ends the text; the
    files are written and the exit status still says a bug was found.  ``--json -`` puts the
    HTML line on stderr, out of the JSON's way."""
    import subprocess
    import sys
    out, page = tmp_path / "out.json", tmp_path / "out.html"
    command = [sys.executable, "-m", "interlace", "run", COUNTER, "--json", str(out),
               "--html", str(page)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    process.stdout.readline()
    process.stdout.close()  # what `head -1` does after its line
    _, stderr = process.communicate(timeout=1800)
    assert process.returncode == 1, stderr
    assert json.loads(out.read_text())["verdict"] == "bug"
    assert page.read_text().startswith("<!DOCTYPE html>") or "<html" in page.read_text()
    both = run_cli("run", COUNTER, "--json", "-", "--html", str(page), cwd=tmp_path)
    assert json.loads(both.stdout)["verdict"] == "bug"
    assert f"HTML report: {page}" in both.stderr


def test_token_naming_a_missing_thread_or_step_does_not_fit():
    from interlace.engine.schedule import python_tag, script_hash
    prefix = f"il1:{python_tag()}:free-threaded:{script_hash(COUNTER)}"
    for body, words in (("5.9", "never exists"), ("999999.1", "past the end")):
        result = run_cli("replay", "--schedule", f"{prefix}:{body}", COUNTER)
        assert result.returncode == 2, result.stdout
        assert "does not fit this program" in result.stderr and words in result.stderr


def test_a_token_that_no_longer_fits_an_edited_script_is_a_warning(tmp_path):
    script = tmp_path / "edited.py"
    script.write_text(open(COUNTER).read())
    result = run_cli("replay", "--schedule", "il1:py311:free-threaded:00000000:999999.1", str(script))
    assert result.returncode == 0, result.stderr
    assert "script changed" in result.stdout and "could not follow the token" in result.stdout


@pytest.mark.slow
def test_program_output_cannot_drive_the_terminal(tmp_path):
    script = tmp_path / "ansi.py"
    script.write_text("import threading\nprint('\\x1b[2J\\x1b]0;pwned\\x07')\n"
                      "x = 0\ndef f():\n    global x\n    x += 1\n"
                      "ts = [threading.Thread(target=f) for _ in range(2)]\n"
                      "[t.start() for t in ts]\n[t.join() for t in ts]\nassert x == 2, '\\x1b[31mred'\n")
    result = run_cli("run", str(script))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b[2J" in result.stdout


@pytest.mark.slow
def test_replay_command_is_never_wrapped(tmp_path):
    deep = tmp_path / ("a-long-folder-name-" * 6)
    deep.mkdir()
    script = deep / "program_with_a_long_name.py"
    script.write_text((PROGRAMS / "list_concat.py").read_text())
    result = run_cli("run", str(script), "--", "--flag", "x" * 40, env={"COLUMNS": "80"})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    replay = next(i for i, line in enumerate(lines) if "interlace replay --schedule" in line)
    assert str(script) in lines[replay] and "x" * 40 in lines[replay]


@pytest.mark.slow
def test_run_a_module_as_python_m_does(tmp_path):
    package = tmp_path / "racy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "shared.py").write_text("LIMIT = 2\n")
    # a relative import works only when the package is run as python -m runs it
    (package / "__main__.py").write_text("from .shared import LIMIT\n"
                                         + (PROGRAMS / "list_concat.py").read_text())
    result = run_cli("run", "-m", "racy", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BUG FOUND (assertion)" in result.stdout
    replay = next(line.strip() for line in result.stdout.splitlines() if "interlace replay" in line)
    assert replay.endswith(" -m racy"), replay
    again = run_cli(*replay.split()[1:], cwd=tmp_path)
    assert again.returncode == 1 and "BUG FOUND (assertion)" in again.stdout
    missing = run_cli("run", "-m", "no_such_module_here", cwd=tmp_path)
    assert missing.returncode == 2 and "no module named" in missing.stderr
