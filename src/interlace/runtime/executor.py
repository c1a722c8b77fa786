"""Running one execution of a script, from a clean state, in a forked child process.

The parent (the search) forks; the child installs the patches and hooks, runs the script as
``__main__`` (or calls a *target*, a Python callable from the API or the pytest plugin, as the
main thread's body) under a fresh :class:`Scheduler`, and sends its outcome back through a
pipe as an :class:`~interlace.outcome.Outcome`.  A fork per execution gives every execution
fresh module state and makes a wedged execution killable.  A search forks each child ahead,
while the execution before runs, and sets it up as far as it can (:class:`Spare`).
"""

from __future__ import annotations

import atexit
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
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from ..models import Model
from ..outcome import FailureKind, Outcome
from .policies import DEFAULT_SCHEDULE, Policy, PolicySpec
from .scheduler import Abort
from .threads import State


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
    #: ``wall_timeout`` was cut short to end the search at its time limit: reaching it means
    #: the search ran out of time, never that the program hangs.
    wall_cut: bool = False
    #: Where the program's stdout/stderr go (``None``: discarded)...
    output_path: Optional[str] = None
    #: ...or an open file descriptor for them (an unnamed temporary file: nothing is left
    #: behind even if the search process is killed).
    output_fd: Optional[int] = None
    watchdog_threshold: float = 0.25
    #: With ``record``: also the values read (for traces people read; systematic search skips it).
    record_values: bool = True
    #: Timed waits give up only when no other thread can run (``--assume-no-timeouts``).
    assume_no_timeouts: bool = False
    #: A callable to run as the main thread's body instead of ``script`` (the Python API and
    #: the pytest plugin).  Never pickled: the forked child inherits it.
    target: Optional[Callable[[], None]] = None
    #: ``run -m NAME``: ``script`` is NAME's file, run as ``python -m NAME`` runs it.
    module: Optional[str] = None
    #: Detect data races in the child and send them back as ``races`` (implies ``record``).
    races: bool = False
    #: With ``record``: send the event log back (``False``: only what the child concluded).
    keep_events: bool = True
    #: With ``record``: every access carries its stack of user frames.
    record_stacks: bool = False


