"""The Python API as a test author meets it: explore, replay, check, and wrong arguments."""

import inspect
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

import interlace
from conftest import PROGRAMS, default_sigint


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


def increment(counter):
    counter.increment()


def counted_twice(counter):
    return counter.value == 2


@pytest.mark.slow
def test_explore_finds_the_lost_update_of_a_two_worker_counter():
    result = interlace.explore(Counter, [increment, increment], counted_twice, budget=200)
    assert not result.ok and result.verdict == "bug"
    assert result.failure.kind == "invariant"
    assert result.failure.message.startswith("invariant counted_twice() returned False")
    assert result.failure.thread == "MainThread"
    assert 1 <= result.executions <= 200
    assert result.schedule.startswith(f"il1:py{sys.version_info[0]}{sys.version_info[1]}:free-threaded:")
    # the trace shows both reads of the stale value before the writes, in the test's own code
    trace = result.trace
    assert "BUG FOUND (invariant)" in trace
    assert trace.count("read  Counter.value -> 0") == 2, trace
    assert "write Counter.value" in trace and "test_api.py" in trace
    assert "increment-1" in trace and "increment-2" in trace
    assert result.replay_call == (f"interlace.replay({result.schedule!r}, Counter, "
                                  "[increment, increment], counted_twice)")
    assert result.replay_call in trace


@pytest.mark.slow
def test_explore_with_a_lock_finds_nothing_and_says_how_much_it_explored():
    result = interlace.explore(LockedCounter, [increment, increment], counted_twice, budget=40,
                               strategy="pct")
    assert result.ok and result.verdict == "no-bug-found"
    assert result.failure is None and result.schedule is None and result.trace == ""
    assert result.executions == 40
    assert "No bug found in 40 executions" in result.report and "not a proof" in result.report
    result.assert_ok()


@pytest.mark.slow
def test_assert_ok_raises_with_the_trace_and_the_replay_call():
    result = interlace.explore(Counter, [increment, increment], counted_twice, budget=200)
    with pytest.raises(AssertionError) as raised:
        result.assert_ok()
    message = str(raised.value)
    assert message == result.report
    assert "Interleaving" in message and "interlace.replay(" in message and result.schedule in message


@pytest.mark.slow
def test_replay_reproduces_the_failure_and_refuses_a_token_for_other_code():
    found = interlace.explore(Counter, [increment, increment], counted_twice, budget=200)
    again = interlace.replay(found.schedule, Counter, [increment, increment], counted_twice)
    assert not again.ok and again.executions == 1
    assert again.failure.kind == "invariant" and again.schedule == found.schedule
    with pytest.raises(ValueError, match="recorded for different code"):
        interlace.replay(found.schedule, LockedCounter, [increment, increment], counted_twice)


@pytest.mark.slow
def test_replay_of_the_default_schedule_passes():
    found = interlace.explore(Counter, [increment, increment], counted_twice, budget=200)
    default = found.schedule.rsplit(":", 1)[0] + ":-"  # no deviations: each worker runs to the end
    assert interlace.replay(default, Counter, [increment, increment], counted_twice).ok


@pytest.mark.slow
def test_an_exception_in_a_worker_is_a_found_bug_not_a_crash_of_explore():
    def check_twice(account):  # checks, then reads again: another withdrawal can come between
        if account["balance"] < 10:
            return
        account_balance = account["balance"]
        account["balance"] = account_balance - 10
        if account["balance"] < 0:
            raise ValueError(f"overdrawn: {account['balance']}")

    result = interlace.explore(lambda: {"balance": 10}, [check_twice, check_twice], budget=300)
    assert result.failure is not None and result.failure.kind == "exception"
    assert result.failure.message.startswith("ValueError: overdrawn: -10")
    assert result.failure.thread in ("check_twice-1", "check_twice-2")
    assert "Traceback" in result.failure.traceback and "check_twice" in result.failure.traceback
    assert "interlace.replay(" in result.trace and "setup" in result.replay_call  # a lambda setup


@pytest.mark.slow
def test_an_invariant_can_assert_and_its_message_is_kept():
    def total_is_two(counter):
        assert counter.value == 2, f"lost an update: value is {counter.value}"

    result = interlace.explore(Counter, [increment, increment], total_is_two, budget=200)
    assert result.failure.kind == "invariant"
    assert "AssertionError: lost an update: value is 1" in result.failure.message
    assert "total_is_two" in result.failure.traceback


@pytest.mark.slow
def test_the_output_of_the_failing_execution_is_in_the_report():
    def noisy_increment(counter):
        print(f"saw {counter.value}")
        counter.increment()

    result = interlace.explore(Counter, [noisy_increment, noisy_increment], counted_twice, budget=200)
    assert not result.ok
    output = result.report.split("Program output of the failing execution:\n", 1)[1]
    assert output.startswith("saw 0\nsaw 0\n"), result.report  # only this execution's prints


