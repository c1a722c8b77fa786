"""The pytest plugin in real pytest sessions (pytester, each in its own process, as a user runs it)."""

import re
from textwrap import dedent

import pytest

#: every test here runs pytest on searches (pytest -m "not slow" leaves them out)
pytestmark = pytest.mark.slow

pytest_plugins = ["pytester"]

COUNTER = """
import threading


class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value = self.value + 1


class LockedCounter(Counter):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def increment(self):
        with self.lock:
            self.value = self.value + 1


def increment_in_two_threads(counter):
    threads = [threading.Thread(target=counter.increment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.value == 2


def test_racy():
    increment_in_two_threads(Counter())


def test_locked():
    increment_in_two_threads(LockedCounter())
"""

#: Fails under interlace whatever the interleaving (the copies run in threads of their own),
#: passes when run once as usual: shows whether a test was explored.
IN_MAIN_THREAD = """
import threading
import pytest


def in_main_thread():
    assert threading.current_thread() is threading.main_thread(), threading.current_thread().name
"""

REPLAY = re.compile(r"^(?:E)?\s+pytest --interlace-replay (il1:\S+) (\S+)$", re.MULTILINE)


def run(pytester, *args):
    return pytester.runpytest_subprocess(*args, timeout=300)


def assert_shows_a_lost_update(out):
    """Two threads read the same counter's old value (the copies have one counter each)."""
    reads = re.findall(r"(Thread-\d+) \(increment\)\s+read  (Counter(?:#\d+)?)\.value -> 0", out)
    readers = {}
    for thread, counter in reads:
        readers.setdefault(counter, set()).add(thread)
    assert any(len(threads) == 2 for threads in readers.values()), out
    assert "write Counter" in out and "preempted, switch to" in out


def test_a_lost_update_fails_with_the_trace_and_the_replay_command(pytester):
    pytester.makepyfile(test_counter=COUNTER)
    result = run(pytester, "--interlace")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1, passed=1)
    out = result.stdout.str()
    assert "FAILED test_counter.py::test_racy - Failed: BUG FOUND (assertion)" in out
    assert "AssertionError: assert 1 == 2" in out
    assert_shows_a_lost_update(out)
    replay = REPLAY.search(out)
    assert replay and replay.group(2) == "test_counter.py::test_racy", out
    assert re.search(r"interlace: explored 2 tests in \d+ executions \(strategy portfolio, "
                     r"model free-threaded, seed 0, budget \d+, 2 threads\)", out), out


def test_replay_reproduces_the_failure_and_refuses_other_tests(pytester):
    pytester.makepyfile(test_counter=COUNTER)
    token = REPLAY.search(run(pytester, "--interlace").stdout.str()).group(1)

    replayed = run(pytester, "--interlace-replay", token, "test_counter.py::test_racy")
    replayed.assert_outcomes(failed=1)
    out = replayed.stdout.str()
    assert "BUG FOUND (assertion)" in out and "AssertionError: assert 1 == 2" in out
    assert "interlace: replayed 1 test in 1 execution" in out

    other = run(pytester, "--interlace-replay", token, "test_counter.py::test_locked")
    other.assert_outcomes(failed=1)
    assert "was recorded for different code" in other.stdout.str()

    bad = run(pytester, "--interlace-replay", "garbage", "test_counter.py")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "--interlace-replay: not an interlace il1 schedule token" in bad.stderr.str()


def test_copies_of_a_test_race_on_shared_fixtures(pytester):
    pytester.makepyfile(test_ids="""
        import pytest

        class Registry:
            def __init__(self):
                self.next_id = 0
                self.issued = []

            def new_id(self):
                rid = self.next_id
                self.next_id = rid + 1
                return rid

        @pytest.fixture
        def registry():
            with open("fixture-setups.txt", "a") as log:
                log.write("setup\\n")
            return Registry()

        def test_ids_are_unique(registry):
            rid = registry.new_id()
            registry.issued.append(rid)
            assert registry.issued.count(rid) == 1, registry.issued
    """)
    result = run(pytester, "--interlace")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "AssertionError: [0, 0]" in out and "copy-1" in out and "copy-2" in out
    # set up by pytest in the parent, then again in each execution: the copies of one
    # execution share it, executions do not
    assert (pytester.path / "fixture-setups.txt").read_text().count("setup") > 2
    run(pytester, "--interlace", "--interlace-threads", "1").assert_outcomes(passed=1)


