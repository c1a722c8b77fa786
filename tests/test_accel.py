"""The C accelerator (``interlace._accel``): selected automatically, and identical results.

Every execution is run twice, in subprocesses: with the accelerator and with
``INTERLACE_PURE_PYTHON=1``; outcomes (steps, deviations, switches, preemptions, verdicts and
the full recorded trace) must be equal, on the test programs, the shared corpus and
``tests/accel_programs`` (long single-thread and contended phases, C calls, a livelock), which
exercise the accelerator's shortcuts.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
import threading

import pytest

from conftest import CORPUS, PROGRAMS, ROOT

ACCEL_PROGRAMS = ROOT / "tests" / "accel_programs"
HELPER = ROOT / "tests" / "accel_outcomes.py"
BUILT = importlib.util.find_spec("interlace._accel") is not None
needs_accel = pytest.mark.skipif(not BUILT, reason="the C accelerator is not built here")

#: Programs whose executions vary between two runs of the same path: the watchdog lets others
#: run when a thread blocks in native code (wall-clock time), and ThreadPoolExecutor joins its
#: workers in the order of a set of threads (their addresses).
_NONDETERMINISTIC = {"socket_blocking.py", "preexisting_lock.py", "event_queue_barrier_ok.py",
                     "raw_thread.py"}


def _env(pure: bool) -> dict:
    env = dict(os.environ)
    env["INTERLACE_PURE_PYTHON"] = "1" if pure else ""
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _python(code: str, pure: bool = False) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(pure), cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _normalize(value):
    """Drop what depends on addresses, thread idents or OS-thread timing, not on the schedule."""
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, str):
        value = re.sub(r"(\((?:Thread|Timer)-\d+[^,]*),.*", r"\1", value)  # started/stopped
        return re.sub(r"0x[0-9a-f]+|ident=\d+|#\d+", "#", value)
    return value


def _outcomes(model: str, programs: list, pure: bool) -> dict:
    done = subprocess.run([sys.executable, str(HELPER), model, *map(str, programs)],
                          capture_output=True, text=True, env=_env(pure), cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["accelerated"] is not pure
    return _normalize(data["programs"])


@needs_accel
@pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"), reason="a build with the GIL")
def test_importing_the_accelerator_keeps_the_gil_disabled():
    code = "import sys, interlace._accel; print(sys._is_gil_enabled())"
    assert _python(code, pure=False).strip() == "False"


def test_pure_python_is_forced_by_the_environment():
    code = "from interlace.hooks import accelerator; print(accelerator() is not None)"
    assert _python(code, pure=True).strip() == "False"
    assert _python(code, pure=False).strip() == str(BUILT)


@pytest.mark.slow
@needs_accel
@pytest.mark.parametrize("model", ["free-threaded", "gil", "gil-3.9"])
def test_identical_executions_with_and_without_the_accelerator(model):
    programs = sorted(p for d in (PROGRAMS, CORPUS, ACCEL_PROGRAMS) for p in d.glob("*.py")
                      if p.name not in _NONDETERMINISTIC)
    if model != "free-threaded":  # the other models: the programs that exercise the shortcuts
        programs = [p for p in programs if p.parent == ACCEL_PROGRAMS or p.parent == PROGRAMS]
    pure = _outcomes(model, programs, pure=True)
    fast = _outcomes(model, programs, pure=False)
    assert list(pure) == list(fast)
    for program in pure:
        for index, (a, b) in enumerate(zip(pure[program], fast[program])):
            assert a == b, f"{program}, execution {index}: the two paths differ"


@needs_accel
@pytest.mark.parametrize("program,extra", [
    (PROGRAMS / "attr_loop.py", ["--budget", "300"]),
    (PROGRAMS / "deadlock_abba.py", ["--budget", "300"]),
    (CORPUS / "sct_stringbuffer_jdk14_bad.py", ["--budget", "300", "--strategy", "random"]),
    (ACCEL_PROGRAMS / "quiet_phases.py", ["--budget", "40", "--strategy", "pct"]),
    (ACCEL_PROGRAMS / "c_calls.py", ["--budget", "40", "--model", "gil", "--strategy", "pct"]),
])
@pytest.mark.slow
def test_identical_search_results(tmp_path, program, extra):
    """Same seed, same executions, same shrunk schedule and trace, from the command line."""
    results = []
    for pure in (True, False):
        out = tmp_path / f"{pure}.json"
        subprocess.run([sys.executable, "-m", "interlace", "run", str(program), "--seed", "3",
                        "--json", str(out), *extra], capture_output=True, text=True,
                       env=_env(pure), cwd=ROOT, timeout=600)
        data = json.loads(out.read_text())
        data.pop("seconds_to_bug", None)
        assert data.pop("accelerated") is (not pure and BUILT)  # the JSON says which path ran
        results.append(_normalize(data))
    assert results[0] == results[1]


_PROBE = """
import sys
from interlace.models import Model
from interlace.runtime.executor import ExecutionSpec, run_execution
from interlace.runtime.policies import PCT, DEFAULT_SCHEDULE, PolicySpec, RandomWalk, Replay
script, model = sys.argv[1], Model.parse(sys.argv[2])
first = run_execution(ExecutionSpec(script, (), model, DEFAULT_SCHEDULE))
run_execution(ExecutionSpec(script, (), model, PCT(1, 3, first.steps)))
"""

_STATS = """
import json, os
from interlace.runtime import current
hook = type(current.scheduler).__dict__["alone"].hook
with open(os.environ["STATS_OUT"], "a") as fh:
    fh.write(json.dumps(hook.stats()) + "\\n")
