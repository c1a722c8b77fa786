"""Benchmark harness: interlace vs plain stress testing vs frontrun 0.7.0.

Entry point: ``python -m bench`` (see bench/README.md).
"""
from __future__ import annotations

import glob
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
SRC = os.path.join(ROOT, "src")
CACHE = os.path.join(BENCH, ".cache")
CORPUS = os.path.join(ROOT, "tests", "corpus")
MICRO = os.path.join(BENCH, "micro")
FAKE = os.path.join(BENCH, "fake")
FRONTRUN_VERSION = "0.7.0"
FRONTRUN_VENV = os.path.join(CACHE, "venv-frontrun")
ADAPTER = os.path.join(BENCH, "frontrun_adapter.py")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- subprocess


@dataclass
class Proc:
    rc: Optional[int]
    out: str
    err: str
    seconds: float
    timed_out: bool


def run_cmd(cmd, timeout, env=None, cwd=None) -> Proc:
    """Run with a hard timeout; kill the whole process group on expiry."""
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env, cwd=cwd, start_new_session=True)
    except OSError as e:
        return Proc(None, "", f"{type(e).__name__}: {e}", 0.0, False)
    try:
        out, err = p.communicate(timeout=timeout)
        return Proc(p.returncode, out, err, time.perf_counter() - t0, False)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            out, err = p.communicate(timeout=5)
        except Exception:  # noqa: BLE001
            out, err = "", ""
        return Proc(None, out or "", err or "", time.perf_counter() - t0, True)


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1][:160] if lines else ""


# --------------------------------------------------------------------------- programs


@dataclass
class Program:
    name: str
    path: str
    expect: str  # "bug" | "safe"


def load_programs(corpus: str, only: Optional[str]) -> list[Program]:
    progs = []
    for path in sorted(glob.glob(os.path.join(corpus, "*.py"))):
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
        expect = "bug" if "expect: bug" in first else "safe" if "expect: safe" in first else "?"
        name = os.path.splitext(os.path.basename(path))[0]
        if only and only not in name:
            continue
        progs.append(Program(name, path, expect))
    return progs


# --------------------------------------------------------------------------- results


@dataclass
class Trial:
    found: bool = False
    executions_to_bug: Optional[float] = None
    seconds_to_bug: Optional[float] = None
    executions: Optional[float] = None
    seconds: Optional[float] = None
    error: Optional[str] = None
    note: Optional[str] = None


@dataclass
class Cell:
    trials: list = field(default_factory=list)

    def ok_trials(self):
        return [t for t in self.trials if t.error is None]

    @property
    def found_count(self):
        return sum(1 for t in self.trials if t.found)

    @property
    def found(self):
        return self.found_count > 0

    def median(self, attr):
        vals = [getattr(t, attr) for t in self.trials if t.found and getattr(t, attr) is not None]
        return statistics.median(vals) if vals else None

    def errors(self):
        return [t.error for t in self.trials if t.error and not t.found]


def fnum(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, float):
        if x >= 100:
            return f"{x:.0f}"
        return f"{x:.{digits}g}"
    return str(x)


# --------------------------------------------------------------------------- interlace


class Interlace:
    def __init__(self, python: str, pythonpath: str, label="interlace"):
        self.python = python
        self.pythonpath = pythonpath
        self.label = label

    def env(self, extra=None):
        env = dict(os.environ)
        # an installed package has its bytecode compiled; recompiling src/ on every run would
        # charge interlace for a start-up cost its users do not pay
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPATH"] = self.pythonpath + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.update(extra or {})
        return env

    def strategies(self) -> tuple[list[str], str]:
        p = run_cmd([self.python, "-m", "interlace", "run", "--help"], 60, env=self.env())
        if p.rc != 0:
            return [], f"`interlace run --help` failed: {last_line(p.err) or p.rc}"
        text = p.out + p.err
        strats = [s for s in ("pct", "random", "dpor") if s in text]
        if not strats:
            strats = ["pct", "random"]
        return strats, ""

    def run(self, script, strategy, seed, budget, timeout, extra_env=None) -> tuple[Trial, dict, Proc]:
        with tempfile.TemporaryDirectory(prefix="bench-il-") as td:
            out = os.path.join(td, "out.json")
            cmd = [self.python, "-m", "interlace", "run", script, "--strategy", strategy,
                   "--seed", str(seed), "--budget", str(budget), "--timeout", str(timeout), "--json", out]
            p = run_cmd(cmd, timeout + 30, env=self.env(extra_env), cwd=os.path.dirname(script))
            data = {}
            if os.path.exists(out):
                try:
                    with open(out) as fh:
                        data = json.load(fh)
                except (OSError, ValueError) as e:
                    data = {"_error": f"bad JSON: {e}"}
        t = Trial()
        if p.timed_out:
            t.error = f"timeout after {timeout + 30:.0f}s"
        elif p.rc not in (0, 1):
            t.error = f"exit {p.rc}: {last_line(p.err)}"
        elif not data or "_error" in data:
            t.error = (data.get("_error", "no JSON written") if data
                       else f"no JSON written (exit {p.rc}): {last_line(p.err)}")
        else:
            t.found = data.get("verdict") == "bug"
            t.executions_to_bug = data.get("executions_to_bug")
            t.seconds_to_bug = data.get("seconds_to_bug")
            t.executions = data.get("executions")
            t.seconds = data.get("seconds")
            if t.found and p.rc != 1:
                t.note = f"verdict bug but exit {p.rc}"
        return t, data, p


