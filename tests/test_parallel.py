"""``--jobs N`` and ``--shard I/N``: the same verdicts as one process, and repeatable results."""

import json

import pytest

from conftest import NO_TIME_LIMIT, CORPUS, PROGRAMS, ROOT, run_cli

DPOR = ROOT / "tests" / "dpor_programs"
#: Found by PCT and random (seed 3) only after a few dozen executions: parallel runs overlap.
SLOW_BUG = CORPUS / "sct_bluetooth_driver_bad.py"


def _run(tmp_path, name, *args):
    out = tmp_path / f"{name}.json"
    result = run_cli("run", "--json", str(out), *NO_TIME_LIMIT, *args)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    data = json.loads(out.read_text())
    data.pop("seconds"), data.pop("seconds_to_bug")
    return result, data


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["pct", "random"])
def test_jobs_run_the_same_executions_as_one_process(tmp_path, strategy):
    """Each execution's policy depends on its index only, and the lowest failing index wins."""
    _, one = _run(tmp_path, "one", str(SLOW_BUG), "--strategy", strategy, "--seed", "3")
    _, two = _run(tmp_path, "two", str(SLOW_BUG), "--strategy", strategy, "--seed", "3", "--jobs", "2")
    assert one["verdict"] == "bug" and one["executions"] > 10
    assert {k: v for k, v in two.items() if k != "jobs"} == {k: v for k, v in one.items() if k != "jobs"}


@pytest.mark.slow
def test_jobs_without_a_bug_use_the_whole_budget(tmp_path):
    _, data = _run(tmp_path, "safe", str(PROGRAMS / "attr_loop_locked.py"), "--budget", "30",
                   "--jobs", "2", "--strategy", "pct")
    assert data["verdict"] == "no-bug-found" and data["executions"] == 30


@pytest.mark.slow
def test_shards_of_a_random_search_split_its_executions(tmp_path):
    counts = []
    for part in ("1/3", "2/3", "3/3"):
        _, data = _run(tmp_path, part.replace("/", "-"), str(PROGRAMS / "attr_loop_locked.py"),
                       "--budget", "30", "--shard", part, "--strategy", "pct")
        assert data["verdict"] == "no-bug-found" and data["shard"] == [int(part[0]), 3]
        counts.append(data["executions"])
    # execution 0 (the default schedule, which measures the step bound) runs in every part
    assert sum(counts) == 30 + 2


@pytest.mark.slow
def test_dpor_with_jobs_verifies_the_same_program_and_repeats_itself(tmp_path):
    program = str(DPOR / "locked_3x2.py")
    _, first = _run(tmp_path, "a", "--strategy", "dpor", "--preemptions", "none", "--jobs", "2",
                    program, "--", "/dev/null")
    _, again = _run(tmp_path, "b", "--strategy", "dpor", "--preemptions", "none", "--jobs", "2",
                    program, "--", "/dev/null")
    assert first["verdict"] == "verified" and first == again
    # side by side, branches cannot put each other to sleep: a few repeats, never fewer
    assert 90 <= first["executions"] <= 120


@pytest.mark.slow
def test_dpor_with_jobs_finds_the_bug_one_process_finds(tmp_path):
    result, data = _run(tmp_path, "bug", "--strategy", "dpor", "--jobs", "2",
                        str(CORPUS / "sct_wronglock_bad.py"))
    assert result.returncode == 1 and data["verdict"] == "bug", result.stdout
    replay = run_cli("replay", "--schedule", data["schedule"], str(CORPUS / "sct_wronglock_bad.py"))
    assert replay.returncode == 1


@pytest.mark.slow
def test_dpor_shards_together_cover_what_one_process_covers(tmp_path):
    """Every class of the unbounded search appears in some part; each part says it is a part."""
    import dpor_classes as dc
    from interlace.engine.search import SearchConfig
    from interlace.engine.systematic import search_systematic

    program = str(DPOR / "locked_3x2.py")
    whole = dc.explore(program, reduce=True)
    seen = set()
    for part in (1, 2, 3):
        classes = []

        def observe(outcome):
            if not outcome.sleep_blocked and not outcome.failed:
                classes.append(dc.class_of(outcome.events))

        # bounded by the interleavings (and the budget), never by the clock of a busy machine
        config = SearchConfig(script=program, argv=("/dev/null",), strategy="dpor", budget=10_000,
                              timeout=86_400, preemptions=None, shard=(part, 3))
        result = search_systematic(config, observe=observe)
        assert result.verdict == "verified" and result.subtrees is not None
        seen |= set(classes)
    assert seen == set(whole.classes)
    result = run_cli("run", "--strategy", "dpor", "--shard", "2/3", "--preemptions", "none",
                     "--timeout", "86400", program, "--", "/dev/null", timeout=3600)
    assert "part 2 of 3" in result.stdout and "verified only if every part is" in result.stdout


@pytest.mark.slow
def test_dpor_shards_find_a_bug_in_some_part(tmp_path):
    verdicts = []
    for part in ("1/2", "2/2"):
        _, data = _run(tmp_path, part.replace("/", "-"), "--strategy", "dpor", "--shard", part,
                       str(CORPUS / "sct_wronglock_bad.py"))
        verdicts.append(data["verdict"])
    assert "bug" in verdicts and "no-bug-found" not in verdicts


@pytest.mark.parametrize("args, message", [
    (["--jobs", "0"], "must be at least 1"),
    (["--jobs", "many"], "expected an integer"),
    (["--shard", "3/2"], "need 1 <= I <= N"),
    (["--shard", "1-2"], "expected I/N"),
])
def test_bad_parallel_options_are_usage_errors(args, message):
    result = run_cli("run", str(PROGRAMS / "attr_loop_locked.py"), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_jobs_auto_uses_every_core(tmp_path):
    import os
    _, data = _run(tmp_path, "auto", str(PROGRAMS / "attr_loop_locked.py"), "--budget", "4",
                   "--jobs", "auto")
    assert data["jobs"] == len(os.sched_getaffinity(0))