def test_function_fixtures_are_fresh_in_every_execution_and_torn_down(pytester):
    """What one execution leaves in a fixture (a file in tmp_path) is no race in the next."""
    pytester.makepyfile(test_files="""
        import pytest

        @pytest.fixture(scope="module")
        def setups():
            return []

        @pytest.fixture
        def log(tmp_path, setups):
            setups.append(1)
            path = tmp_path / "log.txt"
            yield path
            lines = len(path.read_text().splitlines()) if path.exists() else 0
            with open("teardowns.txt", "a") as out:
                out.write(f"{lines}\\n")

        def test_each_copy_writes_one_line(log, setups):
            with open(log, "a") as out:
                out.write("line\\n")
            assert len(log.read_text().splitlines()) <= 2
            assert len(setups) <= 2  # the module fixture: the parent's, plus this execution's
    """)
    result = run(pytester, "--interlace", "--interlace-budget", "20", "--interlace-strategy", "pct")
    result.assert_outcomes(passed=1)
    torn = (pytester.path / "teardowns.txt").read_text().split()
    # each execution tore its own fixture down; pytest tore down the parent's, unused, last
    assert len(torn) == 21 and set(torn[:-1]) == {"2"} and torn[-1] == "0"


def test_skip_markers_and_thread_unsafe_fixtures_run_the_test_once(pytester):
    pytester.makepyfile(test_skips=IN_MAIN_THREAD + dedent("""
        @pytest.mark.interlace_skip
        def test_skip_marker():
            in_main_thread()

        @pytest.mark.thread_unsafe
        def test_run_parallel_marker():
            in_main_thread()

        def test_uses_capsys(capsys):
            print("hello")
            assert capsys.readouterr().out == "hello\\n"
            in_main_thread()

        def test_explored():
            in_main_thread()
    """))
    result = run(pytester, "--interlace")
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    assert "FAILED test_skips.py::test_explored" in out and "(in thread copy-" in out
    assert ("interlace: 3 tests ran once, unexplored: 1 marked interlace_skip, "
            "1 marked thread_unsafe, 1 uses capsys") in out


def test_pytest_skip_and_xfail_inside_an_explored_test(pytester):
    pytester.makepyfile(test_outcomes="""
        import pytest

        def test_skips():
            pytest.skip("not on this platform")

        def test_xfails():
            pytest.xfail("known bug")
    """)
    result = run(pytester, "--interlace", "-rsx")
    result.assert_outcomes(skipped=1, xfailed=1)
    assert "not on this platform" in result.stdout.str() and "known bug" in result.stdout.str()


def test_the_marker_explores_without_the_flag_and_sets_options(pytester):
    pytester.makepyfile(test_marked=IN_MAIN_THREAD + dedent("""
        @pytest.mark.interlace(threads=1, budget=7, strategy="pct")
        def test_budget():
            pass

        @pytest.mark.interlace(threads=3, budget=1, strategy="pct")
        def test_three_copies():
            SEEN.append(1)
            assert len(SEEN) <= 2, "a third copy ran"

        SEEN = []

        @pytest.mark.interlace(thread=3)
        def test_typo():
            pass

        @pytest.mark.interlace(strategy="magic")
        def test_bad_strategy():
            pass

        def test_unmarked():
            in_main_thread()
    """))
    result = run(pytester)
    result.assert_outcomes(passed=2, failed=3)
    out = result.stdout.str()
    assert "AssertionError: a third copy ran" in out
    assert "interlace: @pytest.mark.interlace got an unknown argument 'thread'" in out
    assert "interlace: strategy: unknown strategy 'magic'" in out
    assert re.search(r"interlace: explored 2 tests in 8 executions", out), out
    # the summary names what each test really ran with: its marker, not the command line
    assert "1 test: strategy pct, model free-threaded, seed 0, budget 7, 1 thread" in out, out
    assert "1 test: strategy pct, model free-threaded, seed 0, budget 1, 3 threads" in out, out