# --------------------------------------------------------------------------- stress


def _load_run_stress():
    try:
        sys.path.insert(0, SRC)
        from interlace.stress import run_stress  # type: ignore
        return run_stress, "interlace.stress.run_stress"
    except Exception as e:  # noqa: BLE001
        log(f"interlace.stress unavailable ({e}); using bench's minimal runner")
        from bench.ministress import run_stress  # type: ignore
        return run_stress, "bench.ministress (fallback)"
    finally:
        if sys.path and sys.path[0] == SRC:
            sys.path.pop(0)


def find_pythons() -> list[tuple[str, str]]:
    """(label, path) of stress interpreters: pyenv 3.9.18 / 3.13.0 + any free-threaded build."""
    found = []
    root = ""
    if shutil.which("pyenv"):
        p = run_cmd(["pyenv", "root"], 30)
        root = p.out.strip() if p.rc == 0 else ""
    root = root or os.path.expanduser("~/.pyenv")
    for v in ("3.9.18", "3.13.0"):
        path = os.path.join(root, "versions", v, "bin", "python")
        if os.access(path, os.X_OK):
            found.append((v, path))
    cands = ["/opt/python3.13t/bin/python3.13t"] + [x for x in (shutil.which("python3.13t"), shutil.which("python3.14t")) if x]
    cands += sorted(glob.glob(os.path.join(root, "versions", "*t", "bin", "python")))
    seen = {os.path.realpath(p) for _, p in found}
    for c in cands:
        if not c or not os.access(c, os.X_OK) or os.path.realpath(c) in seen:
            continue
        p = run_cmd([c, "-c", "import sys,sysconfig;print(sysconfig.get_config_var('Py_GIL_DISABLED'), sys.version.split()[0])"], 30)
        if p.rc == 0 and p.out.split() and p.out.split()[0] == "1":
            found.append((p.out.split()[1] + "t", c))
            seen.add(os.path.realpath(c))
    return found


def stress_program(run_stress, script, python, runs, timeout) -> Trial:
    """Geometric chunks (2, 4, 8, ...) until the first failure/hang or `runs` runs.

    Stops early so a program that deadlocks on every run costs one chunk of
    timeouts rather than `runs` of them.
    """
    t = Trial(executions=0, seconds=0.0)
    done = 0
    chunk = 2
    while done < runs:
        n = min(chunk, runs - done)
        try:
            rep = run_stress(script, [python], n, timeout, jobs=2)
        except Exception as e:  # noqa: BLE001
            t.error = f"{type(e).__name__}: {e}"[:160]
            return t
        res = rep.results[0]
        for o in sorted(res.outcomes, key=lambda o: o.index):
            t.executions += 1
            t.seconds += o.seconds
            if o.status != "pass" and not t.found:
                t.found = True
                t.executions_to_bug = t.executions
                t.seconds_to_bug = t.seconds
                t.note = f"{o.status}: {(o.last_stderr or '')[:80]}"
        done += n
        if t.found:
            break
        chunk *= 2
    return t


# --------------------------------------------------------------------------- frontrun


