"""Helper of test_accel.py: run executions of programs and print their full outcomes as JSON.

Usage: python accel_outcomes.py MODEL PROGRAM...  (run once with INTERLACE_PURE_PYTHON=1 and
once without; the two outputs must be equal).  Each program gets the default schedule (with and
without recording), PCT and random executions (seeded; one PCT turns into a random walk early),
and a recorded PCT execution.
"""

import dataclasses
import json
import sys

from interlace.hooks import accelerator
from interlace.models import Model
from interlace.runtime.executor import ExecutionSpec, run_execution
from interlace.runtime.policies import PCT, DEFAULT_SCHEDULE, PolicySpec, RandomWalk, Replay

#: Fields that depend on wall-clock time or memory addresses, not on the schedule.
_VOLATILE = ("seconds",)


def outcomes(model: Model, script: str) -> list:
    def run(policy: PolicySpec, record: bool) -> dict:
        outcome = run_execution(ExecutionSpec(script, (), model, policy, record=record,
                                              max_steps=8_000, wall_timeout=60.0))
        return {k: v for k, v in dataclasses.asdict(outcome).items() if k not in _VOLATILE}

    first = run(DEFAULT_SCHEDULE, False)
    bound = max(first.get("steps") or 0, 1)
    out = [first, run(DEFAULT_SCHEDULE, True)]
    for seed in (1, 2):
        out.append(run(PCT(seed, 3, bound), False))
    out.append(run(PCT(3, 3, bound), True))
    out.append(run(PCT(5, 2, max(bound // 4, 1)), False))  # a random walk past 1/4
    out.append(run(RandomWalk(4), False))
    deviations = next((o["deviations"] for o in out if o.get("deviations")), [])
    out.append(run(Replay(tuple(map(tuple, deviations))), False))
    return out


def main() -> None:
    model = Model.parse(sys.argv[1])
    result = {"accelerated": accelerator() is not None,
              "programs": {path: outcomes(model, path) for path in sys.argv[2:]}}
    json.dump(result, sys.stdout, default=repr, sort_keys=True)


if __name__ == "__main__":
    main()
