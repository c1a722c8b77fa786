"""``interlace explain`` output: a terminal report (rich), JSON, and one-line lint messages."""

from __future__ import annotations

import json
import os
from typing import Any, Optional

from rich.console import Console
from rich.text import Text

from ..models import GIL_VERSIONS, MODEL_LABELS, Model
from .analysis import MODELS, Finding, Report

#: Short model names for the per-instruction switch markers.
_SHORT = {Model.FREE_THREADED: "free-threaded", Model.GIL: GIL_VERSIONS, Model.GIL_39: "<=3.9"}


def _display_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("..") else path


# -- terminal ------------------------------------------------------------------------------------

def print_report(report: Report, console: Optional[Console] = None) -> None:
    import sys
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    path = _display_path(report.path)
    console.print(Text(f"interlace explain {path}", style="bold"))
    functions = ", ".join(report.functions) if report.functions else "none"
    console.print(f"Bytecode of CPython {report.python}; {report.selection}: {functions}")
    if report.entries and report.selection.startswith("functions reachable"):
        console.print(Text("Threads start at: " + "; ".join(report.entries), style="dim"))
    for finding in report.findings:
        console.print()
        _print_finding(finding, console)
    console.print()
    if not report.findings and report.filtered_by is not None and report.total:
        console.print(Text(f"No window {MODEL_LABELS[report.filtered_by]} can split, of "
                           f"{report.total} found in {len(report.functions)} function(s) "
                           "(drop --model to see them all).", style="bold green"))
        return
    if not report.findings:
        console.print(Text(f"No read-modify-write or check-then-act window found in "
                           f"{len(report.functions)} function(s).", style="bold green"))
        console.print("This is a static check of single functions: races between several "
                      "statements or across functions need `interlace run`.")
        return
    counts = ", ".join(f"{MODEL_LABELS[m]} {sum(f.verdicts[m].can_switch for f in report.findings)}"
                       for m in MODELS)
    console.print(Text(f"{len(report.findings)} window(s) in {len(report.functions)} function(s); "
                       f"a switch can land inside under: {counts}.", style="bold"))
    console.print(f"See which interleaving breaks it: interlace run --model all {path}")


def _print_finding(finding: Finding, console: Console) -> None:
    path = _display_path(finding.path)
    head = Text(f"{path}:{finding.line}:{finding.col}  ", style="bold")
    head.append(f"{finding.code} ", style="bold red")
    head.append(f"{finding.kind} of {finding.location} in {finding.function}()", style="bold")
    console.print(head)
    for line, text in finding.source:
        console.print(Text(f"  {line if line else '':>5} | {text}"))
    console.print(Text("  window (as dis shows it):", style="dim"))
    previous = None
    for instr in finding.instructions:
        line = f"{instr.line:>5}" if instr.line != previous else " " * 5
        previous = instr.line
        arg = "" if instr.arg is None else str(instr.arg)
        argrepr = f"({instr.argrepr})" if instr.argrepr else ""
        marks = []
        if instr.switch_before:
            marks.append("switch before: " + ", ".join(_SHORT[m] for m in instr.switch_before))
        if instr.switch_after:
            marks.append("switch after: " + ", ".join(_SHORT[m] for m in instr.switch_after))
        text = f"  {line} {instr.offset:>6} {instr.opname:<28} {arg:>3} {argrepr}"
        if not (instr.role or marks):
            console.print(Text(text.rstrip()), overflow="ellipsis", no_wrap=True, crop=False)
            continue
        row = Text(f"{text:<72}")
        if instr.role:
            row.append(f" <- {instr.role:<5}", style="bold")
        if marks:
            row.append("  [" + "; ".join(marks) + "]", style="magenta")
        console.print(row, overflow="ellipsis", no_wrap=True, crop=False)
    console.print(Text("  can a thread switch land inside?", style="dim"))
    for model in MODELS:
        verdict = finding.verdicts[model]
        row = Text(f"    {MODEL_LABELS[model]:<18} ")
        row.append(f"{'yes' if verdict.can_switch else 'no':<4}",
                   style="bold red" if verdict.can_switch else "bold green")
        row.append(verdict.reason)
        console.print(row)


# -- JSON ----------------------------------------------------------------------------------------

def report_dict(report: Report) -> dict[str, Any]:
    return {
        "file": report.path,
        "python": report.python,
        "selection": report.selection,
        "thread_entries": report.entries,
        "functions": report.functions,
        "findings": [finding_dict(f) for f in report.findings],
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "kind": finding.kind,
        "function": finding.function,
        "location": finding.location,
        "line": finding.line,
        "col": finding.col,
        "end_line": finding.end_line,
        "message": finding.message,
        "source": [{"line": line, "text": text} for line, text in finding.source if line],
        "instructions": [{
            "offset": i.offset, "line": i.line, "opname": i.opname, "arg": i.arg,
            "argrepr": i.argrepr, "role": i.role or None,
            "switch_before": [m.value for m in i.switch_before],
            "switch_after": [m.value for m in i.switch_after],
        } for i in finding.instructions],
        "models": {model.value: {
            "label": MODEL_LABELS[model],
            "switch_inside": verdict.can_switch,
            "reason": verdict.reason,
            "sites": [{"where": s.where, "offset": s.offset, "opname": s.opname, "line": s.line}
                      for s in verdict.sites],
        } for model, verdict in finding.verdicts.items()},
    }


def dumps(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2)


# -- lint ----------------------------------------------------------------------------------------

def lint_lines(report: Report, path_as_given: str) -> list[str]:
    """``path:line:col: IL001 message``, the format editors and CI annotators parse."""
    return [f"{path_as_given}:{f.line}:{f.col}: {f.code} {f.message}" for f in report.findings]
