"""Issue 15's mechanism programs (tests/trust_programs): does each strategy find the bug,
what does dpor say, and does the printed token replay 10 times out of 10?

    python -m bench.trust [--python PY] [--replays 10] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "trust_programs"


def _run(python: str, *args: str, timeout: float = 600) -> tuple[int, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        proc = subprocess.run([python, "-m", "interlace", *args, "--json", out], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
        data = json.load(open(out)) if os.path.exists(out) else {"stderr": proc.stderr[-2000:]}
        return proc.returncode, data


def measure(python: str, name: str, replays: int) -> dict:
    script = str(PROGRAMS / name)
    row: dict = {"program": name}
    code, res = _run(python, "run", script, "--timeout", "40")
    row["default"] = f"{res.get('verdict')} (exit {code}, {res.get('executions')} executions)"
    token = (res.get("schedule") or {}).get("token") if isinstance(res.get("schedule"), dict) \
        else res.get("schedule")
    kind = res.get("kind")
    row["default_kind"] = kind
    row["default_warnings"] = [w[:80] for w in res.get("warnings") or []]
    code, res = _run(python, "run", script, "--strategy", "dpor", "--timeout", "40")
    row["dpor"] = f"{res.get('verdict')} (exit {code}, {res.get('executions')} executions)"
    row["dpor_kind"] = res.get("kind")
    row["dpor_warnings"] = [w[:80] for w in res.get("warnings") or []]
    if token:
        same = 0
        for _ in range(replays):
            code, rep = _run(python, "replay", "--schedule", token, script)
            same += rep.get("verdict") == "bug" and rep.get("kind") == kind
        row["replay"] = f"{same}/{replays}"
    else:
        row["replay"] = "-"
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--replays", type=int, default=10)
    args = parser.parse_args()
    names = args.names or sorted(p.name for p in PROGRAMS.glob("*.py") if not p.name.startswith("trust_"))
    for name in names:
        print(json.dumps(measure(args.python, name, args.replays)), flush=True)


if __name__ == "__main__":
    main()
