"""``python -m bench``: run the benchmark and write docs/benchmarks.md."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from bench import harness as H

TOOLS = ("interlace", "stress", "frontrun")
DEFAULT_OUT = os.path.join("docs", "benchmarks.md")


def parse(argv):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer seeds/runs (smoke test, ~5 min)")
    ap.add_argument("--only", help="only programs whose name contains this")
    ap.add_argument("--tools", default="interlace,stress,frontrun", help="comma list of interlace,stress,frontrun")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--corpus", default=H.CORPUS)
    ap.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    ap.add_argument("--seeds", type=int, help="seeds per randomized tool (default 5, quick 2)")
    ap.add_argument("--selfcheck", action="store_true", help="validate the harness on a fake interlace (no network)")
    ap.add_argument("--interlace-pythonpath", default=H.SRC, help=argparse.SUPPRESS)
    ap.add_argument("--time-budget", type=float, help="harness wall-time budget in seconds (default 1680, quick 280)")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite the report from the last run's raw data (bench/.cache/last-run.json) without running anything")
    a = ap.parse_args(argv)
    a.tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    bad = [t for t in a.tools if t not in TOOLS]
    if bad:
        ap.error(f"unknown tool(s): {bad}")
    return a


def params(quick):
    if quick:
        return dict(seeds=2, safe_seeds=1, il_budget=300, il_timeout=5, stress_runs=20, stress_timeout=3.0,
                    fr_budget=300, fr_timeout=20, micro_env={"BENCH_N_LOCAL": "300000", "BENCH_N_ATTR": "100000"},
                    micro_timeout=120, time_budget=280)
    return dict(seeds=5, safe_seeds=2, il_budget=1000, il_timeout=10, stress_runs=200, stress_timeout=5.0,
                fr_budget=1000, fr_timeout=60, micro_env={}, micro_timeout=400, time_budget=1680)


class Clock:
    def __init__(self, budget):
        self.t0 = time.monotonic()
        self.budget = budget

    def left(self):
        return self.budget - (time.monotonic() - self.t0)

    def over(self):
        return self.left() <= 0


SKIP = "skipped: harness time budget exhausted"


def run_all(a, P, interlace_pythonpath, programs, clock):
    results = {}  # (prog, column) -> Cell
    columns = []
    notes = []
    meta = {"stress_runner": None, "interpreters": {}, "frontrun": None}

    # ---------------------------------------------------------------- interlace
    if "interlace" in a.tools:
        il = H.Interlace(sys.executable, interlace_pythonpath)
        strats, why = il.strategies()
        if not strats:
            columns.append("interlace")
            notes.append(f"interlace unavailable: {why}")
            for p in programs:
                results[(p.name, "interlace")] = H.Cell([H.Trial(error="interlace unavailable (see note)")])
        for s in strats:
            col = f"interlace {s}"
            columns.append(col)
            for p in programs:
                cell = H.Cell()
                # a safe program runs to the --timeout every time: fewer seeds there
                nseeds = a.seeds if p.expect == "bug" else min(a.seeds, P["safe_seeds"])
                for seed in range(nseeds):
                    if clock.over():
                        cell.trials.append(H.Trial(error=SKIP))
                        break
                    t, _, _ = il.run(p.path, s, seed, P["il_budget"], P["il_timeout"])
                    cell.trials.append(t)
                results[(p.name, col)] = cell
                H.log(f"{col:18s} {p.name}: found {cell.found_count}/{len(cell.trials)} {cell.errors()[:1]}")

    # ---------------------------------------------------------------- frontrun
    if "frontrun" in a.tools:
        venv, why = H.ensure_frontrun_venv()
        meta["frontrun"] = why or f"frontrun=={H.FRONTRUN_VERSION} in {os.path.relpath(H.FRONTRUN_VENV, H.ROOT)}"
        for s in ("dpor", "random"):
            col = f"frontrun {s}"
            columns.append(col)
            for p in programs:
                # DPOR is deterministic: one run; safe programs: fewer seeds
                seeds = [0] if s == "dpor" else list(range(a.seeds if p.expect == "bug" else min(a.seeds, P["safe_seeds"])))
                cell = H.Cell()
                for seed in seeds:
                    if venv is None:
                        cell.trials.append(H.Trial(error=why))
                        break
                    if clock.over():
                        cell.trials.append(H.Trial(error=SKIP))
                        break
                    cell.trials.append(H.frontrun_run(venv, p.path, s, seed, P["fr_budget"], P["fr_timeout"]))
                results[(p.name, col)] = cell
                H.log(f"{col:18s} {p.name}: found {cell.found_count}/{len(cell.trials)} {cell.errors()[:1]}")

    # ---------------------------------------------------------------- stress
    if "stress" in a.tools:
        run_stress, src = H._load_run_stress()
        meta["stress_runner"] = src
        pys = H.find_pythons()
        if not pys:
            notes.append("stress: no interpreter found (pyenv 3.9.18 / 3.13.0 / free-threaded)")
        for label, py in pys:
            meta["interpreters"][py] = H.interp_version(py)
            col = f"stress {label}"
            columns.append(col)
            for p in programs:
                if clock.over():
                    t = H.Trial(error=SKIP)
                else:
                    t = H.stress_program(run_stress, p.path, py, P["stress_runs"], P["stress_timeout"])
                results[(p.name, col)] = H.Cell([t])
                H.log(f"{col:18s} {p.name}: found={t.found} runs={t.executions} {t.error or ''}")
    return results, columns, notes, meta


def run_micro(a, P, interlace_pythonpath, clock):
    rows = []
    strats, why = H.Interlace(sys.executable, interlace_pythonpath).strategies()
    if not strats:
        return [{"python": "all", "error": f"interlace unavailable: {why}"}]
    for label, base in H.micro_pythons():
        row = {"python": label, "path": base}
        rows.append(row)
        if clock.over():
            row["error"] = SKIP
            continue
        py, why = H.micro_venv(label.split()[0], base)
        if py is None:
            row["error"] = why
            continue
        row["version"] = H.interp_version(py)
        il = H.Interlace(py, interlace_pythonpath)
        env = il.env(P["micro_env"])
        for key, script in (("local", "local_loop.py"), ("attr", "attr_loop.py")):
            path = os.path.join(H.MICRO, script)
            plain = H.run_cmd([py, path], P["micro_timeout"], env=env)
            if plain.rc != 0:
                row[key] = f"error: plain run exit {plain.rc} {H.last_line(plain.err)}"
                continue
            t, data, proc = il.run(path, "pct", 0, 1, P["micro_timeout"], extra_env=P["micro_env"])
            if t.error:
                row[key] = f"error: {t.error}"
                continue
            row[key] = {"plain_s": plain.seconds, "interlace_s": proc.seconds,
                        "ratio": proc.seconds / plain.seconds if plain.seconds else None,
                        "interlace_json_s": data.get("seconds")}
        # (c) executions/s on a safe 2-thread, 20-step program
        t, data, proc = il.run(os.path.join(H.MICRO, "two_thread_20.py"), "pct", 0, 200, P["micro_timeout"])
        if t.error:
            row["execs"] = f"error: {t.error}"
        else:
            secs = data.get("seconds") or proc.seconds
            ex = data.get("executions") or 0
            row["execs"] = {"executions": ex, "seconds": secs, "per_s": ex / secs if secs else None,
                            "found": t.found}
            row["accelerated"] = data.get("accelerated")
        # (d) switches/s on a ping-pong program under random
        t, data, proc = il.run(os.path.join(H.MICRO, "pingpong.py"), "random", 0, 50, P["micro_timeout"])
        if t.error:
            row["switch"] = f"error: {t.error}"
        else:
            secs = data.get("seconds") or proc.seconds
            ex = data.get("executions") or 0
            row["switch"] = {"executions": ex, "seconds": secs,
                             "per_s": ex / secs if secs else None, "found": t.found}
        H.log(f"micro {label}: {row}")
    return rows


# ------------------------------------------------------------------------------ report


def cell_text(cell, expect):
    if cell is None:
        return "-"
    n = len(cell.trials)
    if cell.found:
        k = cell.found_count
        ex = H.fnum(cell.median("executions_to_bug"))
        s = H.fnum(cell.median("seconds_to_bug"))
        tag = "**FALSE ALARM** " if expect == "safe" else "yes "
        txt = f"{tag}{k}/{n} · {ex} ex · {s}s"
        errs = cell.errors()
        if errs:
            txt += f" ({len(errs)} err)"
        return txt
    errs = cell.errors()
    if errs and len(errs) == n:
        return "error: " + errs[0].replace("|", "/")[:70]
    txt = f"no 0/{n}"
    if errs:
        txt += f" ({len(errs)} err: {errs[0].replace('|', '/')[:40]})"
    return txt


def best(results, prog, cols, attr="seconds_to_bug"):
    vals = [results[(prog, c)].median(attr) for c in cols if (prog, c) in results and results[(prog, c)].found]
    vals = [v for v in vals if v is not None]
    return min(vals) if vals else None


def ratio_text(il, other, il_found, other_found):
    if il is not None and other is not None:
        return H.fnum(il / other if other else float("inf"), 2) + "×"
    if il_found and not other_found:
        return "only interlace"
    if other_found and not il_found:
        return "only other"
    return "-"


#: the strategy ``interlace run`` uses when none is given
DEFAULT_STRATEGY = "interlace pct"


def median_time_to_bug(programs, results, col):
    meds = [results[(p.name, col)].median("seconds_to_bug") for p in programs
            if p.expect == "bug" and (p.name, col) in results and results[(p.name, col)].found]
    meds = [m for m in meds if m is not None]
    return statistics.median(meds) if meds else None


def goals(programs, results, il_cols, fr_cols, micro):
    """The benchmark's stated goals, each with met / NOT met, from this run's numbers."""
    def verdict(ok):
        return "**met**" if ok else "**NOT met**"

    bugs = [p for p in programs if p.expect == "bug"]
    safe = [p for p in programs if p.expect == "safe"]
    L = ["## Goals", ""]
    if DEFAULT_STRATEGY in il_cols:
        found = [p for p in bugs if results[(p.name, DEFAULT_STRATEGY)].found_count
                 == len(results[(p.name, DEFAULT_STRATEGY)].trials)]
        L.append(f"- Every corpus bug found by the default strategy (pct) in every seed: "
                 f"{verdict(len(found) == len(bugs))} ({len(found)}/{len(bugs)} programs).")
    alarms = [(p.name, c) for p in safe for c in il_cols if results[(p.name, c)].found]
    L.append(f"- No false alarms (any interlace strategy, any seed, on the safe programs): "
             f"{verdict(not alarms)} ({len(alarms)}{': ' + ', '.join(f'{n} ({c})' for n, c in alarms) if alarms else ''}).")
    il_med = median_time_to_bug(programs, results, DEFAULT_STRATEGY)
    for col in fr_cols:
        fr_med = median_time_to_bug(programs, results, col)
        if il_med is None or fr_med is None:
            continue
        both = [p for p in bugs if results[(p.name, col)].found and results[(p.name, DEFAULT_STRATEGY)].found]
        il_both = median_time_to_bug(both, results, DEFAULT_STRATEGY)
        fr_both = median_time_to_bug(both, results, col)
        fr_found = sum(1 for p in bugs if results[(p.name, col)].found)
        L.append(f"- Median time to bug below frontrun's ({col}, over the {fr_found} bugs it finds; interlace pct "
                 f"over all it finds): {verdict(il_med < fr_med)} ({H.fnum(il_med)}s vs {H.fnum(fr_med)}s, "
                 f"{H.fnum(il_med / fr_med, 2)}×; on the {len(both)} bugs both find: {H.fnum(il_both)}s vs "
                 f"{H.fnum(fr_both)}s, {H.fnum(il_both / fr_both, 2)}×).")
    for row in micro or []:
        local = row.get("local")
        if isinstance(local, dict) and local.get("ratio"):
            L.append(f"- Overhead on the local-only loop at most 6× ({row.get('version', row['python'])}): "
                     f"{verdict(local['ratio'] <= 6)} ({H.fnum(local['ratio'], 3)}×).")
    L.append("")
    return L


def render(a, P, programs, results, columns, notes, meta, micro, cmdline, wall, generated):
    il_cols = [c for c in columns if c.startswith("interlace")]
    st_cols = [c for c in columns if c.startswith("stress")]
    fr_cols = [c for c in columns if c.startswith("frontrun")]
    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append(f"Generated by `python -m bench` on {generated} "
             f"({'quick' if a.quick else 'full'} mode, {wall:.0f}s wall). Raw data: "
             f"`{os.path.relpath(raw_data_path(a.out), H.ROOT)}`.")
    L.append("")
    L.extend(goals(programs, results, il_cols, fr_cols, micro))
    L.append("## Corpus: bugs found and time to first failure")
    L.append("")
    L.append("Ratios are interlace's best median seconds-to-first-failure divided by the other tool's best "
             "(below 1× = interlace is faster). Cells: found in k/n seeds · median executions to the first failure "
             "· median seconds to the first failure. `stress` counts plain runs (seconds are summed run times).")
    L.append("")
    head = ["program", "expect", "ratio vs stress", "ratio vs frontrun"] + columns
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * len(head))
    for p in programs:
        il_b = best(results, p.name, il_cols)
        il_f = any(results[(p.name, c)].found for c in il_cols if (p.name, c) in results)
        il_ok = any(results[(p.name, c)].ok_trials() for c in il_cols if (p.name, c) in results)
        rs = rf = "-"
        if p.expect == "bug":
            st_b = best(results, p.name, st_cols)
            fr_b = best(results, p.name, fr_cols)
            st_f = any(results[(p.name, c)].found for c in st_cols if (p.name, c) in results)
            fr_f = any(results[(p.name, c)].found for c in fr_cols if (p.name, c) in results)
            rs = ratio_text(il_b, st_b, il_f, st_f) if il_cols and st_cols and il_ok else "-"
            rf = ratio_text(il_b, fr_b, il_f, fr_f) if il_cols and fr_cols and il_ok else "-"
        row = [p.name, p.expect, rs, rf] + [cell_text(results.get((p.name, c)), p.expect) for c in columns]
        L.append("| " + " | ".join(row) + " |")
    # totals
    nbug = sum(1 for p in programs if p.expect == "bug")
    tot = ["**totals**", f"{nbug} bug / {len(programs) - nbug} safe", "", ""]
    for c in columns:
        found = sum(1 for p in programs if p.expect == "bug" and results[(p.name, c)].found)
        fa = sum(1 for p in programs if p.expect == "safe" and results[(p.name, c)].found)
        errs = sum(1 for p in programs if results[(p.name, c)].errors() and not results[(p.name, c)].found)
        meds = [results[(p.name, c)].median("seconds_to_bug") for p in programs
                if p.expect == "bug" and results[(p.name, c)].found]
        meds = [m for m in meds if m is not None]
        med = H.fnum(statistics.median(meds)) + "s" if meds else "-"
        tot.append(f"{found}/{nbug} found · {fa} false alarms · median {med} · {errs} err")
    L.append("| " + " | ".join(tot) + " |")
    L.append("")
    for n in notes:
        L.append(f"- note: {n}")
    L.append("")
    L.append("Settings: " + ", ".join(f"{k}={v}" for k, v in P.items() if k not in ("micro_env", "seeds"))
             + f", seeds={a.seeds}. interlace: `python -m interlace run SCRIPT --strategy S --seed N "
             f"--budget {P['il_budget']} --timeout {P['il_timeout']} --json OUT` (PYTHONPATH=src). "
             f"frontrun: one generic adapter (`bench/frontrun_adapter.py`, see bench/README.md), DPOR run once "
             f"(deterministic), random with {a.seeds} seeds, budget {P['fr_budget']}; `inconclusive` = frontrun "
             f"gave up on a run (e.g. a thread blocked outside its scheduler). stress: runner "
             f"`{meta.get('stress_runner')}`, up to {P['stress_runs']} runs, `sys.setswitchinterval(1e-6)` "
             f"(the smallest value CPython stores), {P['stress_timeout']}s per run (a hang counts as a deadlock "
             f"found), runs in chunks 2, 4, 8, … stopping at the first failing chunk.")
    L.append("")
    # micro
    if micro is not None:
        L.append("## Engine micro-benchmarks")
        L.append("")
        L.append("(a)/(b): wall time of `interlace run --budget 1` divided by the plain `python script.py` wall time "
                 "(both include interpreter start-up). (c): executions per second with `--budget 200` on a safe "
                 "two-thread, 20-step program. (d): executions per second of a 2-thread ping-pong through a Condition "
                 "under `--strategy random`; every execution hands the token over 400 times, so it makes at least "
                 "400 thread switches (switches/s of the hooks themselves: see Accelerator). The (a)-(d) rows "
                 "import interlace from src/, with bytecode caches allowed (as in an installed package) and the "
                 "C accelerator where it is built for that interpreter (column `accel`).")
        if a.quick:
            L.append("Quick mode scales loop sizes down (" + ", ".join(f"{k}={v}" for k, v in P["micro_env"].items()) + ").")
        L.append("")
        L.append("| python | accel | (a) local loop ratio | (b) attr loop ratio | (c) executions/s | (d) ping-pong executions/s |")
        L.append("|---|---|---|---|---|---|")
        for r in micro:
            if "error" in r:
                L.append(f"| {r['python']} | | error: {r['error']} | | | |")
                continue

            def rat(v):
                if isinstance(v, dict):
                    return f"{H.fnum(v['ratio'], 3)}× ({H.fnum(v['interlace_s'])}s / {H.fnum(v['plain_s'])}s)"
                return str(v)

            ex = r.get("execs")
            ex_t = (f"{H.fnum(ex['per_s'])} ({ex['executions']} in {H.fnum(ex['seconds'])}s)"
                    + (" **bug reported on a safe program**" if ex.get("found") else "")) if isinstance(ex, dict) else str(ex)
            sw = r.get("switch")
            if isinstance(sw, dict):
                sw_t = f"{H.fnum(sw['per_s'])} ({sw['executions']} in {H.fnum(sw['seconds'])}s, ≥{H.fnum(400 * sw['per_s'])} switches/s)"
            else:
                sw_t = str(sw)
            accel = {True: "yes", False: "no"}.get(r.get("accelerated"), "?")
            L.append(f"| {r.get('version', r['python'])} | {accel} | {rat(r.get('local'))} | {rat(r.get('attr'))} | {ex_t} | {sw_t} |")
        L.append("")
    # machine
    L.append("## Machine")
    L.append("")
    L.extend(H.machine_info())
    L.append(f"- interlace interpreter: {H.shown_path(sys.executable)} ({H.interp_version(sys.executable)})")
    for py, v in meta.get("interpreters", {}).items():
        L.append(f"- stress interpreter: {H.shown_path(py)} ({v})")
    if meta.get("frontrun"):
        L.append(f"- frontrun: {meta['frontrun']}")
    L.append(f"- command: `{cmdline}`")
    L.append("")
    return "\n".join(L)


def to_jsonable(results):
    out = {}
    for (p, c), cell in results.items():
        out.setdefault(p, {})[c] = [t.__dict__ for t in cell.trials]
    return out


def raw_data_path(out: str) -> str:
    """Where a run's raw data goes: bench/.cache/last-run.json for docs/benchmarks.md, beside
    the report otherwise (so a --selfcheck or a side report never replaces the real run's)."""
    if os.path.abspath(out) == os.path.abspath(os.path.join(H.ROOT, DEFAULT_OUT)):
        return os.path.join(H.CACHE, "last-run.json")
    return out + ".raw.json"


def load_last_run(programs, path):
    """The raw data ``python -m bench`` saved, back in the shapes ``render`` takes."""
    data = H.saved_run(path, "python -m bench")
    raw = data["results"]
    results = {(p, c): H.Cell([H.Trial(**t) for t in trials]) for p, cols in raw.items() for c, trials in cols.items()}
    missing = [p.name for p in programs if p.name not in raw]
    if missing:
        raise SystemExit(f"--render-only: the last run has no results for {', '.join(missing)}")
    # runs saved before the column order was stored: the order the results were recorded in
    columns = data.get("columns") or list(next(iter(raw.values())).keys())
    wall = data.get("wall") or 0.0
    cmdline = data.get("command") or "python -m bench"
    generated = data.get("generated") or time.strftime(
        "%Y-%m-%d %H:%M:%S %Z", time.localtime(os.path.getmtime(path)))
    return (results, columns, data.get("notes") or [], data["meta"], data.get("micro"), data["params"], wall,
            cmdline, generated)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    a = parse(argv)
    if a.selfcheck:
        from bench import selfcheck
        return selfcheck.main()
    P = params(a.quick)
    if a.seeds is None:
        a.seeds = P["seeds"]
    if a.time_budget is not None:
        P["time_budget"] = a.time_budget
    clock = Clock(P["time_budget"])
    cmdline = H.command_line("python -m bench", argv)
    programs = H.load_programs(a.corpus, a.only)
    if not programs:
        print(f"no programs in {a.corpus} matching {a.only!r}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    if a.render_only:
        results, columns, notes, meta, micro, P, wall, cmdline, generated = load_last_run(programs, raw_data_path(a.out))
        a.seeds = P.get("seeds", a.seeds)
        a.quick = P.get("time_budget") == params(True)["time_budget"] and P.get("seeds") == params(True)["seeds"]
    else:
        results, columns, notes, meta = run_all(a, P, a.interlace_pythonpath, programs, clock)
        micro = None
        if "interlace" in a.tools and not a.no_micro and not a.only:
            micro = run_micro(a, P, a.interlace_pythonpath, clock)
        wall = time.monotonic() - t0
    if not a.render_only:
        generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    text = render(a, P, programs, results, columns, notes, meta, micro, cmdline, wall, generated)
    out = a.out if os.path.isabs(a.out) else os.path.join(os.getcwd(), a.out)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    text = H.carry_over(out, text)  # the sections other commands (and people) wrote
    with open(out, "w") as fh:
        fh.write(text)
    if not a.render_only:
        try:
            os.makedirs(H.CACHE, exist_ok=True)
            with open(raw_data_path(out), "w") as fh:
                json.dump({"results": to_jsonable(results), "micro": micro, "meta": meta, "params": P,
                           "columns": columns, "notes": notes, "wall": wall, "command": cmdline,
                           "generated": generated}, fh,
                          indent=1, default=str)
        except OSError:
            pass
    H.log(f"wrote {out} in {wall:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
