"""--races: the happens-before detector on synthetic logs, and on real programs end to end."""

import json
import re
from pathlib import Path

import pytest

from interlace.runtime.races import (Detector, RacePair, detect, first_seen, records_of,
                                    suppressed)
from interlace.engine.search import SearchConfig, replay_recorded, search
from interlace.runtime.events import Event

ROOT = Path(__file__).resolve().parent.parent
RACE_PROGRAMS = ROOT / "tests" / "race_programs"
pytest_plugins = ["pytester"]


# -- synthetic logs ------------------------------------------------------------------------------

def access(tid, name, write, line, op="global"):
    return Event(0, tid, "access", name, write=write, location=("obj", 0, name), file="f.py",
                 line=line, op=op)


def item(tid, key, write, line, op="item"):
    return Event(0, tid, "access", "d", write=write, location=("obj", 7, key), file="f.py",
                 line=line, op=op)


def sync(tid, kind, obj):
    return Event(0, tid, kind, kind, location=("sync", obj, None))


def lines(pairs):
    return sorted(tuple(sorted((p.first.line, p.second.line))) for p in pairs)


def started(*events):
    """Thread 1 started by thread 0 (object 50) before ``events``."""
    return [sync(0, "start", 50), sync(1, "begin", 50), *events]


def test_unordered_write_and_read_race():
    pairs = detect(started(access(1, "x", True, 10), access(0, "x", False, 20)))
    assert lines(pairs) == [(10, 20)]
    assert pairs[0].first.tid == 1 and pairs[0].first.write
    assert pairs[0].second.tid == 0 and not pairs[0].second.write


def test_two_reads_never_race():
    assert detect(started(access(1, "x", False, 10), access(0, "x", False, 20))) == []


def test_start_orders_what_came_before_and_join_what_came_after():
    events = [access(0, "x", True, 1), sync(0, "start", 50), sync(1, "begin", 50),
              access(1, "x", True, 2), sync(1, "end", 50), sync(0, "join", 50),
              access(0, "x", False, 3)]
    assert detect(events) == []
    without_join = [e for e in events if e.kind != "join"]
    assert lines(detect(without_join)) == [(2, 3)]


def test_a_lock_orders_release_before_the_next_acquire():
    events = started(sync(1, "acquire", 9), access(1, "x", True, 10), sync(1, "release", 9),
                     sync(0, "acquire", 9), access(0, "x", True, 20), sync(0, "release", 9))
    assert detect(events) == []
    other_lock = started(sync(1, "acquire", 9), access(1, "x", True, 10), sync(1, "release", 9),
                         sync(0, "acquire", 8), access(0, "x", True, 20), sync(0, "release", 8))
    assert lines(detect(other_lock)) == [(10, 20)]


def test_acquiring_does_not_publish():
    """A thread that only acquires and releases later orders nothing it did before the lock
    was released by someone else: thread 0's write races with thread 1's earlier write."""
    events = started(access(1, "x", True, 10), sync(0, "acquire", 9), sync(0, "release", 9),
                     access(0, "x", True, 20))
    assert lines(detect(events)) == [(10, 20)]


def test_every_pair_of_racing_lines_is_found_not_only_the_last_write():
    events = started(access(1, "x", True, 10), access(1, "x", True, 11), access(0, "x", False, 20))
    assert lines(detect(events)) == [(10, 20), (11, 20)]


def test_a_race_is_reported_once_per_pair_of_lines():
    events = started(*[access(t, "x", True, 10) for t in (1, 0, 1, 0)],
                     access(0, "x", False, 10))
    assert lines(detect(events)) == [(10, 10)]


def test_two_container_method_calls_are_atomic_but_not_against_a_plain_access():
    calls = started(item(1, None, True, 10, op="call"), item(0, None, True, 20, op="call"))
    assert detect(calls) == []
    mixed = started(item(1, None, True, 10, op="call"), item(0, "k", False, 20))
    assert lines(detect(mixed)) == [(10, 20)]


def test_keys_conflict_with_their_container_and_not_with_each_other():
    assert detect(started(item(1, "a", True, 10), item(0, "b", True, 20))) == []
    assert lines(detect(started(item(1, "a", True, 10), item(0, None, False, 20)))) == [(10, 20)]
    assert lines(detect(started(item(1, None, True, 10), item(0, "b", False, 20)))) == [(10, 20)]


def test_a_read_of_a_primitive_acquires_what_was_published_through_it():
    """``Event.is_set()`` touches the event's lock: after it, the setter's writes are ordered."""
    events = started(access(1, "x", True, 10), sync(1, "acquire", 9), sync(1, "release", 9),
                     Event(0, 0, "touch", "", location=("sync", 9, None)), access(0, "x", False, 20))
    assert detect(events) == []


def test_dicts_and_events_give_the_same_records():
    events = started(access(1, "x", True, 10), access(0, "x", False, 20))
    as_dicts = [dict(e.__dict__) for e in events]
    assert list(records_of(events)) == list(records_of(as_dicts))
    assert [r.seq for r in records_of(events) if r.op in ("read", "write")] == [0, 0]


