"""Running one execution of a script, from a clean state, in a forked child process.

The parent (the search) forks; the child installs the patches and hooks, runs the script as
``__main__`` (or calls a *target*, a Python callable from the API or the pytest plugin, as the
main thread's body) under a fresh :class:`Scheduler`, and sends its outcome back through a
pipe as a plain dict.  A fork per execution gives every execution fresh module state and makes a
wedged execution killable.
"""

from __future__ import annotations

import builtins
import gc
import os
import pickle
import select
import signal
import sys
import time
import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..models import Model


@dataclass(frozen=True)
class PolicySpec:
    """How the child makes its choices: ``pct``, ``random`` or ``replay``."""

    name: str
    seed: int = 0
    depth: int = 3
    step_bound: int = 1000
    deviations: tuple[tuple[int, int], ...] = ()
    #: ``systematic`` only: the thread chosen at each of the first choice points...
    prefix: tuple[int, ...] = ()
    #: ...and the sleeping threads at the end of the prefix, with their footprints...
    sleep: tuple[tuple[int, Any], ...] = ()
    #: ...and whether an execution in which only sleeping threads can run stops there.
    stop_when_asleep: bool = True
    #: ``adjacent`` only: the two accesses to run back to back, each as
    #: ``(thread, its access number, line, write)`` (see :mod:`interlace.runtime.steer`).
    adjacent: tuple = ()


@dataclass(frozen=True)
class ExecutionSpec:
    script: str
    argv: tuple[str, ...]
    model: Model
    policy: PolicySpec
    record: bool = False
    max_steps: int = 100_000
    include: tuple[str, ...] = ()
    epoch: float = 0.0
    #: Wall-clock seconds before the parent kills the execution as hung.
    wall_timeout: float = 30.0
    #: Where the program's stdout/stderr go (``None``: discarded).
    output_path: Optional[str] = None
    watchdog_threshold: float = 0.25
    #: With ``record``: also the values read (for traces people read; systematic search skips it).
    record_values: bool = True
    #: A callable to run as the main thread's body instead of ``script`` (the Python API and
    #: the pytest plugin).  Never pickled: the forked child inherits it.
    target: Optional[Callable[[], None]] = None
    #: Detect data races in the child and send them back as ``races`` (implies ``record``).
    races: bool = False
    #: With ``record``: send the event log back (``False``: only what the child concluded).
    keep_events: bool = True
    #: With ``record``: every access carries its stack of user frames.
    record_stacks: bool = False


def make_policy(spec: PolicySpec):
    from .policies import PCTPolicy, RandomPolicy, ReplayPolicy, SystematicPolicy
    if spec.name == "pct":
        return PCTPolicy(spec.seed, spec.depth, spec.step_bound)
    if spec.name == "random":
        return RandomPolicy(spec.seed)
    if spec.name == "replay":
        return ReplayPolicy(spec.deviations)
    if spec.name == "systematic":
        return SystematicPolicy(spec.prefix, dict(spec.sleep), spec.stop_when_asleep)
    if spec.name == "adjacent":
        from .steer import AdjacentPolicy
        return AdjacentPolicy(spec.deviations, *spec.adjacent)
    raise ValueError(f"unknown policy {spec.name!r}")


def run_execution(spec: ExecutionSpec) -> dict:
    """Fork, run ``spec`` in the child, and return its outcome dict."""
    running = start_execution(spec)
    try:
        return running.wait()
    except BaseException:  # Ctrl-C: leave no child (and none of its threads) behind
        running.kill()
        raise


@dataclass
class RunningExecution:
    """A forked child running one execution; its outcome arrives through ``fd``."""

    spec: ExecutionSpec
    pid: int
    fd: int
    #: ``time.monotonic()`` after which it counts as hung.
    deadline: float
    chunks: list = field(default_factory=list)

    #: Bytes read so far (the outcome's length, then the pickled outcome).
    received: int = 0

    def read(self) -> Optional[dict]:
        """Read what is there (call when ``fd`` is readable); the outcome once it is complete."""
        chunk = os.read(self.fd, 1 << 20)
        if chunk:
            self.chunks.append(chunk)
            self.received += len(chunk)
            data = b"".join(self.chunks) if self.received >= 8 else b""
            if data and len(data) >= 8 + int.from_bytes(data[:8], "little"):
                self._close()
                _exited.append(self.pid)  # reaped later: the outcome is what matters
                return pickle.loads(data[8:])
            return None
        self._close()
        _, status = os.waitpid(self.pid, 0)
        return {"failed": True, "kind": "crash", "summary":
                f"the interpreter died during the execution ({_status_text(status)})",
                "details": "", "steps": None, "deviations": list(self.spec.policy.deviations),
                "events": None}

    def hung(self) -> dict:
        """Kill it: the deadline passed.  The outcome says so."""
        self.kill()
        return {"failed": True, "kind": "hang", "summary":
                f"execution did not finish within {self.spec.wall_timeout:g} s of wall time "
                "(blocked outside interlace's control, or too slow)", "details": "",
                "steps": None, "deviations": list(self.spec.policy.deviations), "events": None}

    def wait(self) -> dict:
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return self.hung()
            outcome = self.read()
            if outcome is not None:
                return outcome

    def kill(self) -> None:
        _kill(self.pid)
        self._close()

    def _close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def start_execution(spec: ExecutionSpec) -> RunningExecution:
    """Fork a child that runs ``spec``; read its outcome with :class:`RunningExecution`."""
    _preload_child_modules()
    if spec.races:  # imported once here, not in every child (300 ms each on a loaded machine)
        from ..engine import races  # noqa: F401
    _reap()
    record = spec.record or spec.races
    code = _script_code(spec.script, spec.model, record) if spec.target is None else None
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        # 3.12+ warns when a process with other threads (pytest-xdist's I/O thread, say)
        # forks.  The child never touches those threads' state, so the warning is noise here.
        warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                                category=DeprecationWarning)
        # Frozen objects are left alone by the child's collector, which would otherwise
        # write to (and so copy) every page of the inherited heap.  Thawed again at once here.
        gc.freeze()
        pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            _child(spec, write_fd, code)
        finally:
            os._exit(70)
    gc.unfreeze()
    os.close(write_fd)
    return RunningExecution(spec, pid, read_fd, time.monotonic() + spec.wall_timeout)


