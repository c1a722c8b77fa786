"""``interlace stress``: the classic stress-testing baseline.

Run a threaded script many times, as a plain subprocess with real OS threads,
under one or more interpreters, and report how often it failed or hung.  This
is the baseline that controlled scheduling is measured against: no schedule
control at all, just "run it a lot and hope the bad interleaving shows up".

How each run is made more likely to interleave
----------------------------------------------
The script is not run directly.  Each run is ``PYTHON bootstrap.py INTERVAL QUIET MAX SCRIPT``
where ``bootstrap.py`` (:mod:`interlace.stress.bootstrap`, a file every interpreter under
test runs, so kept to Python 3.3 syntax) does three things and then executes the script as ``__main__``
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

The package
-----------
``bootstrap``  the program every run executes first (a real module, Python 3.3+ syntax,
               run as a file by each interpreter under test: the gate and the interval);
``runner``     the runs: subprocesses, process groups, timeouts, ``run_stress``;
``report``     the result types and the table;
``cli``        ``add_parser(subparsers)`` and ``command(args) -> int``.

Public surface: ``add_parser``, ``command``, ``run_stress(script, pythons, runs, timeout,
jobs=2) -> StressReport``, the dataclasses ``StressReport``, ``InterpreterResult``,
``RunOutcome`` and the exception ``StressUsageError``.

Exit codes of ``command``: 0 no run failed or hung, 1 some run failed or
hung, 2 usage error (missing script, interpreter not executable / not
working, bad JSON path), 130 interrupted.
"""

from __future__ import annotations

from .bootstrap import GATE_MAX, GATE_QUIET, SWITCH_INTERVAL
from .cli import add_parser, command
from .report import InterpreterResult, RunOutcome, StressReport, StressUsageError, render_table
from .runner import DEFAULT_JOBS, DEFAULT_RUNS, DEFAULT_TIMEOUT, run_stress, validate_inputs

__all__ = [
    "DEFAULT_RUNS",
    "DEFAULT_TIMEOUT",
    "DEFAULT_JOBS",
    "SWITCH_INTERVAL",
    "GATE_QUIET",
    "GATE_MAX",
    "RunOutcome",
    "InterpreterResult",
    "StressReport",
    "StressUsageError",
    "run_stress",
    "validate_inputs",
    "render_table",
    "add_parser",
    "command",
]
