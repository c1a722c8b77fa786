"""``python -m bench.speed``: executions per second, interlace against frontrun 0.7.0, side by side.

What is measured: how many executions per second each tool's search runs on the same safe
program, ``bench/micro/two_thread_20.py`` with ``STEPS = 20`` (two threads, 20 locked
``counter += 1`` each; every execution runs to the end, so every one does the same work;
written to ``bench/.cache/two_by_twenty.py``), in two modes:

- random walk: ``interlace run --strategy random`` against frontrun's ``strategy="random"``;
- DPOR, preemption bound 2: ``interlace run --strategy dpor --preemptions 2`` against frontrun's
  ``strategy="dpor", preemption_bound=2``;
- both again with ``--jobs 2`` (two executions at a time), against frontrun run as in those
  rows (it has no such option): what a 2-core machine gives.  The goals are judged on the
  rows with one job.

Both get the same budget (``--executions``). A DPOR search may exhaust its tree before the
budget; the rate is still executions / seconds, and the raw JSON keeps how many ran.

How: each run is one fresh process. interlace: ``python -m interlace run SCRIPT --strategy S
--budget N --timeout 600 --json OUT``, reading ``executions`` and ``seconds`` (the search loop,
from its first fork to its last outcome: no interpreter start-up, no import, no argument
parsing). frontrun: ``venv/bin/frontrun venv/bin/python bench/frontrun_adapter.py SCRIPT
--strategy S --budget N --json OUT`` in ``bench/.cache/venv-frontrun``, reading ``executions``
and ``explore_seconds`` (the ``explore()`` call alone: no launcher, interpreter start-up, import
or the adapter's parsing of the script). The wall time of every command is kept in the raw
JSON as well. The tools alternate run by run (interlace, frontrun, interlace, frontrun, ...),
so machine load hits both alike; each cell is the median rate over ``--repeat`` runs (seed =
the repeat's index for both tools).

``--baseline-src DIR`` adds a third column: interlace run from another source tree (``git
archive`` of an earlier commit, with the built accelerator copied in), alternated with the
other two, to measure a change before and after in the same run.

Prints the section (a markdown table and the goal lines) and writes it as the "## Executions
per second against frontrun" section of ``--out`` (default docs/benchmarks.md; the rest of the
file is kept); the raw numbers go to ``bench/.cache/speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from typing import Optional

from . import harness as H

SOURCE = os.path.join(H.MICRO, "two_thread_20.py")
#: The program both tools run: ``SOURCE`` with 20 increments per thread (see ``write_program``).
PROGRAM = os.path.join(H.CACHE, "two_by_twenty.py")
#: mode -> (interlace options, frontrun adapter options)
MODES: dict[str, tuple[list[str], list[str]]] = {
    "random": (["--strategy", "random"], ["--strategy", "random"]),
    "dpor bound 2": (["--strategy", "dpor", "--preemptions", "2"],
                     ["--strategy", "dpor", "--preemption-bound", "2"]),
    # What two cores give (frontrun has no counterpart: its rows run it as above).  No goal
    # is judged on these: the goals are about the cost of one execution.
    "random, --jobs 2": (["--strategy", "random", "--jobs", "2"], ["--strategy", "random"]),
    "dpor bound 2, --jobs 2": (["--strategy", "dpor", "--preemptions", "2", "--jobs", "2"],
                               ["--strategy", "dpor", "--preemption-bound", "2"]),
}
#: mode -> the goal: interlace's rate at least this many times frontrun's
GOALS: dict[str, tuple[float, str]] = {
    "random": (3.0, "random walk: at least 3x frontrun"),
    "dpor bound 2": (1.5, "DPOR bound 2: at least 1.5x frontrun"),
}
TOOLS = ("interlace", "frontrun")
BASELINE = "interlace baseline"
SEARCH_TIMEOUT = 600.0
RAW = os.path.join(H.CACHE, "speed.json")
HEADING = "## Executions per second against frontrun"


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _command(tool: str, mode: str, seed: int, budget: int, out: str, venv: Optional[str]) -> list[str]:
    """The command line of one run (``venv``: frontrun's, for frontrun)."""
    il_opts, fr_opts = MODES[mode]
    common = ["--seed", str(seed), "--budget", str(budget), "--timeout", f"{SEARCH_TIMEOUT:g}", "--json", out]
    if tool != "frontrun":
        return [sys.executable, "-m", "interlace", "run", PROGRAM, *il_opts, *common]
    assert venv is not None
    return [os.path.join(venv, "bin", "frontrun"), os.path.join(venv, "bin", "python"), H.ADAPTER,
            PROGRAM, *fr_opts, *common]


def write_program() -> None:
    """``SOURCE`` with its one ``STEPS = 10`` line set to 20."""
    with open(SOURCE) as fh:
        text = fh.read()
    assert text.count("\nSTEPS = 10\n") == 1, f"{SOURCE} must set STEPS = 10 once"
    os.makedirs(H.CACHE, exist_ok=True)
    with open(PROGRAM, "w") as fh:
        fh.write(text.replace("\nSTEPS = 10\n", "\nSTEPS = 20\n"))


def run_once(tool: str, mode: str, seed: int, budget: int, venv: Optional[str],
             baseline_src: Optional[str] = None) -> dict:
    """One search: ``executions``, ``seconds`` (the search alone), ``wall``, ``rate``; or ``error``."""
    load = os.getloadavg()[0]  # other work on the machine (the table is only as quiet as it was)
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as td:
        out = os.path.join(td, "out.json")
        cmd = _command(tool, mode, seed, budget, out, venv)
        src = baseline_src if tool == BASELINE else H.SRC
        env = dict(os.environ, PYTHONPATH=src) if tool != "frontrun" else None
        proc = H.run_cmd(cmd, SEARCH_TIMEOUT + 60, env=env, cwd=H.ROOT if tool != "frontrun" else H.MICRO)
        data = _read_json(out)
    if proc.timed_out:
        return {"error": f"killed after {SEARCH_TIMEOUT + 60:g} s", "wall": proc.seconds}
    if data is None:
        return {"error": f"no JSON (exit {proc.rc}): {H.last_line(proc.err)}", "wall": proc.seconds}
    seconds = data.get("seconds") if tool != "frontrun" else data.get("explore_seconds")
    executions = data.get("executions")
    verdict = data.get("verdict")
    if verdict not in ("no-bug-found", "verified") or not executions or not seconds:
        return {"error": f"verdict {verdict}: {(data.get('error') or data.get('summary') or '')[:100]}",
                "wall": proc.seconds}
    return {"executions": executions, "seconds": seconds, "wall": round(proc.seconds, 4),
            "rate": executions / seconds, "verdict": verdict,
            "accelerated": data.get("accelerated"), "load": load}


def median_rate(runs: list[dict]) -> Optional[float]:
    """The median executions per second over the runs that worked (``None``: none did)."""
    rates = [r["rate"] for r in runs if "rate" in r]
    return statistics.median(rates) if rates else None


def measure(budget: int, repeat: int, venv: Optional[str], why: str,
            baseline_src: Optional[str] = None) -> dict[str, dict[str, list[dict]]]:
    """Every run, by mode and tool; the tools alternate run by run."""
    tools = TOOLS + ((BASELINE,) if baseline_src else ())
    runs: dict[str, dict[str, list[dict]]] = {mode: {tool: [] for tool in tools} for mode in MODES}
    for seed in range(repeat):
        for mode in MODES:
            for tool in tools:
                if tool == "frontrun" and venv is None:
                    result = {"error": why}
                else:
                    result = run_once(tool, mode, seed, budget, venv, baseline_src)
                runs[mode][tool].append(result)
                H.log(f"{mode} {tool} run {seed + 1}/{repeat}: {result}")
    return runs


def _cell(runs: list[dict]) -> str:
    rate = median_rate(runs)
    if rate is None:
        return f"error: {runs[0].get('error', '?')[:60]}" if runs else "-"
    executions = statistics.median(r["executions"] for r in runs if "rate" in r)
    return f"{rate:.1f} ({executions:g} executions)"


def ratio(runs: dict[str, list[dict]]) -> Optional[float]:
    """interlace's median rate / frontrun's (``None`` if either is missing)."""
    il, fr = median_rate(runs["interlace"]), median_rate(runs["frontrun"])
    return il / fr if il and fr else None


def render(saved: dict) -> str:
    """The markdown table and the goal lines."""
    runs = saved["runs"]
    L = [HEADING, "", f"Executions per second (median of {saved['repeat']} runs, budget {saved['executions']} "
         "executions per search; tools alternated run by run). Rates use the search time each tool "
         "reports, without interpreter start-up: interlace's JSON `seconds` (the search loop), "
         "frontrun's `explore()` call (adapter's `explore_seconds`).", "",
         "| program | mode | interlace exec/s | frontrun 0.7.0 exec/s | ratio interlace/frontrun |",
         "|---|---|---|---|---|"]
    program = os.path.basename(saved["program"])
    for mode in MODES:
        r = ratio(runs[mode])
        L.append(f"| {program} | {mode} | {_cell(runs[mode]['interlace'])} | "
                 f"{_cell(runs[mode]['frontrun'])} | {f'{r:.2f}x' if r else '-'} |")
    if any(BASELINE in runs[mode] for mode in MODES):
        L += ["", f"Before/after, same run: interlace from `{saved.get('baseline_src')}` (before) "
              "and from src/ (after).", "", "| mode | before exec/s | after exec/s | after/before |",
              "|---|---|---|---|"]
        for mode in MODES:
            before, after = median_rate(runs[mode][BASELINE]), median_rate(runs[mode]["interlace"])
            change = f"{after / before:.2f}x" if before and after else "-"
            L.append(f"| {mode} | {_cell(runs[mode][BASELINE])} | {_cell(runs[mode]['interlace'])} | {change} |")
    L += ["", f"Command: `{saved['command']}`.", ""]
    for mode, (factor, line) in GOALS.items():
        r = ratio(runs[mode])
        verdict = "not measured" if r is None else ("**met**" if r >= factor else "**NOT met**")
        L.append(f"- {line}: {verdict}" + (f" ({r:.2f}x)" if r is not None else ""))
    return "\n".join(L) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n")[0])
    ap.add_argument("--executions", type=int, default=300, help="budget of every search (default: 300)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and mode; the median is shown")
    ap.add_argument("--out", default=os.path.join(H.ROOT, "docs", "benchmarks.md"),
                    help="the file whose section this run rewrites (default: docs/benchmarks.md)")
    ap.add_argument("--baseline-src", default=None,
                    help="also run interlace from this source tree (before/after a change)")
    a = ap.parse_args(argv)
    venv, why = H.ensure_frontrun_venv()
    write_program()
    runs = measure(a.executions, a.repeat, venv, why, a.baseline_src)
    saved = {"program": H.shown_path(PROGRAM), "executions": a.executions, "repeat": a.repeat,
             "baseline_src": a.baseline_src,
             "command": H.command_line("python -m bench.speed", argv), "machine": H.machine_info(),
             "runs": runs, "ratios": {mode: ratio(runs[mode]) for mode in MODES}}
    return H.publish_section(a.out, HEADING, saved, render, RAW)


if __name__ == "__main__":
    sys.exit(main())
