"""``python -m bench.breakdown``: where one search's time goes, execution by execution.

Runs ``interlace run PROGRAM --budget N`` (plus any options after ``--``) in this process,
with the executor's entry points wrapped by timers, and prints per execution (means):

- ``send``: ``start_execution`` in the search process (the spec sent to a spare, or a fork);
- ``spare``: ``fork_spare`` in the search process (forking the next child, while this runs);
- ``wait``: waiting for an outcome (the child runs; the search process sleeps in ``select``);
- ``read``: reading and unpickling outcomes;
- ``search``: everything else the search process does (folding the outcome, the next choice);
- CPU time and minor page faults of the search process and of its children (``getrusage``).

The wall time is the search loop's, without interpreter start-up.  On a machine with fewer
cores than busy processes (search, execution, spare), CPU time is what bounds the rate.

Example: ``python -m bench.breakdown bench/.cache/two_by_twenty.py --budget 300 -- --strategy random``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from typing import Callable, Optional


def _timed(totals: dict[str, float], name: str, func: Callable) -> Callable:
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - started
    return timed


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__.split("\n")[0],
                                 epilog="after --: options of interlace run")
    ap.add_argument("program")
    ap.add_argument("--budget", type=int, default=300)
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:cut])
    a.options = argv[cut + 1:]  # after --: options of interlace run

    from interlace.cli import main as interlace
    from interlace.engine import pool
    from interlace.runtime import executor

    totals = dict.fromkeys(("send", "spare", "wait", "read"), 0.0)
    pool.start_execution = _timed(totals, "send", pool.start_execution)
    pool.fork_spare = _timed(totals, "spare", pool.fork_spare)
    read = executor.RunningExecution.read
    executor.RunningExecution.read = _timed(totals, "read", read)
    next_outcome = pool.Pool.next_outcome
    pool.Pool.next_outcome = _timed(totals, "wait", next_outcome)

    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as td:
        report = os.path.join(td, "out.json")
        before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        try:
            interlace(["run", a.program, "--budget", str(a.budget), "--json", report, *a.options])
        except SystemExit:
            pass
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(report) as fh:
            n = max(1, json.load(fh)["executions"])
    totals["wait"] -= totals["read"]  # reads happen inside the wait
    totals["search"] = wall - sum(totals.values())
    out = sys.stderr
    print(f"{a.program} {' '.join(a.options)}: {n} executions, {wall / n * 1e3:.2f} ms each (wall)", file=out)
    for name, seconds in totals.items():
        print(f"  {name:7s} {seconds / n * 1e3:6.2f} ms", file=out)
    for who, b, e in (("search", before[0], after[0]), ("children", before[1], after[1])):
        print(f"  {who:9s} CPU user {(e.ru_utime - b.ru_utime) / n * 1e3:5.2f} ms, system "
              f"{(e.ru_stime - b.ru_stime) / n * 1e3:5.2f} ms, {(e.ru_minflt - b.ru_minflt) / n:5.0f} "
              "minor faults per execution", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