def test_an_invariant_returning_none_passes():
    result = interlace.explore(Counter, [increment], lambda counter: None, budget=3, strategy="pct")
    assert result.ok and result.executions == 3


@pytest.mark.slow
def test_a_deadlock_is_found_with_its_cycle():
    def make():
        return threading.Lock(), threading.Lock()

    def forward(locks):
        with locks[0]:
            with locks[1]:
                pass

    def backward(locks):
        with locks[1]:
            with locks[0]:
                pass

    result = interlace.explore(make, [forward, backward], budget=300)
    assert result.failure.kind == "deadlock"
    assert "held by" in result.failure.message


@pytest.mark.slow
def test_the_same_seed_gives_the_same_search():
    runs = [interlace.explore(Counter, [increment, increment], counted_twice, seed=5, budget=200)
            for _ in range(2)]
    assert runs[0].executions == runs[1].executions
    assert runs[0].schedule == runs[1].schedule


@pytest.mark.slow
def test_the_model_decides_whether_an_attribute_increment_can_be_split():
    def add_three(counter):
        for _ in range(3):
            counter.value += 1

    def six(counter):
        return counter.value == 6

    gil = interlace.explore(Counter, [add_three, add_three], six, model="gil", budget=100)
    free = interlace.explore(Counter, [add_three, add_three], six, model="free-threaded", budget=300)
    assert gil.ok, gil.report
    assert "model gil" in gil.report
    assert not free.ok


def test_explore_does_not_nest():
    def nested(counter):
        interlace.explore(Counter, [increment], budget=1)

    result = interlace.explore(Counter, [nested], budget=1)
    assert result.failure.kind == "exception"
    assert "NestedExploration: interlace.explore() was called inside an execution" in result.failure.message
    assert issubclass(interlace.api.NestedExploration, RuntimeError)


@pytest.mark.slow
def test_replay_script_replays_a_token_of_interlace_run(cli, tmp_path):
    import json
    out = tmp_path / "r.json"
    cli("run", str(PROGRAMS / "request_ids.py"), "--json", str(out))
    token = json.loads(out.read_text())["schedule"]
    result = interlace.replay_script(token, PROGRAMS / "request_ids.py")
    assert not result.ok and result.failure.kind == "assertion"
    assert "duplicate request ids" in result.failure.message
    assert result.replay_call.startswith("interlace replay --schedule " + token)
    assert interlace.replay_script(token.rsplit(":", 1)[0] + ":-", str(PROGRAMS / "request_ids.py")).ok


@pytest.mark.slow
def test_ctrl_c_stops_the_caller_instead_of_passing(tmp_path):
    script = tmp_path / "long.py"
    script.write_text(
        "import sys, threading, interlace\n"
        "def bump(state):\n"
        "    with state['lock']:\n"
        "        state['n'] += 1\n"
        "print('searching', flush=True)\n"
        "result = interlace.explore(lambda: {'n': 0, 'lock': threading.Lock()}, [bump, bump],\n"
        "                           budget=1_000_000, timeout=600, strategy='pct')\n"
        "print('returned', result.ok)\n")
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    assert process.stdout.readline() == "searching\n"
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode != 0 and "returned" not in out
    assert err.rstrip().endswith("KeyboardInterrupt"), err


