"""``interlace stress``: the classic stress-testing baseline.

Run a threaded script many times, as a plain subprocess with real OS threads,
under one or more interpreters, and report how often it failed or hung.  This
is the baseline that controlled scheduling is measured against: no schedule
control at all, just "run it a lot and hope the bad interleaving shows up".

How each run is made more likely to interleave
----------------------------------------------
The script is not run directly.  Each run is ``PYTHON -c BOOTSTRAP SCRIPT``
where ``BOOTSTRAP`` (the ``_BOOTSTRAP`` string below; kept Python 3.9
compatible) does three things and then executes the script as ``__main__``
with ``runpy.run_path`` (``sys.argv`` is ``[SCRIPT, ARGS...]`` and ``sys.path[0]`` is
the script's directory, as with ``python SCRIPT``):

1. **Tiny switch interval.**  ``sys.setswitchinterval(1e-6)``.  CPython keeps
   the interval in whole microseconds: 1e-6 is the smallest value that is
   stored as such (smaller values such as 1e-9 do not raise but are silently
   truncated to 0, reported back as ``0.0``, and clamped to 1 us internally),
   so 1e-6 is the honest "as small as it gets" setting.  On free-threaded
   builds the switch interval only matters if the GIL is re-enabled.

2. **Start gate ("release threads together where it can").**
   ``threading.Thread.start`` is wrapped.  Every thread started by the script
   gets a gated ``run`` (installed as an *instance* attribute, so subclasses
   that override ``run()`` are gated too).  Before running its body, a thread
   waits on a shared condition until the *batch* it belongs to is released.
   A batch is released, all at once via ``notify_all``, when either

   * no ``start()`` call is in progress and none has returned within the
     last ``QUIET`` = 1 ms (the script has finished its burst of
     ``start()`` calls), or
   * the oldest waiting thread has waited ``MAX`` = 10 ms since its own
     ``start()`` (a script that keeps starting threads in a loop is never
     held up for longer than that).

   The "in progress" rule matters: ``Thread.start`` blocks until the new OS
   thread is up, which takes 0.1-4 ms on a loaded 2-core machine, so a
   quiet period measured from the *beginning* of the last ``start()`` let
   the batch go before the last thread existed.  Measured with
   ``tests/stress_programs/gate_check.py`` (4 threads started back to back,
   2 parallel jobs, 60 runs): a thread began before all 4 were started in
   ~50% of runs with a naive 1 ms/5 ms gate, ~10% with the in-progress rule
   and a 5 ms cap, 0% with the 10 ms cap.

   So ``t1.start(); t2.start(); t3.start()`` makes t1..t3 begin their bodies
   at the same moment instead of t1 getting a head start of a thread
   creation or two, which is usually long enough to finish a short body
   before t2 even exists.  A single-thread program (or ``start(); join()``
   in sequence) costs about 1 ms per thread start and is otherwise
   unaffected.  If anything about the gate fails (e.g. an exotic Thread
   subclass that forbids instance attributes), that thread simply runs
   ungated.

3. Nothing else: no tracing, no monkeypatching of locks.

Outcome of a run
----------------
* **hang**: still running after ``--timeout`` seconds (default 10).  The run
  is started in its own session/process group and the whole group is
  killed with SIGKILL, so deadlocks (including in non-daemon threads at
  interpreter shutdown) count as hangs and never freeze the command.
  (``subprocess.Popen`` + ``wait(timeout=...)`` with stderr in a temp file
  is used rather than ``subprocess.run(timeout=...)``: ``run`` kills only
  the direct child and then waits for pipes that a grandchild may still
  hold open, which could freeze the command or turn a finished run into a
  "hang".  After every run, hung or not, the process group is killed so no
  stray grandchildren accumulate.)
* **fail**: exited with a non-zero status (uncaught exception, failed
  ``assert``, ``sys.exit(1)``, or killed by a signal such as a segfault).
* **pass**: exit status 0.

Runs are distributed over ``jobs`` (default 2) worker threads driving the
subprocesses; every run has a fixed index, results are stored by index, and
the "example failure" is the last non-empty stderr line of the failing run
with the *lowest index*, so counts and report are independent of completion
order.  The median run time is taken over runs that did not hang.

Public surface
--------------
``add_parser(subparsers)``, ``command(args) -> int``,
``run_stress(script, pythons, runs, timeout, jobs=2) -> StressReport``,
dataclasses ``StressReport``, ``InterpreterResult``, ``RunOutcome`` and
the exception ``StressUsageError``.

Exit codes of ``command``: 0 no run failed or hung, 1 some run failed or
hung, 2 usage error (missing script, interpreter not executable / not
working, bad JSON path), 130 interrupted.
"""

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
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from ._args import positive_float, positive_int