def test_locks_created_at_import_time_are_controlled(pytester, monkeypatch):
    pytester.makeconftest("""
        import threading
        CONFTEST_LOCK = threading.Lock()
    """)
    pytester.makepyfile(test_imports="""
        import os
        import queue
        import threading

        from conftest import CONFTEST_LOCK

        LOCK = threading.RLock()
        READY = threading.Event()
        ITEMS = queue.Queue()
        TOTAL = [0]

        def test_lock_kind():
            expected = os.environ["EXPECTED_LOCK_MODULE"]
            assert type(CONFTEST_LOCK).__module__ == expected
            assert type(LOCK).__module__ == expected

        def add():
            for _ in range(2):
                with LOCK:
                    TOTAL[0] = TOTAL[0] + 1

        def test_module_level_primitives():
            threads = [threading.Thread(target=add) for _ in range(2)]
            consumer = threading.Thread(target=lambda: ITEMS.put(READY.wait()))
            for thread in threads + [consumer]:
                thread.start()
            READY.set()
            assert ITEMS.get() is True  # (no timeouts: interlace would rightly let them fire)
            for thread in threads + [consumer]:
                thread.join()
            assert TOTAL[0] == 4
    """)
    monkeypatch.setenv("EXPECTED_LOCK_MODULE", "interlace.runtime.sync")
    explored = run(pytester, "--interlace", "--interlace-threads", "1", "-W",
                   "error::interlace.pytest_plugin.InterlaceWarning")
    explored.assert_outcomes(passed=2)
    assert "outside interlace's control" not in explored.stdout.str()
    monkeypatch.setenv("EXPECTED_LOCK_MODULE", "_thread")
    run(pytester).assert_outcomes(passed=2)  # without the flag nothing is replaced


def test_tests_that_explore_themselves_run_with_and_without_the_flag(pytester):
    pytester.makepyfile(test_api_use="""
        import threading
        import interlace

        def bump(state):
            state["n"] = state["n"] + 1

        def test_explore():
            interlace.explore(lambda: {"n": 0}, [bump, bump], lambda s: s["n"] == 2,
                              budget=200).assert_ok()

        @interlace.check(budget=200)
        def test_check():
            state = {"n": 0}
            threads = [threading.Thread(target=bump, args=(state,)) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert state["n"] == 2
    """)
    for flags in ([], ["--interlace"]):
        result = run(pytester, *flags)
        result.assert_outcomes(failed=2)
        out = result.stdout.str()
        assert "BUG FOUND (invariant): the invariant returned False" in out
        assert "interlace.replay('il1:" in out
        assert "BUG FOUND (assertion)" in out and "do not nest" not in out
    assert "2 tests ran once, unexplored: 2 explores itself" in out
    token, test = REPLAY.search(out).groups()
    assert test == "test_api_use.py::test_check"
    replayed = run(pytester, "--interlace-replay", token, test)
    replayed.assert_outcomes(failed=1)
    assert "AssertionError: assert 1 == 2" in replayed.stdout.str()


def test_works_with_x_k_and_last_failed(pytester):
    pytester.makepyfile(test_select=IN_MAIN_THREAD + dedent("""
        def test_first():
            in_main_thread()

        def test_second():
            in_main_thread()

        def test_passes():
            pass
    """))
    run(pytester, "--interlace", "-x").assert_outcomes(failed=1)
    only = run(pytester, "--interlace", "-k", "second")
    only.assert_outcomes(failed=1, deselected=2)
    assert "test_select.py::test_second" in only.stdout.str()
    run(pytester, "--interlace").assert_outcomes(failed=2, passed=1)
    last = run(pytester, "--interlace", "--lf")
    assert last.parseoutcomes().get("failed") == 2 and "passed" not in last.parseoutcomes()
    assert "rerun previous 2 failures" in last.stdout.str()
    plain = run(pytester, "--lf")  # plain pytest: each runs once, in the main thread
    assert plain.parseoutcomes().get("passed") == 2 and "failed" not in plain.parseoutcomes()