def test_the_same_epoch_is_not_checked_twice():
    detector = Detector()
    detector.feed(records_of(started(access(1, "x", True, 10))))
    before = dict(detector.seen)
    detector.feed(records_of([access(1, "x", True, 10)]))
    assert detector.seen == before and detector.races == {}


def test_suppression_comment_on_either_line():
    pair = detect(started(access(1, "x", True, 10), access(0, "x", False, 20)))[0]
    source = {10: "x = 1  # interlace: ignore-race", 20: "print(x)"}
    assert suppressed(pair, lambda file, line: source[line])
    assert not suppressed(pair, lambda file, line: "x = 1  # interlace ignores nothing here")
    assert not suppressed(pair, lambda file, line: 'print("interlace: ignore-race")')


def test_first_seen_keeps_the_earliest_execution_of_each_pair():
    pair = detect(started(access(1, "x", True, 10), access(0, "x", False, 20)))[0].as_dict()
    found = first_seen([(5, [(3, 1)], [pair]), (2, [(1, 1)], [pair])], lambda f, l: "")
    assert len(found) == 1 and found[0].execution == 2 and found[0].deviations == ((1, 1),)
    assert RacePair.from_dict(pair) == found[0].pair


# -- programs --------------------------------------------------------------------------------------

def _expectations(path: Path):
    text = path.read_text()
    expect = re.search(r"^# expect: (race|norace)$", text, re.MULTILINE).group(1)
    pairs = {tuple(sorted(int(n) for n in m.groups()))
             for m in re.finditer(r"^# pair: (\d+) (\d+)$", text, re.MULTILINE)}
    return expect, pairs


