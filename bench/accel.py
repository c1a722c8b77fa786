"""``python -m bench.accel``: the C accelerator against the pure-Python path, side by side.

Every measurement runs both paths in the same harness run, alternating (accelerated, pure,
plain, ...) so that load from other jobs hits both alike; medians of ``--repeat`` runs.
Writes the "Accelerator" section of docs/benchmarks.md (replacing an older one, keeping the
rest of the file) and prints it.

    python -m bench.accel                   # python3 (3.11), pyenv 3.12 and 3.13
    python -m bench.accel --quick           # fewer repeats, smaller loops
    python -m bench.accel --python /path/to/python3.13t --out /tmp/a.md
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

from bench import harness as H

MICRO = H.MICRO

#: Runs K executions of a program under the random policy in one process, with the hooks of
#: this process's choice (INTERLACE_PURE_PYTHON), and prints switches and seconds.
_SWITCHES = r"""
import json, sys, time
from interlace.models import Model
from interlace.runtime.executor import ExecutionSpec, run_execution
from interlace.runtime.policies import PCT, DEFAULT_SCHEDULE, PolicySpec, RandomWalk, Replay
script, k = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
switches = steps = 0
for seed in range(1, k + 1):
    out = run_execution(ExecutionSpec(script, (), Model.FREE_THREADED, RandomWalk(seed)))
    assert not out.failed, out.summary
    switches += out.switches
    steps += out.steps
print(json.dumps({"seconds": time.perf_counter() - t0, "switches": switches, "steps": steps,
                  "executions": k}))
"""

#: Strict alternation between two threads: a pair of _thread locks against the C batons.
_HANDOFF = r"""
import json, os, sys, threading, time, _thread
from interlace import _accel
M = int(sys.argv[1])
if sys.argv[2] == "pin":  # as in an execution (interlace.runtime.threads.pin_to_one_cpu)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
def lock_handoff(to, me):
    to.release()
    me.acquire()
def once(kind):
    if kind == "lock":
        a, b, h = _thread.allocate_lock(), _thread.allocate_lock(), lock_handoff
    else:
        a, b, h = _accel.Baton(), _accel.Baton(), _accel.handoff
    a.acquire(); b.acquire()
    def first():
        for _ in range(M):
            h(b, a)
    def second():
        b.acquire()
        for _ in range(M - 1):
            h(a, b)
        a.release()
    ts = [threading.Thread(target=first), threading.Thread(target=second)]
    t0 = time.perf_counter()
    for t in ts: t.start()
    for t in ts: t.join()
    return 2 * M / (time.perf_counter() - t0)
res = {"lock": [], "cbaton": []}
for _ in range(5):
    for kind in res:
        res[kind].append(once(kind))
