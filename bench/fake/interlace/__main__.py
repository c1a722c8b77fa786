"""Fake ``python -m interlace run`` (see __init__.py). Not the engine."""
import argparse
import json
import subprocess
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(prog="interlace")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run SCRIPT (fake)")
    r.add_argument("script")
    r.add_argument("--strategy", choices=["pct", "random"], default="pct")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--budget", type=int, default=100)
    r.add_argument("--timeout", type=float, default=60.0)
    r.add_argument("--json")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    first = None
    first_t = None
    n = 0
    kind = None
    for i in range(min(a.budget, 10)):
        n += 1
        try:
            p = subprocess.run([sys.executable, a.script], capture_output=True, timeout=2)
            bad = p.returncode != 0
            kind = kind or ("assertion" if bad else None)
        except subprocess.TimeoutExpired:
            bad, kind = True, "deadlock"
        if bad:
            first, first_t = n, time.perf_counter() - t0
            break
        if time.perf_counter() - t0 > a.timeout:
            break
    out = {"verdict": "bug" if first else "no-bug-found", "kind": kind, "executions": n,
           "executions_to_bug": first, "seconds_to_bug": first_t,
           "seconds": time.perf_counter() - t0, "schedule": [], "model": "fake",
           "strategy": a.strategy, "trace": []}
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh)
    return 1 if first else 0


if __name__ == "__main__":
    sys.exit(main())
