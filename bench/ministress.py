"""Minimal fallback stress runner, used only if ``interlace.stress`` cannot be imported.

Same call shape as ``interlace.stress.run_stress`` (the parts bench uses).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

_BOOT = "import runpy,sys;sys.setswitchinterval(1e-6);sys.argv=[sys.argv[1]];runpy.run_path(sys.argv[0],run_name='__main__')"


@dataclass
class _Outcome:
    index: int
    status: str
    returncode: object
    seconds: float
    last_stderr: str = ""


@dataclass
class _Result:
    python: str
    outcomes: list = field(default_factory=list)


@dataclass
class _Report:
    results: list


def run_stress(script, pythons, runs, timeout, jobs=2):
    results = []
    for py in pythons:
        r = _Result(py)
        for i in range(runs):
            t0 = time.perf_counter()
            p = subprocess.Popen([py, "-c", _BOOT, script], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                _, err = p.communicate(timeout=timeout)
                st = "pass" if p.returncode == 0 else "fail"
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
                err, st = "", "hang"
            lines = [ln for ln in (err or "").splitlines() if ln.strip()]
            r.outcomes.append(_Outcome(i, st, p.returncode, time.perf_counter() - t0, lines[-1] if lines else ""))
        results.append(r)
    return _Report(results)