"""


@pytest.mark.slow
@needs_accel
def test_the_shortcuts_are_taken(tmp_path):
    """Quiet scheduling points are counted in C; events go off while a thread runs alone."""
    script = tmp_path / "quiet.py"
    script.write_text((ACCEL_PROGRAMS / "quiet_phases.py").read_text() + _STATS)
    env = _env(False)
    env["STATS_OUT"] = str(tmp_path / "stats.jsonl")
    subprocess.run([sys.executable, "-c", _PROBE, str(script), "free-threaded"], check=True,
                   env=env, cwd=ROOT, timeout=300)
    runs = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert len(runs) == 2
    for stats in runs:  # PCT and the default schedule keep a thread between change points
        assert stats["slow"] < 50 and stats["quiet_steps"] > 1000, stats
    if sys.version_info >= (3, 12):
        assert runs[0]["events_off"] >= 1 and runs[0]["events_on"] >= 1, runs[0]


#: Two threads, each with its own counter: safe, and under a random walk, switch after switch.
_OWN_COUNTERS = """
import threading
class Box:
    a = 0
boxes = [Box(), Box()]
def work(box):
    for _ in range(2000):
        box.a += 1
threads = [threading.Thread(target=work, args=(box,)) for box in boxes]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert [box.a for box in boxes] == [2000, 2000]
"""

_WALK_PROBE = """
import json, sys
from interlace.models import Model
from interlace.runtime.executor import ExecutionSpec, run_execution
from interlace.runtime.policies import PCT, DEFAULT_SCHEDULE, PolicySpec, RandomWalk, Replay
script = sys.argv[1]
for policy in (RandomWalk(5), PCT(1, 3, 50)):  # PCT: a walk past step 50
    out = run_execution(ExecutionSpec(script, (), Model.FREE_THREADED, policy))
    assert not out.failed, out
    print(json.dumps({"steps": out.steps, "switches": out.switches}))