def test_the_plugin_can_be_disabled(pytester):
    pytester.makepyfile(test_plain=IN_MAIN_THREAD + dedent("""
        @pytest.mark.interlace(threads=2)
        def test_marked():
            in_main_thread()
    """))
    disabled = run(pytester, "-p", "no:interlace", "--interlace")
    assert disabled.ret == pytest.ExitCode.USAGE_ERROR
    assert "unrecognized arguments: --interlace" in disabled.stderr.str()
    run(pytester, "-p", "no:interlace").assert_outcomes(passed=1)


def test_pytest_xdist(pytester):
    pytester.makepyfile(test_counter=COUNTER)
    result = run(pytester, "--interlace", "-n", "2")
    result.assert_outcomes(failed=1, passed=1)
    out = result.stdout.str()
    assert "BUG FOUND (assertion)" in out
    assert_shows_a_lost_update(out)
    token = REPLAY.search(out).group(1)
    assert re.search(r"interlace: explored 2 tests in \d+ executions", out), out
    run(pytester, "-n", "2", "--interlace-replay", token,
        "test_counter.py::test_racy").assert_outcomes(failed=1)


def test_usage_errors_name_the_option(pytester):
    pytester.makepyfile(test_empty="def test_nothing():\n    pass\n")
    cases = [
        (["--interlace-threads", "0"], "--interlace-threads: must be at least 1, got 0"),
        (["--interlace-budget", "lots"], "--interlace-budget: expected an integer, got 'lots'"),
        (["--interlace-model", "gil-2.7"], "unknown model 'gil-2.7'"),
        (["--interlace-strategy", "magic"], "invalid choice: 'magic'"),
        (["--interlace-include", "no_such_package_xyz"], "no importable package"),
    ]
    for args, message in cases:
        result = run(pytester, "--interlace", *args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, (args, result.stdout.str())
        assert message in result.stderr.str(), (args, result.stderr.str())


def test_caveats_are_warnings_that_can_be_made_errors(pytester):
    pytester.makepyfile(test_raw_lock="""
        import _thread
        import threading

        RAW = _thread.allocate_lock()  # not even --interlace can control a _thread lock

        def bump(state):
            with RAW:
                state[0] += 1

        def test_raw_lock():
            state = [0]
            threads = [threading.Thread(target=bump, args=(state,)) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    """)
    args = ["--interlace", "--interlace-threads", "1", "--interlace-budget", "5"]
    warned = run(pytester, *args)
    warned.assert_outcomes(passed=1)
    assert re.search(r"test_raw_lock.py:\d+: InterlaceWarning: Thread-\d \(bump\) blocked outside "
                     r"interlace's control at \S+test_raw_lock.py:\d+", warned.stdout.str())
    strict = run(pytester, *args, "-W", "error::interlace.pytest_plugin.InterlaceWarning")
    strict.assert_outcomes(failed=1)


def test_a_test_that_explores_through_a_helper_or_only_names_interlace(pytester):
    pytester.makepyfile(helpers="""
        import interlace

        def explore_counter():
            def bump(state):
                state["n"] = state["n"] + 1
            return interlace.explore(lambda: {"n": 0}, [bump, bump], lambda s: s["n"] == 2,
                                     budget=100)
    """, test_indirect="""
        import interlace
        from helpers import explore_counter

        class Box:
            value = 0

        box = Box()

        def test_through_a_helper():
            assert not explore_counter().ok   # found, and not reported as a nested-call bug

        def test_only_names_the_model():
            assert interlace.Model.GIL.value == "gil"
            before = box.value
            box.value = before + 1
            assert box.value == before + 1   # two copies: a lost update, explored
    """)
    result = run(pytester, "--interlace")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "test_only_names_the_model" in out and "BUG FOUND" in out
    assert "NestedExploration" not in out
    token = REPLAY.search(out).group(1)
    refused = run(pytester, "--interlace-replay", token, "test_indirect.py::test_through_a_helper")
    refused.assert_outcomes(failed=1)  # a token of another test is refused, never followed
    assert "was recorded for different code" in refused.stdout.str()


def test_unittest_testcase_methods_are_said_to_run_unexplored(pytester):
    pytester.makepyfile(test_cases="""
        import unittest

        class Counter(unittest.TestCase):
            def test_once(self):
                self.assertEqual(1 + 1, 2)

        def test_plain():
            pass
    """)
    result = run(pytester, "--interlace")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "interlace: explored 1 test in" in out
    assert ("interlace: 1 test ran once, unexplored: 1 not a plain test function "
            "(unittest.TestCase method, doctest or another plugin's item)") in out


@pytest.mark.slow
def test_a_test_calling_check_linearizable_runs_once_under_the_flag(pytester):
    pytester.makepyfile(test_lin="""
        import threading
        import interlace
        from interlace import check_linearizable

        class Counter:
            def __init__(self):
                self.value = 0
                self.lock = threading.Lock()

            def inc(self):
                self.value = self.value + 1
                return self.value

            def locked_inc(self):
                with self.lock:
                    self.value = self.value + 1
                    return self.value

        def test_racy():
            interlace.check_linearizable(Counter, [Counter.inc], ops_per_thread=1).assert_ok()

        def test_locked():
            check_linearizable(Counter, [Counter.locked_inc], ops_per_thread=1).assert_ok()
    """)
    for flags in ([], ["--interlace"]):
        result = run(pytester, *flags)
        result.assert_outcomes(failed=1, passed=1)
        out = result.stdout.str()
        assert "NOT LINEARIZABLE: Counter" in out and "do not nest" not in out
    assert "2 tests ran once, unexplored: 2 explores itself" in out


#: A minimal stand-in for pytest-asyncio (not installable on every CI interpreter): like it,
#: it wraps each async test in a sync function that drives one event loop.
ASYNC_PLUGIN = """
import asyncio
import functools
import inspect

import pytest

LOOP = asyncio.new_event_loop()


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    function = pyfuncitem.obj
    if inspect.iscoroutinefunction(function):
        @functools.wraps(function)
        def in_the_loop(*args, **kwargs):
            LOOP.run_until_complete(function(*args, **kwargs))

        pyfuncitem.obj = in_the_loop
    yield
"""


def test_async_tests_wrapped_by_a_plugin_run_once(pytester):
    pytester.makeconftest(ASYNC_PLUGIN)
    pytester.makepyfile(test_async="""
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_sleeps():
            await asyncio.sleep(0)

        async def test_unmarked():
            await asyncio.sleep(0)
    """)
    result = run(pytester, "--interlace", "-p", "no:asyncio")
    result.assert_outcomes(passed=2)
    assert "interlace: 2 tests ran once, unexplored: 2 async test" in result.stdout.str()


def test_a_timeout_that_expires_is_explained_and_can_be_assumed_away(pytester):
    pytester.makepyfile(test_timeouts="""
        import threading
        import pytest

        def wait_for_the_setter():
            ready = threading.Event()
            setter = threading.Thread(target=ready.set)
            setter.start()
            assert ready.wait(timeout=5)
            setter.join()

        def test_explores_the_timeout():
            wait_for_the_setter()

        @pytest.mark.interlace(assume_no_timeouts=True)
        def test_assumes_no_timeouts():
            wait_for_the_setter()
    """)
    result = run(pytester, "--interlace", "--interlace-threads", "1")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "FAILED test_timeouts.py::test_explores_the_timeout" in out
    assert "wait with a 5 s timeout gave up" in out and "assume_no_timeouts=True" in out
    everything = run(pytester, "--interlace", "--interlace-threads", "1",
                     "--interlace-assume-no-timeouts")
    everything.assert_outcomes(passed=2)