def ensure_frontrun_venv(timeout=600) -> tuple[Optional[str], str]:
    py = os.path.join(FRONTRUN_VENV, "bin", "python")
    fr = os.path.join(FRONTRUN_VENV, "bin", "frontrun")
    if os.access(py, os.X_OK) and os.access(fr, os.X_OK):
        p = run_cmd([py, "-c", "import importlib.metadata as m;print(m.version('frontrun'))"], 60)
        if p.rc == 0 and p.out.strip() == FRONTRUN_VERSION:
            return FRONTRUN_VENV, ""
    log(f"creating {FRONTRUN_VENV} and installing frontrun=={FRONTRUN_VERSION}")
    os.makedirs(CACHE, exist_ok=True)
    if os.path.exists(FRONTRUN_VENV):
        shutil.rmtree(FRONTRUN_VENV, ignore_errors=True)
    p = run_cmd([sys.executable, "-m", "venv", FRONTRUN_VENV], 180)
    if p.rc != 0:
        return None, f"venv failed: {last_line(p.err)}"
    p = run_cmd([py, "-m", "pip", "install", "-q", f"frontrun=={FRONTRUN_VERSION}"], timeout)
    if p.rc != 0:
        return None, f"pip install frontrun=={FRONTRUN_VERSION} failed: {last_line(p.err) or 'timeout'}"
    return FRONTRUN_VENV, ""


def frontrun_run(venv, script, strategy, seed, budget, timeout) -> Trial:
    py = os.path.join(venv, "bin", "python")
    fr = os.path.join(venv, "bin", "frontrun")
    with tempfile.TemporaryDirectory(prefix="bench-fr-") as td:
        out = os.path.join(td, "out.json")
        cmd = [fr, py, ADAPTER, script, "--strategy", strategy, "--seed", str(seed),
               "--budget", str(budget), "--timeout", str(timeout), "--json", out]
        p = run_cmd(cmd, timeout + 30, cwd=os.path.dirname(script))
        data = None
        if os.path.exists(out):
            try:
                with open(out) as fh:
                    data = json.load(fh)
            except (OSError, ValueError):
                data = None
    t = Trial()
    if p.timed_out:
        t.error = f"timeout after {timeout + 30:.0f}s"
    elif data is None:
        t.error = f"no JSON (exit {p.rc}): {last_line(p.err)}"
    else:
        t.found = bool(data.get("found"))
        t.executions_to_bug = data.get("executions_to_bug")
        t.seconds_to_bug = data.get("seconds_to_bug")
        t.executions = data.get("executions")
        t.seconds = data.get("seconds")
        if data.get("verdict") == "inconclusive":
            t.error = "inconclusive: " + (data.get("error") or "")[:90]
        elif data.get("error"):
            t.error = data["error"][:120]
    return t


# --------------------------------------------------------------------------- micro


def saved_run(path: str, command: str) -> dict:
    """The raw data a benchmark command saved, for ``--render-only``; exits with what to run
    when there is none."""
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--render-only: cannot read {path} ({exc}); run `{command}` first")
    if not isinstance(data, dict):
        raise SystemExit(f"--render-only: {path} is from an older version of the benchmark; run `{command}`")
    return data


