"""How often one execution of each sampling policy finds the reorder bug, with and without
threads started together (docs/design.md, "The portfolio").

Usage: python bench/start_sequence.py N RUNS [POLICY...]
  N: setters of tests/portfolio_programs/reorder_n.py; RUNS: executions per policy (seeds 1..RUNS).
  POLICY: walk1 walk5 pos pct (threads started one by one, as the script does) and the same
  with a T suffix (threads started together); default: all.
Prints failing executions per policy.  Counts, not times: the same on any machine.
"""

import sys
from pathlib import Path

from interlace.models import Model
from interlace.runtime import policies as P
from interlace.runtime.executor import ExecutionSpec, run_execution

SCRIPT = str(Path(__file__).resolve().parent.parent / "tests" / "portfolio_programs" / "reorder_n.py")


def main() -> None:
    setters, runs = sys.argv[1], int(sys.argv[2])
    first = run_execution(ExecutionSpec(SCRIPT, (setters,), Model.FREE_THREADED, P.DEFAULT_SCHEDULE))
    bound = first.steps or 1
    makers = {
        "walk1": lambda s, t: P.RandomWalk(s, 1.0, t), "walk5": lambda s, t: P.RandomWalk(s, 0.5, t),
        "pos": lambda s, t: P.POS(s, t), "pct": lambda s, t: P.PCT(s, 3, bound, t),
    }
    wanted = sys.argv[3:] or [n + t for n in makers for t in ("", "T")]
    for name in wanted:
        make = makers[name.rstrip("T")]
        together = name.endswith("T")
        found = sum(run_execution(ExecutionSpec(SCRIPT, (setters,), Model.FREE_THREADED,
                                                make(seed, together))).failed
                    for seed in range(1, runs + 1))
        print(f"{name:7} N={setters}: {found}/{runs} executions failed", flush=True)


if __name__ == "__main__":
    main()