__all__ = [
    "DEFAULT_RUNS",
    "DEFAULT_TIMEOUT",
    "DEFAULT_JOBS",
    "SWITCH_INTERVAL",
    "RunOutcome",
    "InterpreterResult",
    "StressReport",
    "StressUsageError",
    "run_stress",
    "add_parser",
    "command",
]

DEFAULT_RUNS = 200
DEFAULT_TIMEOUT = 10.0
DEFAULT_JOBS = 2
SWITCH_INTERVAL = 1e-6
GATE_QUIET = 0.001
GATE_MAX = 0.010

# Kept compatible with Python 3.9 (and deliberately plain): it is executed by
# every interpreter under test, via ``python -c``.  argv: [-c, SCRIPT].
_BOOTSTRAP = r'''
import os, runpy, sys, threading, time

sys.setswitchinterval(%(interval)r)

_QUIET = %(quiet)r
_MAX = %(max)r
_now = time.monotonic
_cond = threading.Condition(threading.Lock())
# [threads started, time of last start, highest released index,
#  start() calls in progress]
_st = [0, 0.0, 0, 0]
_orig_start = threading.Thread.start


def _gated(thread, run, idx, t0):
    def run_after_gate(*a, **kw):
        try:
            with _cond:
                while _st[2] < idx:
                    now = _now()
                    quiet = _st[1] + _QUIET - now
                    if _st[3]:  # a start() is in progress: not quiet yet
                        quiet = _QUIET
                    left = min(quiet, t0 + _MAX - now)
                    if left <= 0:
                        _st[2] = _st[0]
                        _cond.notify_all()
                        break
                    _cond.wait(left)
        except Exception:
            pass
        try:
            del thread.run  # back to the class attribute
        except Exception:
            pass
        return run(*a, **kw)
    return run_after_gate


def _start(self, *a, **kw):
    gated = False
    try:
        with _cond:
            _st[0] += 1
            _st[3] += 1
            _st[1] = t0 = _now()
            idx = _st[0]
        gated = True
        self.run = _gated(self, self.run, idx, t0)
    except Exception:
        pass
    try:
        return _orig_start(self, *a, **kw)
    finally:
        if gated:
            with _cond:
                # the quiet period counts from the end of the last start()
                _st[3] -= 1
                _st[1] = _now()


threading.Thread.start = _start

_script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(_script))
runpy.run_path(_script, run_name="__main__")
'''

_BOOTSTRAP = _BOOTSTRAP % {"interval": SWITCH_INTERVAL, "quiet": GATE_QUIET, "max": GATE_MAX}

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


class StressUsageError(ValueError):
    """Bad input to :func:`run_stress` (missing script, unusable interpreter)."""


@dataclass
class RunOutcome:
    index: int
    status: str  # "pass" | "fail" | "hang"
    returncode: Optional[int]
    seconds: float
    last_stderr: str = ""


