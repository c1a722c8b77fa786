"""``python -m bench.races``: what ``--races`` costs per execution, and what it finds.

1. Cost: the same executions (random walks, seeds 1..K) of a few programs run three ways in
   this process, alternating so that load from other jobs hits all alike: plain (what a search
   without ``--races`` runs), recorded (every access named, no detection), and ``--races``
   (recorded, plus the detector in the child).  Medians of ``--repeat`` rounds.
2. Findings: every corpus program (tests/corpus) searched with ``--races``: the bug its
   assertions find (if any) beside the races reported, with or without an assertion.

Writes the "Races" section of docs/benchmarks.md (keeping the rest) and prints it.

    python -m bench.races                  # full run
    python -m bench.races --quick          # fewer executions and repeats
    python -m bench.races --render-only    # rewrite the section from bench/.cache/races.json
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from bench import harness as H

HEADING = "## Races (--races)"
ROOT = Path(__file__).resolve().parent.parent
RAW = str(ROOT / "bench" / ".cache" / "races.json")
COST_PROGRAMS = ["tests/race_programs/lost_update.py", "tests/race_programs/queue_handoff.py",
                 "tests/race_programs/pool_dict.py", "bench/micro/two_thread_20.py",
                 "bench/micro/pingpong.py", "bench/micro/contended_loop.py"]
MODES = ("plain", "recorded", "races")


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m bench.races")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--executions", type=int, default=None, help="executions per program and mode")
    p.add_argument("--repeat", type=int, default=None, help="rounds (medians are reported)")
    p.add_argument("--budget", type=int, default=None, help="corpus: executions per search")
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument("--render-only", action="store_true")
    return p.parse_args(argv)


def _spec(script: str, seed: int, mode: str):
    from interlace.models import Model
    from interlace.runtime.executor import ExecutionSpec, PolicySpec
    return ExecutionSpec(str(ROOT / script), (), Model.FREE_THREADED, PolicySpec("random", seed),
                         record=mode == "recorded", races=mode == "races", keep_events=False,
                         record_values=False)


def measure_cost(executions: int, repeat: int) -> list[dict]:
    from interlace.runtime.executor import run_execution
    os.environ.setdefault("BENCH_N_CONTENDED", "2000")
    rows = []
    for script in COST_PROGRAMS:
        times: dict[str, list[float]] = {m: [] for m in MODES}
        steps = 0
        for _ in range(repeat):
            for mode in MODES:
                started = time.perf_counter()
                for seed in range(1, executions + 1):
                    outcome = run_execution(_spec(script, seed, mode))
                    steps = max(steps, outcome.get("steps") or 0)
                times[mode].append((time.perf_counter() - started) / executions)
        row = {"program": script, "steps": steps}
        row.update({m: statistics.median(times[m]) for m in MODES})
        rows.append(row)
        print(f"  {script}: " + ", ".join(f"{m} {row[m] * 1000:.1f} ms" for m in MODES), file=sys.stderr)
    return rows


def measure_corpus(budget: int) -> list[dict]:
    from interlace.engine.search import SearchConfig, search
    rows = []
    for path in sorted((ROOT / "tests" / "corpus").glob("*.py")):
        first = path.read_text().splitlines()[0]
        expect = "bug" if "expect: bug" in first else "safe"
        started = time.perf_counter()
        result = search(SearchConfig(script=str(path), budget=budget, races=True, timeout=120))
        rows.append({"program": path.stem, "expect": expect, "bug": result.kind if result.found else None,
                     "executions": result.executions, "races": len(result.races),
                     "adjacent": sum(r.adjacent for r in result.races),
                     "first_race": min((r.execution + 1 for r in result.races), default=None),
                     "locations": sorted({r.location for r in result.races}),
                     "seconds": time.perf_counter() - started})
        print(f"  {path.stem}: bug {rows[-1]['bug']}, races {rows[-1]['races']}", file=sys.stderr)
    return rows


def render(saved: dict) -> str:
    out = [HEADING, "", f"Command: `{saved['command']}` ({saved['settings']}). Machine: see "
           "\"Machine\" above; numbers are medians and move with the load of other jobs.", ""]
    out += ["### Cost per execution", "",
            "Seconds per execution of the same random walks (fork to outcome), three ways: plain "
            "(a search without `--races`), recorded (every access named, nothing detected) and "
            "`--races` (recorded, then the detector runs in the child). The races searches also "
            "spend two executions per race reported on building and checking its adjacent "
            "schedule (not included).", "",
            "| program | steps | plain ms | recorded ms | --races ms | --races / plain |",
            "|---|---:|---:|---:|---:|---:|"]
    for row in saved["cost"]:
        out.append(f"| {row['program']} | {row['steps']} | {row['plain'] * 1000:.1f} | "
                   f"{row['recorded'] * 1000:.1f} | {row['races'] * 1000:.1f} | "
                   f"{row['races'] / row['plain']:.2f}x |")
    out += ["", "### Corpus: races reported vs bugs found by the assertions", "",
            "Each corpus program searched once with `--races` (PCT, seed 0). A search stops at the "
            "first assertion failure, so its races are those of the executions up to it. "
            "`executions`: executions run (the bug's, when one was found); `first race`: the "
            "execution that reported the first race; `adjacent`: races whose token has the two "
            "accesses back to back.", "",
            "| program | expect | bug (assertions) | executions | races | first race | adjacent | locations |",
            "|---|---|---|---:|---:|---:|---:|---|"]
    bugs = races_on_bug = races_no_bug = 0
    for row in saved["corpus"]:
        bugs += row["bug"] is not None
        races_on_bug += row["expect"] == "bug" and row["races"] > 0
        races_no_bug += row["bug"] is None and row["races"] > 0
        out.append(f"| {row['program']} | {row['expect']} | {row['bug'] or '-'} | {row['executions']} | "
                   f"{row['races']} | {row.get('first_race') or '-'} | {row['adjacent']} | "
                   f"{', '.join(row['locations'][:4]) or '-'} |")
    total = len(saved["corpus"])
    buggy = sum(r["expect"] == "bug" for r in saved["corpus"])
    out += ["", f"Assertions found a bug in {bugs} of {total} programs ({buggy} have a known bug); "
            f"`--races` reported races in {races_on_bug} of the {buggy} buggy programs and in "
            f"{races_no_bug} program(s) where no assertion failed. Most corpus bugs are atomicity "
            "or ordering violations between correctly locked sections (every access holds the "
            "lock), which no data-race detector reports: there the assertions are what finds "
            "them. Where a bug is a data race, `--races` can report it long before an assertion "
            "fails (compare `first race` with `executions`).", ""]
    return "\n".join(out)


def main(argv=None) -> int:
    a = parse(argv)
    if a.render_only:
        return H.publish_section(a.out, HEADING, H.saved_run(RAW, "python -m bench.races"), render)
    executions = a.executions or (5 if a.quick else 20)
    repeat = a.repeat or (1 if a.quick else 3)
    budget = a.budget or (30 if a.quick else 200)
    print("cost per execution", file=sys.stderr)
    cost = measure_cost(executions, repeat)
    print("corpus", file=sys.stderr)
    corpus = measure_corpus(budget)
    saved = {"command": H.command_line("python -m bench.races", argv),
             "settings": f"{executions} executions x {repeat} rounds per cost row; corpus budget "
                         f"{budget}; python {sys.version.split()[0]}",
             "cost": cost, "corpus": corpus}
    return H.publish_section(a.out, HEADING, saved, render, raw_path=RAW)


if __name__ == "__main__":
    raise SystemExit(main())
