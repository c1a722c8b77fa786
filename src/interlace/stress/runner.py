"""Running a script many times under real threads: subprocesses in their own process
groups, a per-run time limit, results stored by run index (independent of completion order)."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

from . import bootstrap
from .report import InterpreterResult, RunOutcome, StressReport, StressUsageError

DEFAULT_RUNS = 200
DEFAULT_TIMEOUT = 10.0
DEFAULT_JOBS = 2

_INFO_CODE = (
    "import json, platform, sys, sysconfig\n"
    "g = getattr(sys, '_is_gil_enabled', None)\n"
    "print(json.dumps({'version': sys.version, "
    "'short': platform.python_version(), "
    "'implementation': platform.python_implementation(), "
    "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
    "'gil_enabled': g() if g else True, "
    "'executable': sys.executable, 'info': list(sys.version_info[:2])}))\n"
)
#: The bootstrap needs ``sys.setswitchinterval`` and ``time.monotonic`` (3.3+) and f-free code;
#: older interpreters are refused rather than reported as failing every run.
OLDEST = (3, 3)


_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - non-POSIX
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        try:
            proc.kill()
        except OSError:
            pass


def _kill_all_live() -> None:
    with _live_lock:
        procs = list(_live)
    for p in procs:
        _kill_group(p)


def _last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def _run_env() -> dict:
    """The environment of a run: the user's, without the hash seed ``interlace`` fixed for
    itself (``interlace.__main__``): each run of the classic method gets its own."""
    env = dict(os.environ)
    if env.pop("INTERLACE_FIXED_HASH_SEED", None):
        env.pop("PYTHONHASHSEED", None)
    return env


#: The start gate's (quiet, max) seconds (bootstrap.GATE_QUIET, bootstrap.GATE_MAX).
Gate = tuple

DEFAULT_GATE = (bootstrap.GATE_QUIET, bootstrap.GATE_MAX)


def _one_run(python: str, script: str, index: int, timeout: float,
             argv: tuple = (), gate: Gate = DEFAULT_GATE) -> RunOutcome:
    # stderr goes to a temp file, not a pipe: the run ends when the process
    # exits, even if a grandchild it spawned still holds the stream open.
    with tempfile.TemporaryFile() as errf:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [python, bootstrap.__file__, repr(bootstrap.SWITCH_INTERVAL), repr(gate[0]),
             repr(gate[1]), script, *argv],
            env=_run_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errf,
            start_new_session=True,
        )
        with _live_lock:
            _live.add(proc)
        try:
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                rc = None
            secs = time.monotonic() - t0
            # Kill the whole process group: the hung run, or leftovers
            # (e.g. a forked grandchild) of a finished one.
            _kill_group(proc)
            if rc is None:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:  # pragma: no cover
                    pass
        finally:
            with _live_lock:
                _live.discard(proc)
        if rc is None:
            return RunOutcome(index, "hang", None, secs)
        if rc == 0:
            return RunOutcome(index, "pass", rc, secs)
        # only the tail is needed for the example line
        size = errf.seek(0, os.SEEK_END)
        errf.seek(max(0, size - 65536))
        text = errf.read().decode("utf-8", "replace")
    last = _last_line(text) or (
        f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
    )
    return RunOutcome(index, "fail", rc, secs, last)


def _interpreter_info(python: str) -> dict:
    try:
        out = subprocess.run(
            [python, "-c", _INFO_CODE],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StressUsageError(f"cannot run interpreter {python!r}: {e}") from None
    if out.returncode != 0:
        # all of it: a pyenv shim explains over several lines which versions would work
        said = out.stderr.decode("utf-8", "replace").strip()[-4000:]
        raise StressUsageError(f"interpreter {python!r} failed to start: "
                               + (said or f"exit status {out.returncode}"))
    try:
        info = json.loads(out.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise StressUsageError(f"interpreter {python!r} did not report its version") from None
    if tuple(info.get("info") or ()) < OLDEST:
        raise StressUsageError(f"interpreter {python!r} is Python {info.get('short')}: "
                               f"stress needs {OLDEST[0]}.{OLDEST[1]} or newer")
    return info


def _resolve_python(python: str) -> str:
    if os.sep not in python and not (os.altsep and os.altsep in python):
        import shutil

        found = shutil.which(python)
        if found:
            return found
        raise StressUsageError(f"interpreter not found: {python}")
    if not os.path.exists(python):
        raise StressUsageError(f"interpreter not found: {python}")
    if os.path.isdir(python) or not os.access(python, os.X_OK):
        raise StressUsageError(f"interpreter is not executable: {python}")
    return python


def validate_inputs(script: str, pythons: list[str]) -> list[str]:
    """Check script and interpreters; return interpreter paths. Raises StressUsageError."""
    if not os.path.exists(script):
        raise StressUsageError(f"script not found: {script}")
    if not os.path.isfile(script):
        raise StressUsageError(f"script is not a file: {script}")
    if not os.access(script, os.R_OK):
        raise StressUsageError(f"script is not readable: {script}")
    return [_resolve_python(p) for p in pythons]


def run_stress(
    script: str,
    pythons: list[str],
    runs: int,
    timeout: float,
    jobs: int = DEFAULT_JOBS,
    progress: Optional[Callable[[int, int], None]] = None,
    argv: tuple = (),
    gate: Gate = DEFAULT_GATE,
) -> StressReport:
    """Run ``script`` ``runs`` times under each interpreter in ``pythons``.

    ``gate``: the start gate's (quiet, max) seconds.
    ``pythons`` empty means ``[sys.executable]``.  ``progress(done, total)`` is
    called from worker threads after each run.  Raises StressUsageError for
    bad input; never raises because of what the script does.
    """
    if runs < 1:
        raise StressUsageError(f"runs must be >= 1, got {runs}")
    if not timeout > 0:
        raise StressUsageError(f"timeout must be > 0, got {timeout}")
    jobs = max(1, int(jobs))
    pythons = list(pythons) or [sys.executable]
    paths = validate_inputs(script, pythons)
    script_abs = os.path.abspath(script)
    infos = [_interpreter_info(p) for p in paths]

    total = runs * len(paths)
    outcomes: list[list[Optional[RunOutcome]]] = [[None] * runs for _ in paths]
    done = [0]
    done_lock = threading.Lock()

    def task(pi: int, ri: int) -> None:
        outcomes[pi][ri] = _one_run(paths[pi], script_abs, ri, timeout, tuple(argv), gate)
        if progress is not None:
            with done_lock:
                done[0] += 1
                n = done[0]
            progress(n, total)

    # Interleave interpreters so that machine load affects them alike.
    order = [(pi, ri) for ri in range(runs) for pi in range(len(paths))]
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="interlace-stress")
    futures = []
    try:
        futures = [pool.submit(task, pi, ri) for pi, ri in order]
        for f in futures:
            f.result()
    except BaseException:  # e.g. KeyboardInterrupt: stop queued runs, kill live ones
        for f in futures:
            f.cancel()
        _kill_all_live()
        raise
    finally:
        pool.shutdown(wait=True)

    results = []
    for pi, python in enumerate(pythons):
        outs = [o for o in outcomes[pi] if o is not None]
        info = infos[pi]
        fails = [o for o in outs if o.status == "fail"]
        hangs = [o for o in outs if o.status == "hang"]
        finished = [o.seconds for o in outs if o.status != "hang"]
        results.append(
            InterpreterResult(
                python=python,
                version=str(info.get("short") or info["version"].split()[0]),
                full_version=str(info.get("version", "")),
                implementation=str(info.get("implementation", "")),
                free_threaded=bool(info.get("free_threaded")),
                gil_enabled=bool(info.get("gil_enabled", True)),
                runs=len(outs),
                passes=len(outs) - len(fails) - len(hangs),
                failures=len(fails),
                hangs=len(hangs),
                median_seconds=statistics.median(finished) if finished else None,
                example_failure=fails[0].last_stderr if fails else None,
                outcomes=outs,
            )
        )
    return StressReport(
        script=script_abs,
        runs=runs,
        timeout=float(timeout),
        jobs=jobs,
        switch_interval=bootstrap.SWITCH_INTERVAL,
        results=results,
    )