def test_a_ctrl_c_during_a_fork_is_not_lost(tmp_path):
    """A SIGINT that arrives while the search forks (here: from an at-fork callback, where
    Python prints a KeyboardInterrupt and drops it) must still stop the search."""
    script = tmp_path / "interrupted.py"
    script.write_text(
        "import os, signal, threading, interlace\n"
        "sent = []\n"
        "def interrupt_once():\n"
        "    if not sent:\n"
        "        sent.append(1)\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "os.register_at_fork(after_in_parent=interrupt_once)\n"
        "def bump(state):\n"
        "    with state['lock']:\n"
        "        state['n'] += 1\n"
        "try:\n"
        "    result = interlace.explore(lambda: {'n': 0, 'lock': threading.Lock()}, [bump, bump],\n"
        "                               budget=30, strategy='pct')\n"
        "    print('returned', result.executions)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, preexec_fn=default_sigint)
    assert done.stdout.strip() == "interrupted", done.stdout + done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr


# -- @interlace.check -------------------------------------------------------------------------

def _start_two(counter):
    threads = [threading.Thread(target=counter.increment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.value == 2, f"value is {counter.value}"


@interlace.check(budget=200)
def racy_body():
    _start_two(Counter())


@interlace.check(budget=30)
def locked_body():
    _start_two(LockedCounter())


@pytest.mark.slow
def test_check_explores_the_threads_a_test_starts():
    with pytest.raises(AssertionError) as raised:
        racy_body()
    message = str(raised.value)
    assert "BUG FOUND (assertion): AssertionError: value is 1" in message
    assert "read  Counter.value -> 0" in message
    # under pytest (the plugin is loaded) the replay is a pytest command for this very test
    replay = re.search(r"pytest --interlace-replay (il1:\S+) \S*tests/test_api.py::"
                       r"test_check_explores_the_threads_a_test_starts$", message, re.MULTILINE)
    assert replay, message
    replayed = interlace.check(replay=replay.group(1))(racy_body.__wrapped__)
    with pytest.raises(AssertionError, match="value is 1"):
        replayed()


@pytest.mark.slow
def test_check_outside_pytest_prints_a_decorator_to_replay(tmp_path):
    script = tmp_path / "body.py"
    script.write_text(
        "import threading, interlace\n"
        "state = {'n': 0}\n"
        "def bump():\n"
        "    state['n'] = state['n'] + 1\n"
        "@interlace.check(budget=200)\n"
        "def body():\n"
        "    threads = [threading.Thread(target=bump) for _ in range(2)]\n"
        "    for t in threads: t.start()\n"
        "    for t in threads: t.join()\n"
        "    assert state['n'] == 2, state\n"
        "try:\n"
        "    body()\n"
        "except AssertionError as exc:\n"
        "    print(exc)\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "BUG FOUND (assertion): AssertionError: {'n': 1}" in run.stdout
    assert re.search(r"^  @interlace\.check\(replay='il1:py\d+:free-threaded:[0-9a-f]{8}:[\d.,]+'\)$",
                     run.stdout, re.MULTILINE), run.stdout


@pytest.mark.slow
def test_check_passes_correct_code():
    assert locked_body() is None


def test_check_keeps_the_signature_and_passes_arguments_through():
    seen = []

    @interlace.check(budget=2)
    def body(counter, times=1):
        for _ in range(times):
            counter.increment()
        assert counter.value == 3
        seen.append(counter.value)

    assert list(inspect.signature(body).parameters) == ["counter", "times"]
    counter = Counter()
    body(counter, times=3)
    assert counter.value == 0 and seen == []  # each execution ran in its own forked copy


@pytest.mark.slow
def test_check_as_a_bare_decorator():
    """``@interlace.check`` without parentheses explores with the defaults, as with them."""
    @interlace.check
    def body():
        _start_two(Counter())

    assert body.__name__ == "body" and body.__wrapped__ is not None
    with pytest.raises(AssertionError, match="BUG FOUND \\(assertion\\)"):
        body()


# -- wrong arguments: clear errors, before any execution ---------------------------------------

def test_wrong_arguments_are_refused_before_anything_runs(tmp_path):
    marker = tmp_path / "setup-ran"

    def setup():
        marker.write_text("ran")
        return Counter()

    cases = [
        (dict(workers=[increment, 3]), TypeError, r"workers\[1\] must be callable, got int 3"),
        (dict(workers=increment), TypeError, "workers must be a list of callables, got a single callable"),
        (dict(workers=[]), ValueError, "workers is empty"),
        (dict(setup=Counter()), TypeError, "setup must be callable"),
        (dict(invariant="value == 2"), TypeError, "invariant must be callable"),
        (dict(budget=0), ValueError, r"budget must be at least 1 \(got 0\)"),
        (dict(budget=2.5), TypeError, "budget must be an integer"),
        (dict(strategy="magic"), ValueError, "unknown strategy 'magic': choose one of pct, random"),
        (dict(model="gil-2.7"), ValueError, "model: unknown model 'gil-2.7'"),
        (dict(timeout=0), ValueError, "timeout must be positive"),
        (dict(jobs=0), ValueError, r"jobs must be at least 1"),
        (dict(include=["no_such_package_xyz"]), ValueError, "no importable package"),
        (dict(include="requests"), TypeError, "include must be a list of package names"),
    ]
    for overrides, error, message in cases:
        arguments = dict(setup=setup, workers=[increment, increment], invariant=None, budget=5)
        arguments.update(overrides)
        with pytest.raises(error, match=message):
            interlace.explore(arguments.pop("setup"), arguments.pop("workers"),
                              arguments.pop("invariant"), **arguments)
    assert not marker.exists()


def test_wrong_replay_and_check_arguments():
    with pytest.raises(ValueError, match="schedule: not an interlace il1 schedule token"):
        interlace.replay("garbage", Counter, [increment])
    with pytest.raises(ValueError, match="path: script not found"):
        interlace.replay_script("il1:py311:free-threaded:00000000:-", "missing.py")
    with pytest.raises(ValueError, match="budget must be at least 1"):
        interlace.check(budget=0)
    with pytest.raises(ValueError, match="replay: bad step"):
        interlace.check(replay="il1:py311:free-threaded:00000000:1.x")
    with pytest.raises(TypeError, match="async"):
        @interlace.check
        async def body():
            pass
