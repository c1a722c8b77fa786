"""Every program of tests/corpus (ports of SCTBench's bugs) gets the verdict on its first line,
with the default budget (the time limit is lifted: the verdict must not depend on machine load)."""

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
    # the default budget, without the time limit: a busy machine must not change the verdict
    result = run_cli("run", str(path), "--json", str(out), "--timeout", "86400", timeout=3600)
    data = json.loads(out.read_text())
    if expect == "safe":
        # the portfolio's bounded DPOR ends early with "verified"; never a bug
        assert result.returncode == 0 and data["verdict"] in ("verified", "no-bug-found"), data["summary"]
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
    """--strategy dpor with its default bound: "verified", or the bug (bounded by the
    interleavings and the budget, not by the clock)."""
    expect, kind = _expected(path)
    out = tmp_path / "r.json"
    result = run_cli("run", str(path), "--strategy", "dpor", "--timeout", "86400", "--json", str(out),
                     timeout=3600)
    data = json.loads(out.read_text())
    if expect == "safe":
        assert result.returncode == 0 and data["verdict"] == "verified", data["statement"]
        assert "preemption bound 2" in data["statement"]
    else:
        assert result.returncode == 1 and data["verdict"] == "bug", result.stdout
        if kind == "deadlock":
            assert data["kind"] == "deadlock"