def micro_venv(python_label: str, python: str) -> tuple[Optional[str], str]:
    """An interpreter that can import interlace from src/ (needs rich), with the C accelerator
    built in place for it (an editable install builds it) when a compiler is at hand."""
    suffix = run_cmd([python, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"], 60)
    built = os.path.exists(os.path.join(SRC, "interlace", "_accel" + suffix.out.strip()))
    p = run_cmd([python, "-c", "import rich"], 60)
    if p.rc == 0 and built:
        return python, ""
    venv = os.path.join(CACHE, f"venv-py{python_label}")
    vpy = os.path.join(venv, "bin", "python")
    if os.access(vpy, os.X_OK) and run_cmd([vpy, "-c", "import rich"], 60).rc == 0:
        return vpy, ""
    log(f"creating {venv} (rich) for micro-benchmarks")
    p = run_cmd([python, "-m", "venv", venv], 180)
    if p.rc != 0:
        return None, f"venv failed: {last_line(p.err)}"
    p = run_cmd([vpy, "-m", "pip", "install", "-q", "-e", ROOT], 600)
    if p.rc != 0:
        return None, f"pip install -e . failed: {last_line(p.err)}"
    return vpy, ""


def micro_pythons() -> list[tuple[str, str]]:
    out = [("3.11 (python3)", shutil.which("python3") or sys.executable)]
    root = os.path.expanduser("~/.pyenv")
    if shutil.which("pyenv"):
        p = run_cmd(["pyenv", "root"], 30)
        root = p.out.strip() or root
    for v in ("3.12.1", "3.13.0"):
        path = os.path.join(root, "versions", v, "bin", "python")
        if os.access(path, os.X_OK):
            out.append((v, path))
    return out


# --------------------------------------------------------------------------- machine


def machine_info() -> list[str]:
    lines = []
    lines.append(f"- nproc: {os.cpu_count()} (`nproc`: {run_cmd(['nproc'], 10).out.strip() or '?'})")
    model = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for ln in fh:
                if ln.startswith("model name"):
                    model = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines.append(f"- CPU model: {model}")
    mem = "?"
    try:
        with open("/proc/meminfo") as fh:
            for ln in fh:
                if ln.startswith("MemTotal"):
                    kb = int(ln.split()[1])
                    mem = f"{kb / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    lines.append(f"- memory: {mem}")
    lines.append(f"- OS: {platform.platform()}")
    lines.append(f"- harness interpreter: {shown_path(sys.executable)} ({platform.python_version()})")
    return lines


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shown_path(path: str) -> str:
    """A path as the report shows it: relative to the repository when inside it (a report
    must not name the folders of the machine it was made on), else only its last parts."""
    path = os.path.abspath(path)
    if path.startswith(ROOT + os.sep):
        return os.path.relpath(path, ROOT)
    parts = path.split(os.sep)
    return os.path.join("...", *parts[-3:]) if len(parts) > 4 else path


def interp_version(python) -> str:
    p = run_cmd([python, "-c", "import sys,sysconfig;print(sys.version.split()[0], 'free-threaded' if sysconfig.get_config_var('Py_GIL_DISABLED') else 'GIL')"], 30)
    return p.out.strip() if p.rc == 0 else f"? ({last_line(p.err)})"


# ------------------------------------------------------------- sections other commands own


#: Sections of docs/benchmarks.md that their own commands write (``python -m bench.accel``,
#: ``python -m bench.dpor``); ``python -m bench`` regenerates the rest and keeps them.
ACCEL_HEADING = "## Accelerator"
DPOR_HEADING = "## Systematic search against frontrun"


def _section_span(lines: list, heading: str) -> Optional[tuple[int, int]]:
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == heading), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, end


def replace_section(text: str, heading: str, section: Optional[str]) -> str:
    """``text`` with its ``heading`` section (up to the next "## " heading) replaced by
    ``section``, or ``section`` appended; ``None`` keeps the old section (or none)."""
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, heading)
    old = ""
    if span is not None:
        old = "".join(lines[span[0]:span[1]])
        lines = lines[:span[0]] + lines[span[1]:]
    new = section if section is not None else old
    rest = "".join(lines).rstrip("\n")
    if not new:
        return rest + "\n" if rest else ""
    return (rest + "\n\n" if rest else "") + new.rstrip("\n") + "\n"


def carry_over(path: str, text: str) -> str:
    """``text`` (a freshly rendered report) with every section of the current ``path`` that
    it does not have itself, in their order: the sections ``bench.accel``, ``bench.dpor``,
    ``bench.speed`` and the hand-run measurements wrote survive a ``python -m bench``."""
    try:
        with open(path) as fh:
            lines = fh.read().splitlines(keepends=True)
    except OSError:
        return text
    ours = {ln.rstrip() for ln in text.splitlines() if ln.startswith("## ")}
    for heading in [ln.rstrip() for ln in lines if ln.startswith("## ")]:
        if heading not in ours:
            text = replace_section(text, heading, section_of(path, heading))
    return text


def section_of(path: str, heading: str) -> Optional[str]:
    """The current ``heading`` section of ``path`` (``None`` if there is none)."""
    try:
        with open(path) as fh:
            lines = fh.read().splitlines(keepends=True)
    except OSError:
        return None
    span = _section_span(lines, heading)
    return "".join(lines[span[0]:span[1]]) if span else None


def command_line(prog: str, argv: Optional[list]) -> str:
    """The command as a user would type it again (for the report)."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join([prog, *(shlex.quote(shown_path(x) if os.path.isabs(x) else x) for x in args)])


def publish_section(out: str, heading: str, saved: dict, render, raw_path: Optional[str] = None) -> int:
    """Write ``render(saved)`` as the ``heading`` section of ``out`` and print it; with
    ``raw_path``, also keep ``saved`` (rows, command, settings) there for ``--render-only``."""
    section = render(saved)
    write_section(out, heading, section)
    if raw_path is not None:
        os.makedirs(os.path.dirname(raw_path), exist_ok=True)
        with open(raw_path, "w") as fh:
            json.dump(saved, fh, indent=1, default=str)
    print(section)
    return 0


def write_section(path: str, heading: str, section: str) -> None:
    """Replace (or append) one section of ``path``, keeping everything else."""
    text = ""
    if os.path.exists(path):
        with open(path) as fh:
            text = fh.read()
    with open(path, "w") as fh:
        fh.write(replace_section(text, heading, section))
