"""What ``interlace stress`` found: per-run outcomes, per-interpreter counts, the table."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Optional

from ..report.console import printable


class StressUsageError(ValueError):
    """Bad input to :func:`run_stress` (missing script, unusable interpreter)."""


@dataclass
class RunOutcome:
    index: int
    status: str  # "pass" | "fail" | "hang"
    returncode: Optional[int]
    seconds: float
    last_stderr: str = ""


@dataclass
class InterpreterResult:
    python: str
    version: str
    full_version: str
    implementation: str
    free_threaded: bool
    gil_enabled: bool
    runs: int
    passes: int
    failures: int
    hangs: int
    median_seconds: Optional[float]
    example_failure: Optional[str]
    outcomes: list[RunOutcome] = field(default_factory=list, repr=False)

    @property
    def failure_rate(self) -> float:
        return self.failures / self.runs if self.runs else 0.0

    @property
    def hang_rate(self) -> float:
        return self.hangs / self.runs if self.runs else 0.0

    @property
    def ok(self) -> bool:
        return self.failures == 0 and self.hangs == 0

    def to_dict(self, include_runs: bool = True) -> dict:
        d = asdict(self)
        d["failure_rate"] = self.failure_rate
        d["hang_rate"] = self.hang_rate
        if not include_runs:
            d.pop("outcomes")
        return d


@dataclass
class StressReport:
    script: str
    runs: int
    timeout: float
    jobs: int
    switch_interval: float
    results: list[InterpreterResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self, include_runs: bool = True) -> dict:
        return {
            "script": self.script,
            "runs": self.runs,
            "timeout": self.timeout,
            "jobs": self.jobs,
            "switch_interval": self.switch_interval,
            "ok": self.ok,
            "results": [r.to_dict(include_runs) for r in self.results],
        }


def _fmt_ft(r: InterpreterResult) -> str:
    if not r.free_threaded:
        return "no"
    return "yes" if not r.gil_enabled else "yes (GIL on)"


def render_table(report: StressReport, include_example: bool = True):
    """Return a rich Table for ``report`` (optionally without the example column)."""
    from rich.table import Table

    table = Table(
        title=f"interlace stress: {os.path.basename(report.script)}  "
        f"runs={report.runs} timeout={report.timeout:g}s "
        f"switch-interval={report.switch_interval:g}s",
        title_justify="left",
    )
    rows = [
        (
            r.version if r.implementation in ("", "CPython") else f"{r.implementation} {r.version}",
            _fmt_ft(r),
            str(r.runs),
            str(r.failures),
            f"{r.failure_rate:.1%}",
            str(r.hangs),
            f"{r.hang_rate:.1%}",
            f"{r.median_seconds * 1000:.0f} ms" if r.median_seconds is not None else "-",
            printable(r.example_failure or ""),
        )
        for r in report.results
    ]
    headers = ["python", "free threaded", "runs", "failures", "failure rate",
               "hangs", "hang rate", "median run", "example failure"]
    if not include_example:
        headers.pop()
        rows = [row[:-1] for row in rows]
    for i, h in enumerate(headers):
        if h == "example failure":
            table.add_column(h, overflow="fold", min_width=12)
        else:
            # values never wrap; long headers may wrap onto two lines
            width = max([len(row[i]) for row in rows] + [max(len(w) for w in h.split())])
            table.add_column(h, justify="left" if i < 2 else "right", min_width=width)
    for row in rows:
        table.add_row(*row)
    return table