PROGRAMS = sorted(RACE_PROGRAMS.glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_race_programs(path):
    expect, pairs = _expectations(path)
    result = search(SearchConfig(script=str(path), budget=30, races=True, timeout=120))
    assert not result.found, result.summary  # none of them asserts anything
    reported = {tuple(sorted(side.line for side in race.accesses)) for race in result.races}
    if expect == "norace":
        assert result.races == []
    else:
        assert result.races
        assert pairs <= reported, (pairs, reported)
    for race in result.races:
        assert {side.kind for side in race.accesses} & {"write"}
        assert all(side.file == str(path) and side.code and side.stack for side in race.accesses)


@pytest.mark.slow
def test_each_printed_schedule_replays_with_the_two_accesses_adjacent():
    path = RACE_PROGRAMS / "lost_update.py"
    config = SearchConfig(script=str(path), budget=10, races=True)
    result = search(config)
    adjacent = [race for race in result.races if race.adjacent]
    assert adjacent
    for race in adjacent:
        from interlace.engine.schedule import Schedule
        outcome, _ = replay_recorded(config, Schedule.parse(race.schedule).deviations)
        accesses = [e for e in outcome.events if e["kind"] in ("access",)]
        names = outcome.threads
        together = [(a, b) for a, b in zip(accesses, accesses[1:])
                    if {names[a["tid"]], names[b["tid"]]} == {s.thread for s in race.accesses}
                    and [a["line"], b["line"]] == [s.line for s in race.accesses]]
        assert together, race


@pytest.mark.slow
def test_cli_exit_codes_and_json(cli, tmp_path):
    racy, clean = RACE_PROGRAMS / "flag_publish.py", RACE_PROGRAMS / "event_handoff.py"
    out = tmp_path / "racy.json"
    run = cli("run", "--races", "--budget", "10", "--json", str(out), str(racy))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "DATA RACE" in run.stdout and "interlace replay --races --schedule il1:" in run.stdout
    data = json.loads(out.read_text())
    # the verdict is about failures (none here); the races are their own finding (exit 1)
    assert data["verdict"] in ("no-bug-found", "verified") and data["races_checked"] is True
    assert data["races"]
    for race in data["races"]:
        assert set(race) >= {"location", "accesses", "schedule"}
        assert len(race["accesses"]) == 2
        for side in race["accesses"]:
            assert set(side) >= {"thread", "kind", "file", "line", "code"}
    token = data["races"][0]["schedule"]
    replay = cli("replay", "--races", "--schedule", token, str(racy))
    assert replay.returncode == 1 and "DATA RACE" in replay.stdout
    out = tmp_path / "clean.json"
    run = cli("run", "--races", "--budget", "10", "--json", str(out), str(clean))
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(out.read_text())["races"] == []
    plain = cli("run", "--budget", "5", "--json", str(out), str(racy))
    assert plain.returncode == 0 and json.loads(out.read_text())["races"] == []


def test_cli_refuses_races_with_every_model(cli):
    run = cli("run", "--races", "--model", "all", str(RACE_PROGRAMS / "lost_update.py"))
    assert run.returncode == 2 and "--races" in run.stderr


@pytest.mark.slow
def test_a_race_and_a_bug_are_both_reported(tmp_path):
    script = tmp_path / "both.py"
    script.write_text("import threading\n"
                      "n = 0\n"
                      "def work():\n"
                      "    global n\n"
                      "    n = n + 1\n"
                      "ts = [threading.Thread(target=work) for _ in range(2)]\n"
                      "for t in ts: t.start()\n"
                      "for t in ts: t.join()\n"
                      "assert n == 2, n\n")
    result = search(SearchConfig(script=str(script), budget=50, races=True))
    assert result.found and result.kind == "assertion"
    assert [sorted(s.line for s in r.accesses) for r in result.races] == [[5, 5]]


@pytest.mark.slow
def test_explore_races_and_bad_input():
    import threading

    import interlace

    def setup():
        return {"n": 0, "lock": threading.Lock()}

    def racy(state):
        state["n"] = state["n"] + 1

    def locked(state):
        with state["lock"]:
            state["n"] = state["n"] + 1

    result = interlace.explore(setup, [racy, racy], budget=10, races=True)
    assert not result.ok and len(result.races) == 1 and "races=True)" in result.report
    with pytest.raises(AssertionError, match="DATA RACE"):
        result.assert_ok()
    assert interlace.explore(setup, [locked, locked], budget=10, races=True).ok
    assert interlace.explore(setup, [racy, racy], budget=3).ok  # not asked: not reported
    with pytest.raises(TypeError, match="races"):
        interlace.explore(setup, [racy, racy], races="yes")


@pytest.mark.slow
def test_pytest_interlace_races(pytester):
    pytester.makepyfile(test_flags="""
        import threading

        import pytest

        registry = {}
        lock = threading.Lock()

        def test_unlocked_registration():
            registry["me"] = registry.get("me", 0) + 1

        def test_locked_registration():
            with lock:
                registry["you"] = registry.get("you", 0) + 1

        @pytest.mark.interlace(races=True, budget=10)
        def test_marked():
            registry["them"] = 1
    """)
    result = pytester.runpytest_subprocess("--interlace", "--interlace-races",
                                           "--interlace-budget", "10", timeout=300)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*DATA RACE*", "*pytest --interlace-replay il1:* --interlace-races*"])
    plain = pytester.runpytest_subprocess("--interlace", "--interlace-budget", "10", timeout=300)
    plain.assert_outcomes(passed=2, failed=1)  # the marker asks for races itself


# -- races seen in passing, without --races --------------------------------------------------------

def _run_json(tmp_path, program, *options):
    from conftest import run_cli
    out = tmp_path / "r.json"
    done = run_cli("run", str(RACE_PROGRAMS / program), "--json", str(out), *options, timeout=600)
    return done, json.loads(out.read_text())


def test_a_race_without_an_assertion_is_noted_beside_the_verdict(tmp_path):
    """Nothing can fail in lost_update.py (no assertion), so the search verifies it; the race
    its recorded executions show is a note, not a finding: exit status 0."""
    done, data = _run_json(tmp_path, "lost_update.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert data["verdict"] == "verified" and data["races"] == [] and not data["races_checked"]
    (seen,) = data["races_seen"]
    assert seen["location"] == "counter"
    assert {a["kind"] for a in seen["accesses"]} == {"read", "write"}
    assert {a["line"] for a in seen["accesses"]} == {11}
    assert "note: nothing failed, but a data race was seen" in done.stdout
    assert "Run with --races" in done.stdout


@pytest.mark.parametrize("program", ["locked_counter.py", "event_handoff.py", "queue_handoff.py",
                                     "suppressed.py"])
def test_no_note_where_nothing_races(tmp_path, program):
    done, data = _run_json(tmp_path, program)
    assert done.returncode == 0, done.stdout + done.stderr
    assert data["races_seen"] == [] and "data race" not in done.stdout


def test_with_races_the_report_replaces_the_note(tmp_path):
    done, data = _run_json(tmp_path, "lost_update.py", "--races")
    assert done.returncode == 1 and data["races"] and data["races_seen"] == []
    assert "note: nothing failed" not in done.stdout


def test_passing_races_look_at_the_first_executions_then_powers_of_two_and_note_each_pair_once():
    from interlace.engine.passing_races import PassingRaces
    from interlace.outcome import Outcome
    racy = Outcome(events=started(access(1, "x", True, 10), access(0, "x", False, 20)),
                   threads=["MainThread", "worker"])
    quiet = Outcome(events=started(access(1, "y", False, 10)), threads=["MainThread", "worker"])
    passing = PassingRaces()
    passing.look(quiet)
    passing.look(racy)
    passing.look(racy)  # the same pair of lines again: noted once
    assert passing.checked == 3
    (race,) = passing.races
    assert race.location == "x" and [s.thread for s in race.accesses] == ["worker", "MainThread"]
    late = PassingRaces()
    for _ in range(20):
        late.look(quiet)
    assert late.offered == 20 and late.checked == 3 + 3  # executions 1-3, then 4, 8 and 16
    late.look(racy)  # the 21st: not looked at
    assert late.races == []
    for _ in range(11):
        late.look(racy)  # the 32nd is
    assert [r.location for r in late.races] == ["x"]
    unrecorded = PassingRaces()
    unrecorded.look(Outcome())
    assert unrecorded.offered == 0 and unrecorded.races == []
