"""Exhaust one case with one tool; print a JSON line.  Run by ``python -m bench.dpor``.

usage: run_one.py interlace|frontrun CASE BOUND TIMEOUT   (BOUND: an int or "none")
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES, State  # noqa: E402

tool, case, bound, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
bound = None if bound == "none" else int(bound)
workers, invariant, _ = CASES[case]
started = time.perf_counter()
if tool == "interlace":
    import interlace
    result = interlace.explore(State, workers, invariant, strategy="dpor", preemptions=bound,
                               timeout=timeout)
    out = {"executions": result.executions, "exhausted": result.verdict == "verified",
           "verdict": result.verdict}
else:
    import frontrun
    result = frontrun.explore(State, workers, invariant, strategy="dpor", preemption_bound=bound,
                              max_executions=10_000_000, total_timeout=timeout,
                              reproduce_on_failure=0)
    explored = getattr(result, "num_explored", None)
    out = {"executions": explored, "verdict": "ok" if result.property_holds else "bug",
           "exhausted": result.property_holds and time.perf_counter() - started < timeout * 0.98}
out["seconds"] = time.perf_counter() - started
print(json.dumps(out))
