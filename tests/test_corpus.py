"""Every program of tests/corpus (ports of SCTBench's bugs) gets the verdict on its first line, with default settings."""

import json

import pytest

from conftest import CORPUS, run_cli
from expect import expectation

#: every test here runs whole searches (pytest -m "not slow" leaves them out)
pytestmark = pytest.mark.slow

PROGRAMS = sorted(CORPUS.glob("*.py")) if CORPUS.is_dir() else []


def _expected(path):
    expect = expectation(path)
    return expect.verdict(), expect.kind


def test_corpus_is_present():
    assert PROGRAMS, f"the corpus is missing: expected it at {CORPUS}"


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_default_verdict(tmp_path, path):
    expect, kind = _expected(path)
    out = tmp_path / "r.json"
    result = run_cli("run", str(path), "--json", str(out), timeout=120)
    data = json.loads(out.read_text())
    assert data["seconds"] < 60, f"{path.name} took {data['seconds']:.1f} s"
    if expect == "safe":
        assert result.returncode == 0 and data["verdict"] == "no-bug-found", data["summary"]
        return
    assert result.returncode == 1 and data["verdict"] == "bug", result.stdout
    if kind == "deadlock":
        assert data["kind"] == "deadlock" and "deadlock" in data["summary"], data["summary"]
    # the minimized schedule replays the same failure, every time
    for _ in range(10):
        replay = run_cli("replay", "--schedule", data["schedule"], str(path), "--json", str(out))
        again = json.loads(out.read_text())
        assert replay.returncode == 1 and again["kind"] == data["kind"], replay.stdout
        assert again["summary"] == data["summary"]


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_systematic_search_verifies_the_safe_and_finds_the_buggy(tmp_path, path):
    """--strategy dpor with its default bound: "verified" within a minute, or the bug."""
    expect, kind = _expected(path)
    out = tmp_path / "r.json"
    result = run_cli("run", str(path), "--strategy", "dpor", "--timeout", "60", "--json", str(out),
                     timeout=120)
    data = json.loads(out.read_text())
    if expect == "safe":
        assert result.returncode == 0 and data["verdict"] == "verified", data["statement"]
        assert "preemption bound 2" in data["statement"]
    else:
        assert result.returncode == 1 and data["verdict"] == "bug", result.stdout
        if kind == "deadlock":
            assert data["kind"] == "deadlock"
