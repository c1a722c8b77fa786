"""Two source trees of interlace, side by side: the same searches, alternating, median times.

For a change to a hot path (the plan, the recorder): run each search with one tree, then the
other, ``--rounds`` times, and print the median wall time of each and their ratio.  Noise on a
shared machine hits both trees alike because their runs alternate.

    python -m bench.trees --tree before=/tmp/before/src --tree after=src \\
        --program tests/corpus/sct_stack_ok.py --program tests/corpus/sct_account_ok.py \\
        --strategy dpor --budget 200 --rounds 3

Each search is ``python -m interlace run PROGRAM --strategy S --budget B --json OUT`` with
``PYTHONPATH=TREE`` (with ``INTERLACE_PURE_PYTHON=1`` unless ``--accel``: a tree without a
built accelerator must not fall back silently).  Executions are read from the JSON, so a
change that makes a search run more executions shows as such, not as a slowdown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _search(tree: str, program: str, args: argparse.Namespace) -> tuple[float, int, str]:
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "out.json")
        env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")
        if not args.accel:
            env["INTERLACE_PURE_PYTHON"] = "1"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "interlace", "run", program, "--strategy",
                        args.strategy, "--budget", str(args.budget), "--seed", "1",
                        "--json", out], env=env, capture_output=True, timeout=args.timeout)
        elapsed = time.perf_counter() - started
        with open(out) as handle:
            data = json.load(handle)
    return elapsed, int(data.get("executions") or 0), str(data.get("verdict"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.trees", description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=SRC")
    parser.add_argument("--program", action="append", required=True)
    parser.add_argument("--strategy", default="dpor")
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--accel", action="store_true", help="use each tree's built accelerator")
    args = parser.parse_args(argv)
    trees = [tuple(t.split("=", 1)) for t in args.tree]
    names = [name for name, _ in trees]
    print(f"| program | {' | '.join(names)} | ratio {names[-1]}/{names[0]} |")
    print(f"|---|{'---|' * len(names)}---|")
    for program in args.program:
        times: dict[str, list[float]] = {name: [] for name in names}
        seen: dict[str, tuple[int, str]] = {}
        for _ in range(args.rounds):
            for name, tree in trees:
                elapsed, executions, verdict = _search(tree, program, args)
                times[name].append(elapsed)
                seen[name] = (executions, verdict)
        medians = {name: statistics.median(times[name]) for name in names}
        cells = [f"{medians[n]:.2f} s ({seen[n][0]} executions, {seen[n][1]})" for n in names]
        ratio = medians[names[-1]] / medians[names[0]]
        print(f"| {os.path.basename(program)} | {' | '.join(cells)} | {ratio:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
