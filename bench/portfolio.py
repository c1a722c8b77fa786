"""The default strategy (the portfolio) on the corpus's safe programs and on the reorder
programs of tests/portfolio_programs: verdict, stop reason, executions, seconds.

Usage: python bench/portfolio.py [--seed N]   (each program once, default settings)
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(program: Path, *args: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        subprocess.run([sys.executable, "-m", "interlace", "run", str(program), "--json", str(out),
                        *args], capture_output=True, text=True, cwd=ROOT)
        return json.loads(out.read_text())


def main() -> None:
    seed = sys.argv[sys.argv.index("--seed") + 1] if "--seed" in sys.argv else "0"
    cases = [(p, ()) for p in sorted((ROOT / "tests" / "corpus").glob("*_ok.py"))]
    cases += [(ROOT / "tests" / "portfolio_programs" / "reorder_n.py", ("--", str(n))) for n in (4, 10, 20)]
    cases += [(ROOT / "tests" / "portfolio_programs" / "reorder_n_locked.py", ("--", "4"))]
    print("| program | verdict | stopped by | executions | found by | seconds |")
    print("|---|---|---|---|---|---|")
    for program, extra in cases:
        data = run(program, "--seed", seed, *extra)
        name = program.stem + (f" {extra[-1]}" if extra else "")
        print(f"| {name} | {data['verdict']} | {data['stopped_by']} | {data['executions']} | "
              f"{data.get('found_by') or ''} | {data['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