_preloaded = False
#: Children that sent their outcome and may still be exiting.
_exited: list[int] = []


def _reap() -> None:
    """Collect the children that have finished exiting (no zombies pile up)."""
    for pid in list(_exited):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _exited.remove(pid)


#: The script's code and what it was compiled from: ``(path, mtime, size) -> code``.
_compiled: dict[tuple, types.CodeType] = {}


def _script_code(path: str, model: Model, record: bool) -> types.CodeType:
    """The script, compiled once in the parent with its plans built: every child inherits both."""
    from ..bytecode.plan import warm
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    code = _compiled.get(key)
    if code is None:
        with open(path, "rb") as handle:
            code = _compiled[key] = compile(handle.read(), path, "exec")
    warm(code, model, record)
    return code


def _preload_child_modules() -> None:
    """Import in the parent, once, what every child needs.

    Children are forks: whatever the parent has imported they inherit for free, whatever it
    has not each of them imports again (about 30 ms, five times a small execution's cost).
    """
    global _preloaded
    if _preloaded:
        return
    import importlib

    from . import current, patches, policies, scheduler, watchdog  # noqa: F401
    from ..hooks import make_hooks  # noqa: F401
    from ..hooks.scope import Scope
    backend = "..hooks.monitoring" if sys.version_info >= (3, 12) else "..hooks.settrace"
    importlib.import_module(backend, __package__)
    Scope(())  # warms sysconfig's path computations
    _preloaded = True


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _child(spec: ExecutionSpec, write_fd: int, code: Optional[types.CodeType]) -> None:
    from . import current, patches, watchdog
    from ..hooks import make_hooks
    from ..hooks.scope import Scope
    from .scheduler import Scheduler

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _redirect_output(spec.output_path)
    finished = []

    def finish(outcome: dict) -> None:
        if finished:
            os._exit(0)
        finished.append(True)
        if spec.races and sched.log is not None:
            try:
                from ..engine.races import detect
                outcome["races"] = [pair.as_dict() for pair in detect(sched.log.events)]
                if sched.log.dropped:  # the log is bounded: say what the detector did not see
                    outcome["races_truncated"] = sched.log.dropped
            except Exception:  # noqa: BLE001 - interlace's own failure, never the program's
                import traceback
                outcome["races_error"] = traceback.format_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            payload = pickle.dumps(outcome)
        except Exception as exc:  # an unpicklable detail must not lose the verdict
            outcome = {k: (v if k != "events" else None) for k, v in outcome.items()}
            outcome["summary"] = str(outcome.get("summary")) + f" [trace lost: {exc}]"
            payload = pickle.dumps(outcome)
        # Length first: the parent has the outcome as soon as it is written, without waiting
        # for this process to tear itself down (which is what closes the pipe).
        view = memoryview(len(payload).to_bytes(8, "little") + payload)
        while view:
            written = os.write(write_fd, view)
            view = view[written:]
        os._exit(0)

    sched = Scheduler(make_policy(spec.policy), record=spec.record or spec.races,
                      max_steps=spec.max_steps, finish=finish, record_values=spec.record_values,
                      keep_events=spec.keep_events, record_stacks=spec.record_stacks)
    current.scheduler = sched
    hooks = make_hooks(Scope(spec.include), spec.model, spec.record or spec.races, sched.dispatch)
    patches.install(hooks.attach_thread, spec.epoch)
    if code is not None:
        module = _enter_main_module(spec)
    else:
        _print_to_output_fds()
    watchdog.start(sched, spec.watchdog_threshold)
    hooks.install()
    try:
        if code is not None:
            hooks.enter_module(code)
            exec(code, module.__dict__)
        else:
            spec.target()  # a call: the hooks see its frames start like any other
    except SystemExit as exc:
        if exc.code not in (None, 0):
            what = "the script" if code is not None else "the program"
            sched.fail("exit", f"{what} exited with status {exc.code!r}")
    except BaseException as exc:  # noqa: BLE001 - the program's own failure
        sched.fail_exception(exc, sched.threads[0])
    sched.main_finished()
    sched.conclude({"failed": False})


def _enter_main_module(spec: ExecutionSpec) -> types.ModuleType:
    """Make the script ``__main__``, with its own argv and directory, as ``python script`` does."""
    module = types.ModuleType("__main__")
    module.__dict__.update({"__file__": spec.script, "__builtins__": builtins})
    sys.modules["__main__"] = module
    sys.argv = [spec.script, *spec.argv]
    sys.path[0] = os.path.dirname(os.path.abspath(spec.script))
    return module


def _print_to_output_fds() -> None:
    """Point ``sys.stdout``/``sys.stderr`` at fds 1 and 2 (already redirected to the output file).

    A callable target inherits the parent's Python-level streams, which under pytest are its
    capture buffers: without this, every execution's prints would pile up in the test's
    captured output instead of only the failing execution's appearing in the report.
    """
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)


def _redirect_output(path: Optional[str]) -> None:
    target = os.open(path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(target, 1)
    os.dup2(target, 2)
    os.close(target)
