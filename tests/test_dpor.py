"""Systematic search (``--strategy dpor``) checked against brute force.

Two independent references:

- every interleaving of the recorded per-thread steps, grouped by happens-before
  (``dpor_classes.every_class``): DPOR must run each class exactly once;
- executions of every schedule (``Explorer(reduce=False)``, within a small preemption bound so
  that it ends) and a hand-written model of the program: DPOR must reach every final state
  they reach.
"""

import itertools
import json

import pytest

import dpor_classes as dc
from conftest import NO_TIME_LIMIT, ROOT, run_cli

PROGRAMS = ROOT / "tests" / "dpor_programs"

#: Programs whose threads do the same steps whatever the schedule (no branch on a shared
#: value, no Condition/Queue/Event, whose blocking the enumeration does not model).
STRAIGHT_LINE = ["counter_2x2", "globals_rmw", "cell_counter", "keys_and_attr", "list_index",
                 "locked_3x1", "locked_3x2", "duo_rmw", "duo_lock"]


def program(name: str) -> str:
    return str(PROGRAMS / f"{name}.py")


@pytest.mark.slow
@pytest.mark.parametrize("name", STRAIGHT_LINE)
def test_dpor_runs_every_happens_before_class_exactly_once(name):
    run = dc.explore(program(name), reduce=True)
    assert run.result.verdict == "verified", run.result.warnings
    assert len(run.classes) == len(set(run.classes)), "two complete executions of one class"
    expected = dc.every_class(run.first_events)
    assert set(run.classes) == expected
    assert run.result.classes == len(expected)


@pytest.mark.slow
def test_independent_writes_are_not_reordered():
    """Writes to different keys of one dict commute: only the attribute write is a race."""
    run = dc.explore(program("keys_and_attr"), reduce=True)
    assert run.result.executions == 2
    assert sorted(run.finals) == ["[('a', 1), ('b', 2)] first", "[('a', 1), ('b', 2)] second"]


def _rmw_model() -> set[str]:
    """Final values of ``duo_rmw``: two threads each do ``x = x * 2 + k`` twice (read, write)."""
    finals = set()
    steps = {0: [("r", 0), ("w", 0)] * 2, 1: [("r", 1), ("w", 1)] * 2}
    for order in set(itertools.permutations([0] * 4 + [1] * 4)):
        x, seen, pos = 1, {}, {0: 0, 1: 0}
        for tid in order:
            op, k = steps[tid][pos[tid]]
            pos[tid] += 1
            if op == "r":
                seen[tid] = x
            else:
                x = seen[tid] * 2 + k
        finals.add(str(x))
    return finals


#: What each program can end with, worked out by hand (duo_rmw by the model above).
FINAL_STATES = {
    "duo_rmw": _rmw_model(),
    # the other thread first on a lock, in every order of the four critical sections
    "duo_lock": {"mmtt", "mtmt", "mttm", "tmmt", "tmtm", "ttmm"},
    # notify before the worker checks (it never waits) or after it waits; the main thread's
    # look at the state happens under the lock, so it sees the "wait" exactly when there is one
    "duo_cond": {"0 ['ready', 'go']", "1 ['wait', 'ready', 'go']"},
    # a get races with each put
    "duo_queue": {"ab", "am", "ma"},
    # the read before wait() can come before or after set(); the one after cannot
    "duo_event": {"0 1", "1 1"},
    "cell_counter": {"1", "2"},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FINAL_STATES))
def test_dpor_reaches_every_final_state(name):
    dpor = dc.explore(program(name), reduce=True)
    assert dpor.result.verdict == "verified", dpor.result.warnings
    assert len(dpor.classes) == len(set(dpor.classes))
    assert set(dpor.finals) == FINAL_STATES[name]
    # Every schedule with at most two preemptions, run for real (without a bound there are
    # far too many): nothing that DPOR does not reach.
    brute = dc.explore(program(name), reduce=False, preemptions=2)
    assert brute.result.verdict == "verified", brute.result.warnings
    assert set(brute.finals) <= set(dpor.finals)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["counter_2x2", "locked_3x2", "duo_queue", "duo_rmw"])
