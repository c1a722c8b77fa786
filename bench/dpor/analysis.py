"""How much of a DPOR search the parent spends analysing executions (issue 22).

    python -m bench.dpor.analysis [--threads 32] [--executions 40]

Runs ``bench/dpor/many_threads.py`` under ``--strategy dpor`` for a fixed number of
executions and reports the time spent in ``Explorer.record`` (happens-before, races,
backtrack points) against the whole search.
"""

from __future__ import annotations

import argparse
import os
import time

from interlace.engine import dpor
from interlace.engine.search import SearchConfig, search

PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "many_threads.py")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--executions", type=int, default=40)
    args = parser.parse_args()
    spent = [0.0]
    original = dpor.Explorer.record

    def timed(self, outcome, branch=None):
        started = time.perf_counter()
        try:
            return original(self, outcome, branch)
        finally:
            spent[0] += time.perf_counter() - started

    dpor.Explorer.record = timed
    config = SearchConfig(script=PROGRAM, argv=(str(args.threads),), strategy="dpor",
                          budget=args.executions, preemptions=2, timeout=600, shrink=False)
    started = time.perf_counter()
    result = search(config)
    total = time.perf_counter() - started
    print(f"threads {args.threads}: {result.executions} executions in {total:.1f} s, "
          f"analysis {spent[0]:.1f} s ({100 * spent[0] / total:.0f}%), "
          f"{1000 * spent[0] / max(1, result.executions):.0f} ms per execution; verdict {result.verdict}")


if __name__ == "__main__":
    main()