print(json.dumps({k: sorted(v)[len(v) // 2] for k, v in res.items()}))
"""


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _env(il: H.Interlace, pure: bool, extra: dict) -> dict:
    env = il.env(extra)
    env["INTERLACE_PURE_PYTHON"] = "1" if pure else ""
    return env


def _accelerated(il: H.Interlace) -> tuple[bool, str]:
    p = H.run_cmd([il.python, "-c", "from interlace.hooks import accelerator as a;"
                   "import interlace._accel as m; print(a() is not None)"], 60, env=_env(il, False, {}))
    if p.rc != 0:
        return False, H.last_line(p.err) or "import failed"
    return p.out.strip() == "True", ""


def _interlace_run(il, script, pure, extra_env, args, timeout) -> tuple[float, dict]:
    out = os.path.join(H.CACHE, f"accel-{os.getpid()}.json")
    cmd = [il.python, "-m", "interlace", "run", script, "--json", out, *args]
    p = H.run_cmd(cmd, timeout, env=_env(il, pure, extra_env), cwd=os.path.dirname(script))
    if p.rc not in (0, 1) or not os.path.exists(out):
        raise RuntimeError(f"interlace run failed ({p.rc}): {H.last_line(p.err)}")
    with open(out) as fh:
        data = json.load(fh)
    os.unlink(out)
    return p.seconds, data


def measure(label: str, python: str, quick: bool, repeat: int) -> dict:
    row: dict = {"python": label, "path": python}
    py, why = H.micro_venv(label.split()[0], python)
    if py is None:
        row["error"] = why
        return row
    il = H.Interlace(py, H.SRC)
    row["version"] = H.interp_version(py)
    ok, why = _accelerated(il)
    if not ok:
        row["error"] = f"accelerator not built for this interpreter ({why or 'pure fallback'}): " \
                       "`pip install -e .` with it"
        return row
    timeout = 600
    loops = {"local": ("local_loop.py", "BENCH_N_LOCAL", 1_000_000 if quick else 3_000_000),
             "attr": ("attr_loop.py", "BENCH_N_ATTR", 300_000 if quick else 1_000_000)}
    for key, (name, var, n) in loops.items():
        script = os.path.join(MICRO, name)
        times = {"plain": [], "accel": [], "pure": [], "plain_1": [], "accel_1": []}
        for _ in range(repeat):
            for size, suffix in ((n, ""), (1, "_1")):
                env = {var: str(size)}
                p = H.run_cmd([py, script], timeout, env=il.env(env))
                if p.rc != 0:
                    raise RuntimeError(f"plain {name} failed: {H.last_line(p.err)}")
                times["plain" + suffix].append(p.seconds)
                times["accel" + suffix].append(_interlace_run(il, script, False, env, ["--budget", "1"], timeout)[0])
                if not suffix:
                    times["pure"].append(_interlace_run(il, script, True, env, ["--budget", "1"], timeout)[0])
        med = {k: _median(v) for k, v in times.items()}
        loop_plain = med["plain"] - med["plain_1"]
        row[key] = {
            "n": n, **med,
            "ratio_accel": med["accel"] / med["plain"], "ratio_pure": med["pure"] / med["plain"],
            "speedup": med["pure"] / med["accel"],
            # the loop alone: start-up (interpreter start, re-exec, imports, fork) subtracted
            "loop_ratio_accel": (med["accel"] - med["accel_1"]) / loop_plain if loop_plain > 0 else None,
        }
        H.log(f"accel {label} {key}: {row[key]}")
    # switches per second: the whole switch path (hook, schedule, policy, hand-off)
    storm = os.path.join(MICRO, "switch_storm.py")
    k = 3 if quick else 5
    storm_env = {"BENCH_N_STORM": "1000" if quick else "3000"}
    sw = {"accel": [], "pure": []}
    for _ in range(repeat):
        for mode in sw:
            p = H.run_cmd([py, "-c", _SWITCHES, storm, str(k)], timeout,
                          env=_env(il, mode == "pure", storm_env))
            if p.rc != 0:
                raise RuntimeError(f"switch storm failed: {H.last_line(p.err)}")
            data = json.loads(p.out)
            sw[mode].append(data)
    row["switch"] = {mode: {"switches": runs[0]["switches"], "executions": k,
                            "switches_per_s": _median([r["switches"] / r["seconds"] for r in runs])}
                     for mode, runs in sw.items()}
    row["switch"]["ratio"] = row["switch"]["accel"]["switches_per_s"] / row["switch"]["pure"]["switches_per_s"]
    H.log(f"accel {label} switches: {row['switch']}")
    # the bare hand-off
    for key, pin in (("handoff", "pin"), ("handoff_2cpu", "nopin")):
        p = H.run_cmd([py, "-c", _HANDOFF, "10000" if quick else "20000", pin], timeout, env=il.env())
        row[key] = json.loads(p.out) if p.rc == 0 else f"error: {H.last_line(p.err)}"
    H.log(f"accel {label} hand-off: {row['handoff']} unpinned {row['handoff_2cpu']}")
    # whole searches: executions/s on a short program, a PCT search on long contended loops
    for key, name, args in (
            ("execs", "two_thread_20.py", ["--budget", "200", "--strategy", "pct"]),
            ("pct_long", "contended_loop.py", ["--budget", "5" if quick else "20", "--strategy", "pct"])):
        script = os.path.join(MICRO, name)
        res = {"accel": [], "pure": []}
        executions = None
        for _ in range(max(1, repeat // 2)):
            for mode in res:
                _, data = _interlace_run(il, script, mode == "pure", {}, args, timeout)
                if data.get("verdict") != "no-bug-found":
                    raise RuntimeError(f"{name}: unexpected verdict {data.get('verdict')}")
                res[mode].append(data["seconds"])
                executions = data["executions"]
        row[key] = {"executions": executions, "accel_s": _median(res["accel"]),
                    "pure_s": _median(res["pure"])}
        row[key]["speedup"] = row[key]["pure_s"] / row[key]["accel_s"]
        H.log(f"accel {label} {key}: {row[key]}")
    return row


def goals(rows: list) -> list:
    """The accelerator's goals on 3.13 (issue text), each met or NOT met in this run."""
    def verdict(ok):
        return "**met**" if ok else "**NOT met**"

    L = []
    for r in rows:
        version = str(r.get("version", ""))
        if "error" in r or not version.startswith("3.13"):
            continue
        f = H.fnum
        a, b, s, h = r["local"]["ratio_accel"], r["attr"]["ratio_accel"], r["switch"]["ratio"], r["handoff"]
        hand = h["cbaton"] / h["lock"] if isinstance(h, dict) else None
        L.append(f"Goals on {version}:")
        L.append("")
        L.append(f"- `interlace run --budget 1` at most 2× on the local-only loop: {verdict(a <= 2)} ({f(a)}×).")
        L.append(f"- at most 5× on the `self.a += 1` loop: {verdict(b <= 5)} ({f(b)}×).")
        if hand is not None:
            L.append(f"- thread hand-off at least 2× the pure-Python hand-off: {verdict(hand >= 2)} "
                     f"({f(hand)}×, pinned as in an execution).")
        L.append(f"- whole switches per second (hook, scheduler, policy and hand-off) at least 2× the "
                 f"pure-Python path: {verdict(s >= 2)} ({f(s)}×)"
                 + ("" if s >= 2 else ": what is left of a switch in Python (the deviation "
                                      "bookkeeping and the transfer) dominates") + ".")
        L.append("")
    return L


def render(rows: list, cmdline: str, quick: bool, repeat: int) -> str:
    f = H.fnum
    L = ["## Accelerator", ""]
    L.append("The C accelerator (`interlace._accel`, see docs/design.md) against the pure-Python "
             "path (`INTERLACE_PURE_PYTHON=1`), measured side by side in one run: each "
             f"measurement alternates the two paths, median of {repeat} runs (whole searches: "
             f"of {max(1, repeat // 2)}). Wall-clock seconds, on the shared 2-core machine.")
    L.append("")
    L.append("- (a) `local_loop.py`, (b) `attr_loop.py`: one worker thread, `interlace run --budget 1` "
             "divided by `python script.py`, both end to end (interpreter start-up, interlace's "
             "re-exec for PYTHONHASHSEED, imports and the fork included). *loop only*: the same "
             "ratio with the start-up of each (the run with a 1-iteration loop) subtracted.")
    L.append("- (d) switches/s: `bench/micro/switch_storm.py` (two threads, `--strategy random`: a "
             "switch at about one scheduling point in four), executions run back to back in one "
             "process; counts the whole switch path (hook, scheduler, policy, hand-off). "
             "Hand-off alone: two threads in strict alternation, a pair of `_thread` locks "
             "(the pure path's baton) against the C batons (`_accel.handoff`, GIL dropped), "
             "pinned to one CPU as executions are (`runtime/threads.py: pin_to_one_cpu`), and "
             "unpinned (each hand-off then wakes the other, idle, CPU).")
    L.append("- whole searches: `two_thread_20.py` (`--budget 200`) and `contended_loop.py` "
             "(two threads × 20,000 `self.a += 1`, PCT; scheduling points between PCT's change "
             "points are counted in C), seconds from `--json`.")
    L.append("")
    L.append("| python | (a) local loop: accel / pure (loop only) | (b) attr loop: accel / pure (loop only) "
             "| (d) switches/s: accel / pure (ratio) | hand-off/s: C baton / lock pair | "
             "two_thread_20 ×200 | contended_loop PCT |")
    L.append("|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            L.append(f"| {r.get('version', r['python'])} | error: {r['error']} | | | | | |")
            continue

        def loop(v):
            return (f"{f(v['ratio_accel'])}× / {f(v['ratio_pure'])}× ({f(v['loop_ratio_accel'])}×); "
                    f"{f(v['accel'])}s / {f(v['pure'])}s / plain {f(v['plain'])}s")

        s = r["switch"]

        def hand(h):
            return (f"{f(h['cbaton'] / 1000)}k / {f(h['lock'] / 1000)}k ({f(h['cbaton'] / h['lock'])}×)"
                    if isinstance(h, dict) else str(h))

        h_t = f"{hand(r['handoff'])}; unpinned: {hand(r.get('handoff_2cpu'))}"

        def search(v):
            return f"{f(v['accel_s'])}s / {f(v['pure_s'])}s ({f(v['speedup'])}× faster)"

        L.append(f"| {r['version']} | {loop(r['local'])} | {loop(r['attr'])} | "
                 f"{f(s['accel']['switches_per_s'])} / {f(s['pure']['switches_per_s'])} ({f(s['ratio'])}×) | "
                 f"{h_t} | {search(r['execs'])} | {search(r['pct_long'])} |")
    L.append("")
    L.append("Reading it: on 3.12+ the loops themselves run at native speed with the accelerator "
             "(planned instructions fire a C callback; after 4,096 no-op callbacks while one "
             "thread runs alone, events go off for that code until another thread can run), so "
             "(a)/(b) are mostly interlace's fixed start-up (two interpreter starts, imports, a "
             "fork: about 0.25 s). On 3.10/3.11 a C trace function still sees every instruction "
             "of user code (no DISABLE there). The bare hand-off is the C baton's gain. Under "
             "`random` every scheduling point is a decision (about four per switch here): C "
             "draws them from the policy's own generator and calls the Python scheduler only "
             "to switch, which is (d)'s gain. Long stretches "
             "where PCT keeps the running thread are counted in C (contended_loop). Executions "
             "of a short program (two_thread_20) cost their fork, not their instructions."
             + (" On a free-threaded build a `_thread` lock hand-off spins (PyMutex), hence the "
                "pure path's low hand-off and switch rates there."
                if any("free-threaded" in str(r.get("version")) for r in rows) else ""))
    L.append("")
    L += goals(rows)
    L.append(f"Loop sizes: local {rows[0].get('local', {}).get('n', '?') if rows else '?'}, "
             f"attr {rows[0].get('attr', {}).get('n', '?') if rows else '?'} iterations"
             + (" (quick mode)" if quick else "") + f". Command: `{cmdline}`.")
    L.append("")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.accel", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, help="runs per measurement (default 5, quick 3)")
    ap.add_argument("--python", action="append", help="interpreter(s) to measure (default: "
                    "python3 and pyenv 3.12/3.13)")
    ap.add_argument("--out", default=os.path.join("docs", "benchmarks.md"))
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite the section from the last run's raw data (bench/.cache/accel-last-run.json)")
    a = ap.parse_args(argv)
    repeat = a.repeat or (3 if a.quick else 5)
    last = os.path.join(H.CACHE, "accel-last-run.json")
    if a.render_only:
        return H.publish_section(a.out, H.ACCEL_HEADING, H.saved_run(last, "python -m bench.accel"), _render_saved)
    pythons = [(os.path.basename(p), p) for p in a.python] if a.python else H.micro_pythons()
    rows = []
    for label, python in pythons:
        try:
            rows.append(measure(label, python, a.quick, repeat))
        except RuntimeError as exc:
            rows.append({"python": label, "error": str(exc)})
    saved = {"rows": rows, "command": H.command_line("python -m bench.accel", argv), "quick": a.quick,
             "repeat": repeat}
    return H.publish_section(a.out, H.ACCEL_HEADING, saved, _render_saved, raw_path=last)


def _render_saved(saved: dict) -> str:
    return render(saved["rows"], saved["command"], saved["quick"], saved["repeat"])

if __name__ == "__main__":
    sys.exit(main())
