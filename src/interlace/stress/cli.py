"""``interlace stress``: the subcommand's arguments, its output and exit codes."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

from .._args import STDOUT, json_path as json_path_type, positive_float, positive_int
from ..report.console import printable
from ..report.output import OutputError, write_text
from .report import StressUsageError, render_table
from .runner import DEFAULT_JOBS, DEFAULT_RUNS, DEFAULT_TIMEOUT, _kill_all_live, run_stress, validate_inputs


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
    p.add_argument("--json", dest="json_path", metavar="PATH", type=json_path_type,
                   help="also write the results as JSON to PATH ('-': standard output, "
                        "instead of the table)")
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

    if json_path == STDOUT:
        out = Console(stderr=True)  # the JSON takes standard output
    wide = out.width >= 110
    out.print(render_table(report, include_example=wide))
    if not wide:
        for r in report.results:
            if r.example_failure:
                out.print(f"example failure ({r.version}): {printable(r.example_failure)}",
                          markup=False, highlight=False, soft_wrap=True)
    if json_path:
        try:
            write_text(json_path, json.dumps(report.to_dict(), indent=2) + "\n")
        except OutputError as e:
            return _usage_error(str(e))
    return report.exit_code
