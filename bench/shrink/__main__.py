"""Preemptions left after shrinking, on three small programs with known minimal answers.

    python -m bench.shrink [--seeds 3]

Each program fails with one or two preemptions at most (bank.py: one switch inside
withdraw's check-then-act; sorted_list.py: one switch between the locked bisect and the
unlocked insert; cond_if.py: a consumer that waits with `if`, not `while`).  Prints, per seed,
the execution that found the bug, the preemptions and deviations of the minimized schedule and
the executions the shrinker spent.  Results: docs/benchmarks.md, "Shrinking".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = ("bank.py", "cond_if.py", "sorted_list.py")


def measure(program: str, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "r.json")
        subprocess.run([sys.executable, "-m", "interlace", "run", os.path.join(HERE, program),
                        "--seed", str(seed), "--json", out], capture_output=True, timeout=600)
        with open(out, encoding="utf-8") as handle:
            return json.load(handle)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shrink")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    print("| program | seed | found in execution | preemptions | deviations | shrink executions |")
    print("|---|---|---|---|---|---|")
    for program in PROGRAMS:
        for seed in range(args.seeds):
            data = measure(program, seed)
            deviations = data["schedule"].rsplit(":", 1)[1] if data["schedule"] else ""
            count = 0 if deviations in ("", "-") else len(deviations.split(","))
            print(f"| {program} | {seed} | {data['executions_to_bug']} | {data['preemptions']} | "
                  f"{count} | {data['shrink_executions']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