@dataclass
class InterpreterResult:
    python: str
    version: str
    full_version: str
    implementation: str
    free_threaded: bool
    gil_enabled: bool
    runs: int
    passes: int
    failures: int
    hangs: int
    median_seconds: Optional[float]
    example_failure: Optional[str]
    outcomes: list[RunOutcome] = field(default_factory=list, repr=False)

    @property
    def failure_rate(self) -> float:
        return self.failures / self.runs if self.runs else 0.0

    @property
    def hang_rate(self) -> float:
        return self.hangs / self.runs if self.runs else 0.0

    @property
    def ok(self) -> bool:
        return self.failures == 0 and self.hangs == 0

    def to_dict(self, include_runs: bool = True) -> dict:
        d = asdict(self)
        d["failure_rate"] = self.failure_rate
        d["hang_rate"] = self.hang_rate
        if not include_runs:
            d.pop("outcomes")
        return d


@dataclass
class StressReport:
    script: str
    runs: int
    timeout: float
    jobs: int
    switch_interval: float
    results: list[InterpreterResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self, include_runs: bool = True) -> dict:
        return {
            "script": self.script,
            "runs": self.runs,
            "timeout": self.timeout,
            "jobs": self.jobs,
            "switch_interval": self.switch_interval,
            "ok": self.ok,
            "results": [r.to_dict(include_runs) for r in self.results],
        }


# --------------------------------------------------------------------------
# running

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