def terminate_as_interrupt() -> None:
    """Handle SIGTERM like Ctrl-C: the search stops, kills its executions and cleans up.

    Only when nobody chose a handler already, and only from the main thread (where Python
    runs signal handlers)."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_execution(spec: ExecutionSpec) -> Outcome:
    """Fork, run ``spec`` in the child, and return its outcome."""
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
    #: Shared memory where the child leaves its outcome if it cannot write to the pipe (the
    #: program closed it: ``os.closerange(3, ...)``).
    shared: Any = None
    #: ``fd`` is no longer the pipe but a pidfd: readable when the child has exited.
    awaiting_exit: bool = False

    def read(self) -> Optional[Outcome]:
        """Read what is there (call when ``fd`` is readable); the outcome once it is complete."""
        if self.awaiting_exit:
            return self._exited()
        chunk = os.read(self.fd, 1 << 20)
        if chunk:
            self.chunks.append(chunk)
            self.received += len(chunk)
            data = b"".join(self.chunks) if self.received >= 8 else b""
            if data and len(data) >= 8 + int.from_bytes(data[:8], "little"):
                self._close()
                self._release_shared()
                _exited.append(self.pid)  # reaped later: the outcome is what matters
                return pickle.loads(data[8:])
            return None
        self._close()  # the pipe closed before an outcome came: the child died, or the
        # program closed the pipe; wait (selectably, with a pidfd) for the child's exit
        if hasattr(os, "pidfd_open"):
            try:
                self.fd, self.awaiting_exit = os.pidfd_open(self.pid), True
                return None
            except OSError:
                pass
        return self._exited()

    def _exited(self) -> Outcome:
        self._close()
        _, status = os.waitpid(self.pid, 0)
        _remove_temp_dir(self.pid)
        outcome = _take_shared_outcome(self.shared)
        self.shared = None
        if outcome is not None:
            return outcome
        return self._lost(FailureKind.CRASH, "the interpreter died during the execution "
                                             f"({_status_text(status)})")

    def hung(self) -> Outcome:
        """Kill it: the deadline passed.  The outcome says so.

        When the limit was only the search's own time limit (``wall_cut``), the outcome is
        ``out_of_time`` and not a failure: the search stops there, as it would at its limit.
        """
        self.kill()
        if self.spec.wall_cut:
            return Outcome(out_of_time=True, summary="the search's time limit ended this execution",
                           deviations=getattr(self.spec.policy, "deviations", ()))
        return self._lost(FailureKind.HANG,
                          f"execution did not finish within {self.spec.wall_timeout:g} s of wall "
                          "time (blocked outside interlace's control, or too slow)")

    def _lost(self, kind: FailureKind, summary: str) -> Outcome:
        """The outcome of an execution that could not say how it ended: only what the
        parent knows (the schedule it asked for, when that was a replay)."""
        return Outcome(failed=True, kind=kind, summary=summary,
                       deviations=getattr(self.spec.policy, "deviations", ()))

    def wait(self) -> Outcome:
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
        self._release_shared()

    def _close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _release_shared(self) -> None:
        if self.shared is not None:
            self.shared.close()
            self.shared = None


#: Size of the shared memory for an outcome the pipe could not carry (virtual: pages are only
#: used when written).
_SHARED_OUTCOME_BYTES = 16 << 20


def _take_shared_outcome(shared: Any) -> Optional[Outcome]:
    if shared is None:
        return None
    try:
        size = int.from_bytes(shared[:8], "little")
        return pickle.loads(shared[8:8 + size]) if size else None
    finally:
        shared.close()


def _put_shared_outcome(shared: Any, payload: bytes) -> None:
    if 8 + len(payload) > len(shared):
        return  # too large for the fallback: the parent reports the lost outcome
    shared[8:8 + len(payload)] = payload
    shared[:8] = len(payload).to_bytes(8, "little")


def start_execution(spec: ExecutionSpec, spare: Optional["Spare"] = None) -> RunningExecution:
    """Start a child that runs ``spec``: ``spare`` (a child forked ahead, see :class:`Spare`)
    if it can, else a fresh fork.  Read its outcome with :class:`RunningExecution`."""
    _prepare(spec)
    if spare is not None:
        run = spare.take(spec)
        if run is not None:
            return run
    record = spec.record or spec.races
    code = _script_code(spec.script, spec.model, record) if spec.target is None else None
    stdin = _standard_input() if code is not None else None
    temp_dir = _temp_dir()
    read_fd, write_fd = os.pipe()
    shared = _shared_outcome_memory()
    parent = os.getpid()

    def child() -> None:
        os.close(read_fd)
        _die_with(parent)
        _own_temp_dir(temp_dir)
        if stdin is not None:
            _feed_standard_input(stdin)
        _child(spec, write_fd, code, shared)

    pid, mask = _fork(child)
    _temp_dirs[pid] = temp_dir
    os.close(write_fd)
    run = RunningExecution(spec, pid, read_fd, time.monotonic() + spec.wall_timeout, shared=shared)
    _restore_mask(mask, run.kill)
    return run


def shape(spec: ExecutionSpec) -> ExecutionSpec:
    """What a :class:`Spare` is set up for: ``spec`` without what differs from one execution
    of a search to the next (the policy, and the parent's own wall-clock limit)."""
    return replace(spec, policy=DEFAULT_SCHEDULE, wall_timeout=0.0, wall_cut=False)


@dataclass
class Spare:
    """The next execution's child, forked and set up while the current one runs.

    Set up means all that comes before the program starts (signals, output, scheduler,
    hooks, patches, ``__main__``), as for an execution of ``shape``; only the policy, the
    temporary directory and standard input arrive with the execution.  So the fork and most
    of a child's start are off the path from one execution to the next (the search waits for
    a child on one core while the spare gets ready on another).  A spare runs nothing of the
    program before its execution arrives, and it is forked by the same search: it starts
    from the same state as a child forked on demand.
    """

    shape: ExecutionSpec
    pid: int
    #: Write end of the pipe the execution's policy is sent through.
    orders: int
    #: Read end of the outcome pipe, and the shared memory fallback (as RunningExecution's).
    fd: int
    shared: Any

    def take(self, spec: ExecutionSpec) -> Optional[RunningExecution]:
        """Start ``spec`` here; ``None`` if it is of another shape or the spare is gone (it
        is discarded then: fork afresh)."""
        if shape(spec) != self.shape:
            self.discard()
            return None
        temp_dir = _temp_dir()
        payload = pickle.dumps((spec.policy, temp_dir))
        try:
            _write_all(self.orders, len(payload).to_bytes(8, "little") + payload)
        except OSError:  # it died (killed from outside)
            _free_temp_dirs.append(temp_dir)
            self.discard()
            return None
        os.close(self.orders)
        self.orders = -1
        _temp_dirs[self.pid] = temp_dir
        return RunningExecution(spec, self.pid, self.fd, time.monotonic() + spec.wall_timeout,
                                shared=self.shared)

    def discard(self) -> None:
        """Kill it (it never ran anything of the program)."""
        _kill(self.pid)
        for fd in (self.orders, self.fd):
            if fd >= 0:
                os.close(fd)
        self.orders = self.fd = -1
        if self.shared is not None:
            self.shared.close()
            self.shared = None


def fork_spare(template: ExecutionSpec) -> Spare:
    """Fork a :class:`Spare` for executions of ``template``'s shape."""
    _prepare(template)
    record = template.record or template.races
    code = _script_code(template.script, template.model, record) if template.target is None else None
    stdin = _standard_input() if code is not None else None
    read_fd, write_fd = os.pipe()
    orders_read, orders_write = os.pipe()
    shared = _shared_outcome_memory()
    parent = os.getpid()

    def child() -> None:
        os.close(read_fd)
        os.close(orders_write)
        _die_with(parent)
        ready = _set_up(template, write_fd, code, shared, Policy())
        message = _read_message(orders_read)
        if message is None:  # the search ended without needing it
            os._exit(0)
        os.close(orders_read)
        policy, temp_dir = pickle.loads(message)
        _own_temp_dir(temp_dir)
        if stdin is not None:
            _feed_standard_input(stdin)
        ready.sched.adopt(policy.build())
        ready.hooks.policy_changed()
        _start(ready)

    pid, mask = _fork(child)
    os.close(write_fd)
    os.close(orders_read)
    spare = Spare(shape(template), pid, orders_write, read_fd, shared)
    _restore_mask(mask, spare.discard)
    return spare


def _prepare(spec: ExecutionSpec) -> None:
    """What the search process does once before its children fork."""
    _preload_child_modules()
    if spec.races:  # imported once here, not in every child (300 ms each on a loaded machine)
        from . import races  # noqa: F401
    _reap()


def _shared_outcome_memory() -> Any:
    import mmap
    return mmap.mmap(-1, _SHARED_OUTCOME_BYTES)


def _fork(child: Callable[[], None]) -> tuple[int, Any]:
    """Fork; the child runs ``child`` and never returns.  The parent gets the child's pid
    (in a process group of its own) and the signal mask to restore with :func:`_restore_mask`."""
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
        # Ctrl-C (or SIGTERM) waits until the fork is over: arriving while the parent runs the
        # at-fork callbacks (logging's, threading's), Python would print it and drop it, and the
        # search would go on.  Blocked, it stays pending and is raised in the parent's own code.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise
    if pid == 0:
        global _mask_after_fork
        _mask_after_fork = mask
        try:
            child()
        finally:
            os._exit(70)
    gc.unfreeze()
    _own_group(pid)
    return pid, mask


def _restore_mask(mask: Any, kill: Callable[[], None]) -> None:
    """After a fork: a Ctrl-C it deferred is raised here, and ``kill`` ends the new child."""
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    except BaseException:
        kill()
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_message(fd: int) -> Optional[bytes]:
    """A length-prefixed message (``None``: the pipe closed first)."""
    chunks, size, want = [], 0, 8
    while size < want:
        chunk = os.read(fd, max(want - size, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        size += len(chunk)
        if want == 8 and size >= 8:
            want = 8 + int.from_bytes(b"".join(chunks)[:8], "little")
    return b"".join(chunks)[8:want]


_preloaded = False
#: Signals held back while the search forks (see ``start_execution``)...
_DEFERRED_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
#: ...and, in a child, the mask to restore once its own handlers are set.
_mask_after_fork: Optional[set] = None
#: Children that sent their outcome and may still be exiting.
_exited: list[int] = []


def _reap(block: bool = False) -> None:
    """Collect the children that have finished exiting (no zombies pile up), and remove their
    temporary directories.  ``block``: wait for all of them (at the search process's exit;
    each has at most ``CLEAN_UP_SECONDS`` left)."""
    for pid in list(_exited):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _exited.remove(pid)
            _remove_temp_dir(pid)


#: Each execution's own temporary directory (its ``TMPDIR``), by child pid, until reaped.
_temp_dirs: dict[int, str] = {}
#: Directories of reaped executions that left them empty: the next executions reuse them
#: (a fresh ``mkdtemp`` and an ``rmtree`` per execution cost a small execution ~15% of its time).
_free_temp_dirs: list[str] = []


def _temp_dir() -> str:
    """An empty temporary directory, this search's own, for one execution."""
    if _free_temp_dirs:
        return _free_temp_dirs.pop()
    import tempfile
    return tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-")


_TEMP_PREFIX = "interlace-execution-"


def _sweep_temp_dirs() -> None:
    """Remove the execution directories of searches that were killed (SIGKILL: they could not
    clean up); the directory's name holds the search's pid."""
    import shutil
    import tempfile
    root = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(root) if n.startswith(_TEMP_PREFIX)]
    except OSError:
        return
    for name in names:
        try:
            owner = int(name[len(_TEMP_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if owner != os.getpid() and not _process_exists(owner):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_temp_dir(pid: int) -> None:
    """Free the directory of a reaped execution: kept for the next one if the program left
    nothing in it, else removed with what it holds."""
    import shutil
    path = _temp_dirs.pop(pid, None)
    if path is None:
        return
    try:
        empty = not os.listdir(path)
    except OSError:
        return  # already gone (the program removed its own TMPDIR)
    if empty:
        _free_temp_dirs.append(path)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _remove_free_temp_dirs() -> None:
    while _free_temp_dirs:
        try:
            os.rmdir(_free_temp_dirs.pop())
        except OSError:
            pass


def _end_of_search_process() -> None:
    _reap(True)
    _remove_free_temp_dirs()


atexit.register(_end_of_search_process)


#: Standard input of the search process, read once and fed to every execution (``None``: a
#: terminal, nothing, or something that is not a file or pipe: left as it is).
_stdin: Optional[bytes] = None
#: Only the command line shares its stdin (``share_standard_input``): in a library or test
#: process, fd 0 is not the program's input and may be a pipe that never ends.
_stdin_read = True


def share_standard_input() -> None:
    """Feed this process's standard input to every execution of a script (``interlace run``)."""
    global _stdin_read
    _stdin_read = False
#: More than this is not standard input a test feeds a script.
_STDIN_LIMIT = 64 << 20


def _standard_input() -> Optional[bytes]:
    """Read the search process's stdin once (a file or a pipe only), so that every execution
    sees the same input: otherwise the first one would consume it and the rest see it empty."""
    global _stdin, _stdin_read
    if not _stdin_read:
        _stdin_read = True
        import stat
        try:
            mode = os.fstat(0).st_mode
        except OSError:
            return None
        if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
            chunks, size = [], 0
            while size < _STDIN_LIMIT:
                chunk = os.read(0, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            _stdin = b"".join(chunks)
    return _stdin


def _feed_standard_input(data: bytes) -> None:
    """In the child: fd 0 becomes a fresh file holding ``data``, read from its start."""
    import tempfile
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("interlace-stdin")
    else:
        handle = tempfile.TemporaryFile()
        fd = os.dup(handle.fileno())
        handle.close()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    os.dup2(fd, 0)
    os.close(fd)


def _own_temp_dir(path: str) -> None:
    """In the child: ``path`` is this execution's temporary directory (``TMPDIR``, and what
    ``tempfile`` uses), so executions running side by side never share a temporary file."""
    import tempfile
    os.environ["TMPDIR"] = path
    tempfile.tempdir = None  # recomputed from TMPDIR on next use


#: The script's code and what it was compiled from: ``(path, mtime, size) -> code``.
_compiled: dict[tuple, types.CodeType] = {}


def _script_code(path: str, model: Model, record: bool) -> types.CodeType:
    """The script, compiled once in the parent with its plans built and the names its locks
    are stored under read: every child inherits them."""
    from ..bytecode.plan import warm
    from .sync import learn_names
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    code = _compiled.get(key)
    if code is None:
        with open(path, "rb") as handle:
            code = _compiled[key] = compile(handle.read(), path, "exec")
    warm(code, model, record)
    learn_names(code)
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

    _load_libc()
    _sweep_temp_dirs()
    from . import current, patches, policies, scheduler, watchdog  # noqa: F401
    from ..hooks import make_hooks  # noqa: F401
    from ..hooks.scope import Scope
    backend = "..hooks.monitoring" if sys.version_info >= (3, 12) else "..hooks.settrace"
    importlib.import_module(backend, __package__)
    Scope(())  # warms sysconfig's path computations
    import concurrent.futures.thread  # noqa: F401 - patched in every child (patches.py)
    _preloaded = True


def _kill(pid: int) -> None:
    """Kill an execution and every process it started (its process group), then reap it."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            break
        except (ProcessLookupError, PermissionError):
            continue
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    _remove_temp_dir(pid)


def _own_group(pid: int) -> None:
    """Put an execution in a process group of its own (done on both sides of the fork, so
    that whichever runs first, a kill of the group never misses what the child started)."""
    try:
        os.setpgid(pid, pid)
    except OSError:  # it already exited, or it already did it itself
        pass


_PR_SET_PDEATHSIG = 1
_libc: Any = None


def _load_libc() -> Any:
    """libc for ``prctl``, loaded once in the parent (Linux only; ``None`` elsewhere)."""
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            import ctypes
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _libc = False
    return _libc or None


def _die_with(parent: int) -> None:
    """In a child: its own process group, and (Linux) SIGKILL when the parent dies.

    A search killed by SIGKILL cannot clean up; its executions must not outlive it.
    """
    _own_group(0)
    libc = _load_libc()
    if libc is not None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def _status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _child(spec: ExecutionSpec, write_fd: int, code: Optional[types.CodeType], shared: Any) -> None:
    _start(_set_up(spec, write_fd, code, shared, spec.policy.build()))


@dataclass
class _SetUp:
    """A child ready to run its execution: everything but starting the program."""

    spec: ExecutionSpec
    sched: Any
    hooks: Any
    code: Optional[types.CodeType]
    module: Optional[types.ModuleType]


def _set_up(spec: ExecutionSpec, write_fd: int, code: Optional[types.CodeType], shared: Any,
            policy: Any) -> _SetUp:
    """Signals, output, scheduler, hooks, patches and ``__main__``: all that comes before the
    program starts.  ``policy``: the execution's, or (a :class:`Spare`) a stand-in replaced
    with :meth:`Scheduler.adopt` once the execution is known."""
    from . import current, patches
    from ..hooks import make_hooks
    from ..hooks.scope import Scope

    from .scheduler import Scheduler

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if signal.getsignal(signal.SIGTERM) is _raise_interrupt:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the search's handler, not the program's
    if _mask_after_fork is not None:  # the signals the fork deferred: the program's again
        signal.pthread_sigmask(signal.SIG_SETMASK, _mask_after_fork)
    _redirect_output(spec.output_path, spec.output_fd)
    pipe = os.fstat(write_fd)
    finished = []
    installed: list = []  # the hooks, once made

    def finish(outcome: Outcome) -> None:
        if finished:  # a thread that ran on while the program cleans up: it waits for the end
            _end_of_thread(sched)
        finished.append(True)
        if spec.races and sched.log is not None:
            try:
                from .races import detect
                outcome.races = [pair.as_dict() for pair in detect(sched.log.events)]
                outcome.races_truncated = sched.log.dropped  # the log is bounded: what it did not see
            except Exception:  # noqa: BLE001 - interlace's own failure, never the program's
                import traceback
                outcome.races_error = traceback.format_exc()
        for hooks in installed:
            _note_lost_control(hooks, outcome)
            hooks.uninstall()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            payload = pickle.dumps(outcome)
        except Exception as exc:  # an unpicklable detail must not lose the verdict
            outcome.events = None
            outcome.summary = f"{outcome.summary} [trace lost: {exc}]"
            payload = pickle.dumps(outcome)
        # Length first: the parent has the outcome as soon as it is written, without waiting
        # for this process to clean up and tear itself down (which is what closes the pipe).
        try:
            if not _same_file(write_fd, pipe):  # closed, and the number reused by the program
                raise OSError("the outcome pipe was closed by the program")
            _write_all(write_fd, len(payload).to_bytes(8, "little") + payload)
            os.close(write_fd)
        except OSError:  # the program closed the pipe (os.closerange): shared memory then
            _put_shared_outcome(shared, payload)
        _clean_up(sched)

    scope = Scope(spec.include)
    sched = Scheduler(policy, record=spec.record or spec.races, max_steps=spec.max_steps,
                      finish=finish, record_values=spec.record_values, in_scope=scope.includes,
                      assume_no_timeouts=spec.assume_no_timeouts, keep_events=spec.keep_events,
                      record_stacks=spec.record_stacks)
    current.scheduler = sched
    hooks = make_hooks(scope, spec.model, spec.record or spec.races, sched.dispatch)
    installed.append(hooks)
    # While the program forks, the patched primitives act as the real ones: threading's own
    # after-fork hook (which runs before ours, in the new process) takes locks.
    os.register_at_fork(before=lambda: setattr(current, "scheduler", None),
                        after_in_parent=lambda: sched.finished or setattr(current, "scheduler", sched),
                        after_in_child=lambda: _leave_execution(sched, hooks, write_fd, pipe))
    patches.install(hooks.attach_thread, spec.epoch)
    module = None
    if code is not None:
        module = _enter_main_module(spec)
    else:
        _print_to_output_fds()
    return _SetUp(spec, sched, hooks, code, module)


def _start(ready: _SetUp) -> None:
    """Run the program of a set-up child; never returns."""
    from . import watchdog
    from ..accel import pin_to_one_cpu
    import threading

    # Pinned only now: a spare set up on one core runs its execution on the core it is on
    # when the execution arrives.  Every thread started from here on inherits it.
    pin_to_one_cpu()
    watchdog.start(ready.sched, ready.spec.watchdog_threshold)
    ready.hooks.install()
    atexit._clear()  # the parent's handlers (pytest's, say) are not the program's...
    threading.excepthook = threading.__excepthook__  # ...nor is its threading.excepthook
    try:
        _run_program(ready.spec, ready.sched, ready.hooks, ready.code, ready.module, os.getpid())
    except Abort:  # the execution ended: its outcome is sent; the program cleans up below
        pass
    _exit_after_clean_up()


def _run_program(spec: ExecutionSpec, sched: Any, hooks: Any, code: Optional[types.CodeType],
                 module: Optional[types.ModuleType], execution: int) -> None:
    try:
        if code is not None:
            hooks.enter_module(code)
            exec(code, module.__dict__)
        else:
            spec.target()  # a call: the hooks see its frames start like any other
    except Abort:
        raise
    except SystemExit as exc:
        if os.getpid() != execution:
            _end_forked_process(exc)
        if exc.code not in (None, 0):
            what = "the script" if code is not None else "the program"
            sched.fail(FailureKind.EXIT, f"{what} exited with status {exc.code!r}")
    except BaseException as exc:  # noqa: BLE001 - the program's own failure
        if os.getpid() != execution:
            _end_forked_process(exc)
        sched.fail_exception(exc, sched.threads[0])
    if os.getpid() != execution:
        _end_forked_process(None)
    if sched.finished:  # ended meanwhile (main came back from native code after the end)
        raise Abort()
    sched.main_finished()
    sched.conclude(Outcome())


def _note_lost_control(hooks, outcome: Outcome) -> None:
    """The program switched interlace's hooks off (``sys.settrace(None)``, cleared
    ``sys.monitoring`` events): what ran after it was not controlled, and the result must
    say so (a caveat: never "verified", a printed warning otherwise)."""
    lost = hooks.still_installed()
    if lost is not None:
        outcome.outside = [*outcome.outside,
                           f"{lost}; the rest of the execution ran outside interlace's "
                           f"control (switches and accesses after it were not seen)"]


#: Wall-clock seconds the program's clean-up (``finally`` blocks, ``atexit``) may take after
#: its outcome was sent; the parent already has the verdict, so this never changes a result.
CLEAN_UP_SECONDS = 5.0


def _clean_up(sched: Any) -> None:
    """After the outcome is sent: let the program clean up as it would at its end.

    Every thread unwinds (an ``Abort`` out of wherever it waits for its turn runs its
    ``finally`` blocks; so a ``join`` in the main thread's clean-up returns), then the main
    thread runs the program's ``atexit`` handlers.  Unscheduled from here on, and bounded: a
    clean-up that blocks is cut short.
    """
    import _thread
    _thread.start_new_thread(_exit_later, (CLEAN_UP_SECONDS,))
    sched.go_inert()
    me = _thread.get_ident()
    for thread in sched.threads:
        if thread.ident != me and thread.state is not State.FINISHED:
            try:
                thread.baton.release()  # parked: it wakes, sees the end, and unwinds
            except RuntimeError:  # not parked (in native code): it unwinds when it is back
                pass
    raise Abort()


def _end_of_thread(sched: Any) -> None:
    """A thread that reached the scheduler after the end: it unwinds too."""
    raise Abort()


def _exit_later(seconds: float) -> None:
    from .patches import _real_sleep
    _real_sleep(seconds)
    os._exit(0)


def _exit_after_clean_up() -> None:
    try:
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(0)


def _same_file(fd: int, known: os.stat_result) -> bool:
    """Is ``fd`` still the file it was (the program may have closed it, and reused the number)?"""
    try:
        now = os.fstat(fd)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (known.st_dev, known.st_ino)


def _leave_execution(sched: Any, hooks: Any, write_fd: int, pipe: os.stat_result) -> None:
    """In a process the program forked (``os.fork``, ``multiprocessing``): not part of the
    execution.  It runs as plain Python, unscheduled; it never reports an outcome (its
    exceptions are its own business, as they would be without interlace), and it dies with
    the execution."""
    from . import current
    current.scheduler = None  # every patched primitive falls back to the real one
    sched._recording = True  # any hook call left returns at once
    try:
        hooks.uninstall()
    except Exception:  # noqa: BLE001 - best effort: the scheduler is inert anyway
        pass
    if _same_file(write_fd, pipe):
        os.close(write_fd)
    libc = _load_libc()
    if libc is not None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _end_forked_process(exc: Optional[BaseException]) -> None:
    """A forked process ran the rest of the script: end it as ``python`` would."""
    status = 0
    if isinstance(exc, SystemExit):
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    elif exc is not None:
        sys.excepthook(type(exc), exc, exc.__traceback__)
        status = 1
    try:
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _enter_main_module(spec: ExecutionSpec) -> types.ModuleType:
    """Make the script ``__main__``, with its own argv and directory, as ``python script`` does."""
    module = types.ModuleType("__main__")
    module.__dict__.update({"__file__": spec.script, "__builtins__": builtins})
    sys.modules["__main__"] = module
    sys.argv = [spec.script, *spec.argv]
    sys.path[0] = os.path.dirname(os.path.abspath(spec.script))
    if spec.module is not None:  # as python -m: the package for relative imports, cwd first
        package = spec.module if os.path.basename(spec.script) == "__main__.py" else \
            spec.module.rpartition(".")[0]
        module.__dict__["__package__"] = package
        sys.path[0] = os.getcwd()
    return module


def _print_to_output_fds() -> None:
    """Point ``sys.stdout``/``sys.stderr`` at fds 1 and 2 (already redirected to the output file).

    A callable target inherits the parent's Python-level streams, which under pytest are its
    capture buffers: without this, every execution's prints would pile up in the test's
    captured output instead of only the failing execution's appearing in the report.
    """
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)


def _redirect_output(path: Optional[str], fd: Optional[int] = None) -> None:
    if fd is not None:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        return
    target = os.open(path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(target, 1)
    os.dup2(target, 2)
    os.close(target)