def test_a_preemption_bound_never_costs_more_executions_than_no_bound(name):
    unbounded = dc.explore(program(name), reduce=True).result
    assert unbounded.verdict == "verified"
    counts = []
    for bound in range(4):
        bounded = dc.explore(program(name), reduce=True, preemptions=bound).result
        assert bounded.verdict == "verified"
        counts.append(bounded.executions)
    assert counts == sorted(counts), "a higher bound explored less"
    assert counts[-1] <= unbounded.executions, (counts, unbounded.executions)


@pytest.mark.slow
def test_a_bound_of_zero_still_tries_every_thread_first():
    """Without preemptions, who goes next when the main thread blocks is still a choice."""
    run = dc.explore(program("locked_3x1"), reduce=True, preemptions=0)
    assert {order[0] for order in run.finals} == {"a", "b", "c"}
    # ...but the main thread cannot be interrupted before it blocks
    run = dc.explore(program("duo_lock"), reduce=True, preemptions=0)
    assert set(run.finals) == {"mmtt"}


# -- the command line -----------------------------------------------------------------------

def _run(tmp_path, *args):
    out = tmp_path / "r.json"
    result = run_cli("run", "--strategy", "dpor", "--json", str(out), *NO_TIME_LIMIT, *args)
    return result, json.loads(out.read_text()) if out.exists() else None


@pytest.mark.slow
def test_an_exhausted_search_is_verified_and_says_what_was_proved(tmp_path):
    result, data = _run(tmp_path, program("locked_3x2"), "--preemptions", "none", "--", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("Verified: all 90 interleaving classes explored, no failure (model free-threaded, "
            "no preemption bound).") in result.stdout
    assert data["verdict"] == "verified" and data["executions"] == 90
    assert data["preemption_bound"] is None


@pytest.mark.slow
def test_the_default_bound_is_stated_with_what_it_leaves_out(tmp_path):
    result, data = _run(tmp_path, program("locked_3x2"), "--", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("interleavings the search reaches within the bound explored, no failure "
            "(model free-threaded, preemption bound 2)") in result.stdout
    assert "--preemptions none for a proof without a bound" in result.stdout
    assert data["verdict"] == "verified" and data["preemption_bound"] == 2


@pytest.mark.slow
def test_a_search_stopped_by_its_budget_says_how_far_it_got(tmp_path):
    result, data = _run(tmp_path, program("locked_3x2"), "--preemptions", "none",
                        "--budget", "10", "--", "/dev/null")
    assert result.returncode == 0
    assert data["verdict"] == "no-bug-found" and data["executions"] == 10
    assert "No bug found in 10 executions (the budget of 10 executions was used up)" in result.stdout
    assert "known alternatives left" in result.stdout and "not a proof" in result.stdout
    assert "Verified" not in result.stdout


@pytest.mark.slow
def test_dpor_finds_the_lost_update_and_replays_it(tmp_path):
    example = str(ROOT / "examples" / "counter.py")
    result, data = _run(tmp_path, example)
    assert result.returncode == 1 and data["verdict"] == "bug", result.stdout
    assert "strategy dpor" in result.stdout and "lost" in result.stdout
    replay = run_cli("replay", "--schedule", data["schedule"], example)
    assert replay.returncode == 1, replay.stdout


@pytest.mark.parametrize("args, message", [
    (["--strategy", "pct", "--preemptions", "2"], "use it with --strategy dpor"),
    (["--strategy", "dpor", "--preemptions", "-1"], "must be 0 or more"),
    (["--strategy", "dpor", "--preemptions", "lots"], "expected an integer"),
])
def test_bad_preemption_bounds_are_usage_errors(args, message):
    result = run_cli("run", program("counter_2x2"), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