def _one_run(python: str, script: str, index: int, timeout: float,
             argv: tuple = ()) -> RunOutcome:
    # stderr goes to a temp file, not a pipe: the run ends when the process
    # exits, even if a grandchild it spawned still holds the stream open.
    with tempfile.TemporaryFile() as errf:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [python, "-c", _BOOTSTRAP, script, *argv],
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
        raise StressUsageError(
            f"interpreter {python!r} failed to start: "
            + (_last_line(out.stderr.decode("utf-8", "replace")) or f"exit status {out.returncode}")
        )
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
) -> StressReport:
    """Run ``script`` ``runs`` times under each interpreter in ``pythons``.

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
        outcomes[pi][ri] = _one_run(paths[pi], script_abs, ri, timeout, tuple(argv))
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
        switch_interval=SWITCH_INTERVAL,
        results=results,
    )


# --------------------------------------------------------------------------
# presentation / CLI


def _fmt_ft(r: InterpreterResult) -> str:
    if not r.free_threaded:
        return "no"
    return "yes" if not r.gil_enabled else "yes (GIL on)"


def render_table(report: StressReport, include_example: bool = True):
    """Return a rich Table for ``report`` (optionally without the example column)."""
    from rich.table import Table

    table = Table(
        title=f"interlace stress: {os.path.basename(report.script)}  "
        f"runs={report.runs} timeout={report.timeout:g}s "
        f"switch-interval={report.switch_interval:g}s",
        title_justify="left",
    )
    rows = [
        (
            r.version if r.implementation in ("", "CPython") else f"{r.implementation} {r.version}",
            _fmt_ft(r),
            str(r.runs),
            str(r.failures),
            f"{r.failure_rate:.1%}",
            str(r.hangs),
            f"{r.hang_rate:.1%}",
            f"{r.median_seconds * 1000:.0f} ms" if r.median_seconds is not None else "-",
            r.example_failure or "",
        )
        for r in report.results
    ]
    headers = ["python", "free threaded", "runs", "failures", "failure rate",
               "hangs", "hang rate", "median run", "example failure"]
    if not include_example:
        headers.pop()
        rows = [row[:-1] for row in rows]
    for i, h in enumerate(headers):
        if h == "example failure":
            table.add_column(h, overflow="fold", min_width=12)
        else:
            # values never wrap; long headers may wrap onto two lines
            width = max([len(row[i]) for row in rows] + [max(len(w) for w in h.split())])
            table.add_column(h, justify="left" if i < 2 else "right", min_width=width)
    for row in rows:
        table.add_row(*row)
    return table


def add_parser(subparsers) -> None:
    """Add the ``stress`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "stress",
        help="baseline: run a threaded script many times with real threads",
        description=(
            "Run SCRIPT many times as a subprocess with real threads, a tiny "
            "switch interval (1e-6 s) and a start gate that releases threads "
            "together; report failure and hang rates per interpreter."
        ),
    )
    p.add_argument("script", metavar="SCRIPT", help="Python script to run")
    p.add_argument(
        "--python",
        dest="pythons",
        metavar="PATH",
        action="append",
        default=[],
        help="interpreter to test (repeatable; default: the current interpreter)",
    )
    p.add_argument(
        "--runs", type=positive_int, default=DEFAULT_RUNS, metavar="N",
        help=f"runs per interpreter (default {DEFAULT_RUNS})",
    )
    p.add_argument(
        "--timeout", type=positive_float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=f"per-run time limit; slower runs are killed and count as hangs (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument(
        "--jobs", "-j", type=positive_int, default=DEFAULT_JOBS, metavar="N",
        help=f"runs executed in parallel (default {DEFAULT_JOBS})",
    )
    p.add_argument("--json", dest="json_path", metavar="PATH", help="also write the results as JSON")
    p.set_defaults(func=command)


def _usage_error(msg: str) -> int:
    print(f"interlace stress: error: {msg}", file=sys.stderr)
    return 2


def command(args) -> int:
    """Run the ``stress`` subcommand for parsed ``args``; return the exit code."""
    script = args.script
    pythons = list(getattr(args, "pythons", None) or [])
    json_path = getattr(args, "json_path", None)
    runs = getattr(args, "runs", DEFAULT_RUNS)
    timeout = getattr(args, "timeout", DEFAULT_TIMEOUT)
    jobs = getattr(args, "jobs", DEFAULT_JOBS)
    try:
        validate_inputs(script, pythons or [sys.executable])
    except StressUsageError as e:
        return _usage_error(str(e))
    if json_path:
        parent = os.path.dirname(os.path.abspath(json_path))
        if not os.path.isdir(parent):
            return _usage_error(f"directory for --json does not exist: {parent}")
        if os.path.isdir(json_path):
            return _usage_error(f"--json path is a directory: {json_path}")

    # SIGTERM behaves like Ctrl-C: runs live in their own sessions, so they
    # must be killed explicitly or a deadlocked run would outlive us.
    installed, old_term = False, None
    if threading.current_thread() is threading.main_thread():
        def _on_term(signum, frame):
            raise KeyboardInterrupt

        try:
            old_term = signal.signal(signal.SIGTERM, _on_term)
            installed = True
        except (ValueError, OSError):  # pragma: no cover
            pass
    try:
        return _run_and_print(script, pythons, runs, timeout, jobs, json_path,
                              tuple(getattr(args, "args", ()) or ()))
    finally:
        if installed:
            signal.signal(signal.SIGTERM, old_term if old_term is not None else signal.SIG_DFL)


def _run_and_print(script, pythons, runs, timeout, jobs, json_path, argv=()) -> int:
    from rich.console import Console

    out = Console()
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(width=160)  # don't squeeze the table into 80 columns in logs
    err = Console(stderr=True)
    try:
        if err.is_terminal:
            from rich.progress import Progress

            with Progress(console=err, transient=True) as bar:
                tid = bar.add_task("stress", total=runs * max(1, len(pythons)))
                report = run_stress(
                    script, pythons, runs, timeout, jobs,
                    progress=lambda n, total: bar.update(tid, completed=n), argv=argv,
                )
        else:
            report = run_stress(script, pythons, runs, timeout, jobs, argv=argv)
    except StressUsageError as e:
        return _usage_error(str(e))
    except KeyboardInterrupt:
        _kill_all_live()
        print("interlace stress: interrupted", file=sys.stderr)
        return 130

    wide = out.width >= 110
    out.print(render_table(report, include_example=wide))
    if not wide:
        for r in report.results:
            if r.example_failure:
                out.print(f"example failure ({r.version}): {r.example_failure}", markup=False, highlight=False)
    if json_path:
        try:
            with open(json_path, "w", encoding="utf-8") as fh:
                json.dump(report.to_dict(), fh, indent=2)
                fh.write("\n")
        except OSError as e:
            return _usage_error(f"cannot write {json_path}: {e}")
    return report.exit_code
