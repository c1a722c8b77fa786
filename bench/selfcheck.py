"""``python -m bench --selfcheck``: validate the harness against a FAKE interlace, offline.

Uses bench/fake/interlace (a stand-in that just re-runs the script), the stress
runner, and the frontrun adapter's program splitter (no frontrun needed).
"""
from __future__ import annotations

import glob
import os
import sys
import tempfile

from bench import harness as H

CHECKS = []


def check(name, cond, detail=""):
    CHECKS.append((name, bool(cond), detail))
    print(f"  [{'ok' if cond else 'FAIL'}] {name}" + (f": {detail}" if detail and not cond else ""))


def main():
    from bench.__main__ import main as bench_main

    # 1. adapter splitting works on every corpus program (no frontrun import needed)
    sys.path.insert(0, H.BENCH)
    import frontrun_adapter as FA  # noqa: E402
    sys.path.pop(0)
    for path in sorted(glob.glob(os.path.join(H.CORPUS, "*.py"))):
        try:
            prog = FA.Program(path)
            setup, workers, inv = FA.build(prog)
            ok = len(workers) >= 1
            check(f"adapter splits {os.path.basename(path)} ({len(workers)} workers)", ok)
        except BaseException as e:  # noqa: BLE001
            check(f"adapter splits {os.path.basename(path)}", False, f"{type(e).__name__}: {e}")

    # 2. the fake answers the CLI contract
    il = H.Interlace(sys.executable, H.FAKE)
    strats, why = il.strategies()
    check("fake interlace lists strategies", strats == ["pct", "random"], f"{strats} {why}")
    bug = os.path.join(H.CORPUS, "sct_din_phil2_sat.py")
    t, data, p = il.run(bug, "pct", 0, 5, 10)
    check("fake finds din_phil2_sat", t.found and t.executions_to_bug == 1, f"{t} {p.err[-200:]}")
    # 3. a broken tool is recorded, not raised
    broken = H.Interlace("/nonexistent/python3", H.FAKE)
    t, _, _ = broken.run(bug, "pct", 0, 5, 10)
    check("missing interlace -> error recorded", t.error is not None, str(t))
    # 4. timeout handling
    pr = H.run_cmd([sys.executable, "-c", "import time; time.sleep(30)"], 1)
    check("subprocess timeout kills", pr.timed_out and pr.seconds < 10, str(pr.seconds))

    # 5. end to end on three programs, fake interlace + stress, no network, no micro
    with tempfile.TemporaryDirectory() as td:
        corpus = os.path.join(td, "corpus")
        os.makedirs(corpus)
        for n in ("sct_din_phil2_sat", "sct_account_ok", "sct_deadlock01_bad"):
            with open(os.path.join(H.CORPUS, n + ".py")) as src, open(os.path.join(corpus, n + ".py"), "w") as dst:
                dst.write(src.read())
        out = os.path.join(td, "bench.md")
        rc = bench_main(["--quick", "--tools", "interlace,stress", "--corpus", corpus, "--out", out,
                         "--no-micro", "--interlace-pythonpath", H.FAKE, "--time-budget", "240"])
        check("end-to-end exit 0", rc == 0, str(rc))
        text = open(out).read() if os.path.exists(out) else ""
        check("report has table", "| program | expect | ratio vs stress" in text)
        check("report has machine section", "## Machine" in text and "CPU model" in text and "command:" in text)
        row = [ln for ln in text.splitlines() if ln.startswith("| sct_din_phil2_sat")]
        check("bug program found by fake", row and "yes" in row[0], row[0] if row else "no row")
        row = [ln for ln in text.splitlines() if ln.startswith("| sct_account_ok")]
        check("no false alarm on safe program", row and "FALSE ALARM" not in row[0], row[0] if row else "no row")
        check("totals row", "**totals**" in text)
    failed = sum(1 for _, ok, _ in CHECKS if not ok)
    print(f"selfcheck: {len(CHECKS) - failed} passed, {failed} failed")
    return 1 if failed else 0
