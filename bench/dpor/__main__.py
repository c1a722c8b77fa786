"""``python -m bench.dpor``: interlace's DPOR against frontrun 0.7.0's, exhausting the same programs.

For each program of :mod:`bench.dpor.cases` and each preemption bound (2, both tools' default,
and none), both tools run the same setup/workers/invariant to the end of their search; the
table gives executions and seconds (median of ``--repeat`` runs, one after the other, in one
run of this command) and the ratios.  A search that does not end within ``--timeout`` is
reported as such, with how far it got.  Writes the "Systematic search against frontrun"
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from .. import harness as H
from .cases import CASES

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_ONE = os.path.join(HERE, "run_one.py")
BOUNDS = ("2", "none")


def _once(tool: str, case: str, bound: str, timeout: float, venv: str) -> dict:
    if tool == "interlace":
        env = dict(os.environ, PYTHONPATH=os.path.join(H.ROOT, "src"))
        cmd = [sys.executable, RUN_ONE, tool, case, bound, str(timeout)]
    else:
        env = dict(os.environ)
        cmd = [os.path.join(venv, "bin", "frontrun"), os.path.join(venv, "bin", "python"),
               RUN_ONE, tool, case, bound, str(timeout)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        return {"error": "killed: no answer"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": H.last_line(proc.stderr) or f"exit {proc.returncode}"}
    return json.loads(lines[-1])


def measure(tool, case, bound, timeout, repeat, venv) -> dict:
    runs = [_once(tool, case, bound, timeout, venv)]
    if "error" not in runs[0] and runs[0]["exhausted"]:  # a timed-out search is not repeated
        runs += [_once(tool, case, bound, timeout, venv) for _ in range(repeat - 1)]
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    out = dict(good[0])
    out["seconds"] = statistics.median(r["seconds"] for r in good)
    out["executions"] = statistics.median(r["executions"] for r in good if r["executions"] is not None) \
        if any(r["executions"] is not None for r in good) else None
    return out


def _cell(r: dict, timeout: float) -> str:
    if "error" in r:
        return f"error: {r['error'][:60]}"
    ex = r["executions"]
    ex = f"{ex:g}" if isinstance(ex, (int, float)) else "?"
    if not r["exhausted"]:
        return f"not exhausted in {timeout:g} s ({ex} executions)"
    return f"{ex} executions, {r['seconds']:.2f} s"


def _ratio(a: dict, b: dict, key: str) -> str:
    if "error" in a or "error" in b or not (a.get("exhausted") and b.get("exhausted")):
        return "-"
    if not a.get(key) or not b.get(key):
        return "-"
    return f"{a[key] / b[key]:.2f}×"


def render(rows: list, cmdline: str, timeout: float, repeat: int) -> str:
    L = [H.DPOR_HEADING, "",
         "Both tools exhaust the same programs (`bench/dpor/cases.py`, one setup/workers/invariant "
         "for both) with their systematic search. Ratios are interlace / frontrun (below 1× = "
         "interlace needs fewer executions or less time). \"Classes\" is how many interleaving "
         "classes the program has (every order of the critical sections); a search that runs "
         "fewer executions than that without a bound has skipped some.", "",
         "| program | bound | classes | interlace | frontrun 0.7.0 | executions ratio | time ratio |",
         "|---|---|---|---|---|---|---|"]
    for row in rows:
        il, fr = row["interlace"], row["frontrun"]
        classes = row["classes"]
        note = ""
        if row["bound"] == "none" and classes and fr.get("exhausted") and (fr.get("executions") or 0) < classes:
            note = f" (skips {classes - fr['executions']:g} classes)"
        L.append(f"| {row['case']} | {row['bound']} | {classes or '?'} | {_cell(il, timeout)} | "
                 f"{_cell(fr, timeout)}{note} | {_ratio(il, fr, 'executions')} | "
                 f"{_ratio(il, fr, 'seconds')} |")
    L += ["", f"Median of {repeat} runs; timeout {timeout:g} s per search. Command: `{cmdline}`.", ""]
    L += goals(rows)
    return "\n".join(L)


def goals(rows: list) -> list:
    """Goal: never more executions than frontrun, and less time; each row met or NOT met, and why."""
    L = ["Goal: never more executions than frontrun, and less time.", ""]
    for row in rows:
        il, fr, classes = row["interlace"], row["frontrun"], row["classes"]
        what = f"{row['case']}, bound {row['bound']}"
        if "error" in il or "error" in fr:
            L.append(f"- {what}: not measured (an error, see the table).")
        elif not (il.get("exhausted") and fr.get("exhausted")):
            rate = ""
            if il.get("executions") and fr.get("executions") and il.get("seconds") and fr.get("seconds"):
                rate = (f"; executions per second: interlace {il['executions'] / il['seconds']:.0f}, "
                        f"frontrun {fr['executions'] / fr['seconds']:.0f}")
            L.append(f"- {what}: no verdict: neither search exhausted the program within the timeout{rate}.")
        else:
            met = il["executions"] <= fr["executions"] and il["seconds"] < fr["seconds"]
            why = ""
            if not met and classes and fr["executions"] < classes and row["bound"] == "none":
                why = (f": frontrun runs fewer executions than the program has interleaving classes "
                       f"({fr['executions']:g} of {classes}), so it never tries some orders; interlace "
                       f"runs exactly one execution per class ({il['executions']:g})")
            L.append(f"- {what}: {'**met**' if met else '**NOT met**'}{why}.")
    L.append("")
    return L


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.dpor", description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--out", default=os.path.join(H.ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite the section from the last run's raw data (bench/.cache/dpor-last-run.json)")
    a = ap.parse_args(argv)
    last = os.path.join(H.CACHE, "dpor-last-run.json")
    if a.render_only:
        return H.publish_section(a.out, H.DPOR_HEADING, H.saved_run(last, "python -m bench.dpor"), _render_saved)
    venv, why = H.ensure_frontrun_venv()
    rows = []
    for case, (_, _, classes) in CASES.items():
        for bound in BOUNDS:
            row = {"case": case, "bound": bound, "classes": classes}
            for tool in ("interlace", "frontrun"):
                row[tool] = measure(tool, case, bound, a.timeout, a.repeat, venv) if (
                    tool == "interlace" or venv) else {"error": why}
                H.log(f"{case} bound {bound} {tool}: {row[tool]}")
            rows.append(row)
    saved = {"rows": rows, "command": H.command_line("python -m bench.dpor", argv), "timeout": a.timeout,
             "repeat": a.repeat}
    return H.publish_section(a.out, H.DPOR_HEADING, saved, _render_saved, raw_path=last)


def _render_saved(saved: dict) -> str:
    return render(saved["rows"], saved["command"], saved["timeout"], saved["repeat"])

if __name__ == "__main__":
    sys.exit(main())