"""


@pytest.mark.slow
@needs_accel
def test_random_walk_choices_are_made_in_c(tmp_path):
    """Under a random walk, C draws the choices; Python runs only for the switches."""
    script = tmp_path / "walk.py"
    script.write_text(_OWN_COUNTERS + _STATS)
    env = _env(False)
    env["STATS_OUT"] = str(tmp_path / "stats.jsonl")
    done = subprocess.run([sys.executable, "-c", _WALK_PROBE, str(script)], check=True,
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    outcomes = [json.loads(line) for line in done.stdout.splitlines()]
    runs = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert len(runs) == len(outcomes) == 2
    for stats, outcome in zip(runs, outcomes):
        assert outcome["switches"] > 100, outcome
        # nearly every step with a choice was drawn in C (Python only after state changes)
        assert stats["walk_steps"] > 0.9 * (outcome["steps"] - 50), (stats, outcome)
        assert stats["slow"] < 100, stats


# -- the parts, in this process ------------------------------------------------------------------

@needs_accel
def test_baton_is_a_lock_and_hands_off_without_the_gil():
    from interlace import _accel
    baton = _accel.Baton()
    assert baton.acquire() is True and baton.locked()
    baton.release()
    assert not baton.locked()
    with pytest.raises(RuntimeError):
        baton.release()
    a, b = _accel.Baton(), _accel.Baton()
    a.acquire()
    b.acquire()
    order = []

    def other():
        b.acquire()          # waits for the first hand-off
        order.append("b")
        _accel.handoff(a, b)  # back to the main thread, then wait again
        order.append("b again")
        a.release()

    thread = threading.Thread(target=other)
    thread.start()
    _accel.handoff(b, a)
    order.append("a")
    _accel.handoff(b, a)
    thread.join()
    assert order == ["b", "a", "b again"]
    with pytest.raises(TypeError):
        _accel.handoff(a, object())


@needs_accel
def test_hook_calls_dispatch_only_for_planned_offsets():
    from interlace import _accel
    from interlace.bytecode.plan import PlanEntry

    def code():
        pass

    step = PlanEntry("LOAD_GLOBAL", 2, 1, "global", False, "x", switch=True)
    calls = []
    if sys.version_info >= (3, 12):
        hook = _accel.Hook(lambda s, f: calls.append(s), monitoring=True, tool=4,
                           set_local_events=lambda *a: None)
        skipped = sys.monitoring.DISABLE
    else:
        hook = _accel.Hook(lambda s, f: calls.append(s), builder=lambda c: None)
        skipped = None
    hook.add(code.__code__, [None, step, None])
    assert hook(code.__code__, 0) is skipped
    assert hook(code.__code__, 2) is None and calls == [step]
    assert hook(code.__code__, 40) is skipped  # past the plan
    assert hook(object(), 2) is skipped         # no plan for that code object
    hook.add(code.__code__, [None])  # another thread added it meanwhile: the first plan stands
    assert hook(code.__code__, 2) is None and calls == [step, step]


@needs_accel
@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the builder is the settrace path's")
def test_a_plan_built_while_another_thread_added_one_is_not_an_error():
    """The builder runs Python code, so the GIL may pass to a thread that meets the same new
    code and adds its plan first; the trace function must then take that plan, not raise
    (it did: "code object already has a table", raised into the program's thread)."""
    from interlace import _accel

    def work():
        return 1

    def builder(code):
        if code is work.__code__:
            hook.add(code, [None])  # the other thread, first
        return [None] if code is work.__code__ else None

    hook = _accel.Hook(lambda s, f: None, builder=builder)
    _accel.settrace(hook)
    try:
        assert work() == 1
    finally:
        _accel.settrace(None)


@needs_accel
def test_flags_mirror_the_scheduler_attributes():
    from interlace import _accel
    hook = _accel.Hook(lambda s, f: None, builder=lambda c: None)
    names = ("alone", "pending_switch", "outside_count", "step", "points", "running", "runnable")
    assert _accel.FLAGS == names
    Mirrored = type("Mirrored", (), {name: _accel.Flag(hook, name) for name in names})
    obj = Mirrored()
    obj.alone, obj.pending_switch, obj.outside_count, obj.step, obj.points = None, False, 0, 0, 0
    obj.running = 12345
    assert obj.running == 12345
    obj.step += 5
    obj.points += 7
    obj.outside_count += 1
    obj.alone = True
    obj.pending_switch = True
    assert (obj.alone, obj.pending_switch, obj.outside_count, obj.step, obj.points) == \
        (True, True, 1, 5, 7)
    assert isinstance(Mirrored.__dict__["alone"], _accel.Flag)
    # the runnable threads of a choice are published as a tuple, until alone is written
    Thread = type("Thread", (), {})
    threads = [Thread(), Thread()]
    threads[0].ident, threads[1].ident = 1, None
    assert obj.runnable is None
    obj.runnable = threads
    assert obj.runnable == tuple(threads)
    obj.alone = False
    assert obj.runnable is None
    with pytest.raises(AttributeError):
        obj.runnable = [object()]  # every thread needs an ident
    with pytest.raises(TypeError):
        obj.runnable = 3
    with pytest.raises(TypeError):
        obj.step = "many"
    with pytest.raises(ValueError):
        _accel.Flag(hook, "clock")


@pytest.mark.slow
def test_a_failed_compile_does_not_fail_the_build(tmp_path):
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed in this environment")
    (tmp_path / "src" / "interlace").mkdir(parents=True)
    (tmp_path / "setup.py").write_text((ROOT / "setup.py").read_text())
    (tmp_path / "src" / "interlace" / "_accel.c").write_text("#error this compiler is broken\n")
    done = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed" in (done.stdout + done.stderr)
    assert not list((tmp_path / "src" / "interlace").glob("_accel*.so"))
