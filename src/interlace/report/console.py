"""The terminal report of a search: the verdict, the short interleaving, how to replay."""

from __future__ import annotations

import shlex
from typing import Optional

from rich.console import Console
from rich.text import Text

from ..config import DEFAULT_MAX_STEPS
from ..outcome import SearchResult, StopReason, Verdict
from .trace import relevant_trace


class _ReportConsole(Console):
    """rich's console, except that a closed pipe is the caller's to handle.

    rich answers ``BrokenPipeError`` with ``SystemExit(1)``; ``interlace run x.py | head``
    must still write ``--json``/``--html`` and exit with the status of what it found.
    """

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def report_console(stderr: bool = False) -> Console:
    """The console of every report: no line is ever wrapped by the width of the terminal (a
    replay command broken in two runs ``replay`` without its script), no markup, no emoji."""
    return _ReportConsole(highlight=False, soft_wrap=True, emoji=False, markup=False, stderr=stderr)


_CONTROL = {c: f"\\x{c:02x}" for c in range(32) if chr(c) not in "\n\t"}
_CONTROL[0x7F] = "\\x7f"


def printable(text: str) -> str:
    """``text`` with control characters shown escaped (``\\x1b``): the program's output, its
    messages and its source never drive the user's terminal."""
    return text.translate(_CONTROL)


def replay_command(result: SearchResult) -> str:
    return replay_command_for(result.config, result.schedule.token())


def replay_command_for(config, token: str) -> str:
    """The command (or call) that replays ``token`` of ``config``'s program."""
    if config.target is not None:  # a Python call or a pytest command, made by the API/plugin
        return config.target.replay_hint(token)
    program = ["-m", config.module] if config.module else [config.script]
    parts = ["interlace", "replay", *(["--races"] if config.races else []), "--schedule", token,
             *program]
    # every setting that changes which executions exist goes along (the model is in the token)
    for name in config.include:
        parts += ["--include", name]
    if config.max_steps != DEFAULT_MAX_STEPS:
        parts += ["--max-steps", str(config.max_steps)]
    if config.assume_no_timeouts:
        parts.append("--assume-no-timeouts")
    if config.argv:
        parts += ["--", *config.argv]
    return " ".join(shlex.quote(p) for p in parts)


def statement(result: SearchResult) -> str:
    """What the search established, in one sentence, never more than was explored."""
    config = result.config
    scope = f"{result.executions} execution{'s' if result.executions != 1 else ''}"
    bound = f"preemption bound {config.preemptions}" if config.preemptions is not None else "no preemption bound"
    if result.verdict is Verdict.VERIFIED:
        part = f"part {config.shard[0]} of {config.shard[1]}: " if config.shard else ""
        if config.preemptions is None and result.subtrees is None and config.jobs == 1:
            what = f"all {result.classes} interleaving classes explored"
        else:  # a class can run twice: under a bound, side by side, or in two subtrees
            what = f"all {result.classes} interleavings"
            what += " the search reaches within the bound explored" if config.preemptions is not None \
                else " explored (every class at least once)"
        return f"{part}{what}, no failure (model {config.model.value}, {bound})"
    why = result.stopped_by.sentence(config)
    how = f"strategy {config.strategy}"
    if config.strategy == "pct":
        how += f" (depth {config.depth})"
    if config.strategy == "dpor":
        how += (f", {result.classes} interleaving classes complete, {result.pending} known "
                f"alternatives left, {bound}")
    if config.strategy == "portfolio" and result.by_strategy:
        turns = ", ".join(f"{name} {count}" for name, count in result.by_strategy.items())
        how += (f" ({turns}; dpor: {result.classes} interleaving classes complete, "
                f"{result.pending} known alternatives left, {bound})")
    if config.shard:
        how += f", part {config.shard[0]} of {config.shard[1]}"
    return f"{scope} ({why}); {how}, model {config.model.value}, seed {config.seed}, {result.seconds:.1f} s"


def print_result(result: SearchResult, console: Optional[Console] = None) -> None:
    console = console or report_console()
    config = result.config
    if result.internal_error:
        _print_internal_error(result, console)
    elif result.found:
        _print_bug(result, console)
    elif result.verdict is Verdict.INCONCLUSIVE and result.stopped_by is StopReason.TOO_SLOW:
        console.print(Text(f"Inconclusive: {statement(result)}.", style="bold yellow"))
        console.print("The first execution runs every thread in turn, without preemptions, so "
                      "a hang there is not an interleaving's doing: the program is too slow "
                      "under interlace, or it blocks where interlace cannot see (a socket, a "
                      "subprocess). No bug was found and nothing is proved. Make the program's "
                      "work smaller for the search (fewer iterations, smaller inputs), or check "
                      "that it finishes when run plainly.")
    elif result.verdict is Verdict.INCONCLUSIVE:
        console.print(Text(f"Inconclusive: {statement(result)}.", style="bold yellow"))
        console.print("The program did not repeat itself under replay, so the systematic search "
                      "cannot cover its interleavings: no bug was found, and nothing is proved "
                      "(see below).")
    elif result.verdict is Verdict.SETUP_ERROR:
        _print_setup_error(result, console)
    elif result.stopped_by is StopReason.SINGLE_THREADED:
        console.print(Text("Nothing to interleave: the program started no thread, so every "
                           "execution would be the one that ran (1 execution, no failure).",
                           style="bold"))
        console.print("Start the threads whose interleavings you want searched; a thread "
                      "started through _thread or a C extension is not managed.")
    elif result.verdict is Verdict.VERIFIED:
        bound = result.verified_bound
        headline = "Verified" if bound is None else \
            f"Verified within {bound} preemption{'s' if bound != 1 else ''}"
        if result.races:  # every interleaving ran without failing, but the races stand
            console.print(Text(f"{_races_found(result)}; no failure otherwise: {statement(result)}.",
                               style="bold red"))
        else:  # yellow when races were seen in passing (the note below): no all-clear
            console.print(Text(f"{headline}: {statement(result)}.",
                               style="bold yellow" if result.races_seen else "bold green"))
        console.print(f"Explored in {result.executions} executions ({result.sleep_blocked} cut short "
                      f"as repeats), {result.seconds:.1f} s. Proved at interlace's granularity: "
                      "switches between the bytecodes the model allows, shared accesses of the "
                      "program's own code, the threading/queue primitives.")
        if result.verified_bound is not None:
            console.print(f"Only within the bound: the search ran only schedules with at most "
                          f"{result.verified_bound} preemption(s), which do not cover every "
                          "interleaving. Run with --preemptions none for a proof without a bound.")
        if config.shard:
            console.print(f"This is part {config.shard[0]} of {config.shard[1]} of the search "
                          f"({result.subtrees} subtrees): the program is verified only if every "
                          "part is.")
    else:
        if result.races:
            console.print(Text(f"{_races_found(result)}; no failure otherwise in {statement(result)}.",
                               style="bold red"))
        else:
            console.print(Text(f"No bug found in {statement(result)}.",
                               style="bold yellow" if result.races_seen else "bold green"))
        console.print("This is not a proof: other interleavings may still fail.")
    if config.races:
        from .races import print_races
        print_races(result.races, lambda token: replay_command_for(config, token), console)
    elif result.races_seen and not result.found:
        _print_races_seen(result, console)
    for warning in result.warnings:
        console.print(Text(f"warning: {printable(warning)}", style="yellow"))
    for inversion in result.potential_deadlocks:
        console.print(Text(f"potential deadlock (lock-order inversion): {inversion}", style="yellow"))


def _print_races_seen(result: SearchResult, console: Console) -> None:
    """Races the search saw without ``--races``: a note, not a finding (engine/passing_races.py)."""
    count = len(result.races_seen)
    console.print(Text(f"note: nothing failed, but {'a data race was' if count == 1 else f'{count} data races were'} "
                       "seen: two threads access one location, at least one writing, with "
                       "nothing ordering them (happens-before over interlace's primitives):",
                       style="yellow"))
    for race in result.races_seen:
        one, two = race.accesses
        console.print(Text(f"  {race.location}: {one.kind} by {one.thread} at {short_path(one.file)}:"
                           f"{one.line}, {two.kind} by {two.thread} at {short_path(two.file)}:{two.line}"
                           + (f"  {two.code}" if two.code else ""), style="yellow"))
    console.print(Text("Run with --races for the full report, with a replay token for each race "
                       "(docs/races.md); a race the program tolerates can be marked "
                       "`# interlace: ignore-race` on either line.", style="yellow"))


def _print_setup_error(result: SearchResult, console: Console) -> None:
    """The program failed before starting any thread: its own problem, not a race."""
    what = "The script" if not result.config.target else "The program"
    console.print(Text(f"{what} fails on its own, before any thread starts: {result.summary}",
                       style="bold red"))
    console.print("No interleaving was searched (there was none to search). Fix this first: "
                  "a missing argument (pass it after --), an import error, an exception at start-up.")
    if result.details:
        console.print()
        console.print(Text(result.details.rstrip()))
    if result.program_output.strip():
        console.print(Text("Program output:", style="bold"))
        console.print(Text(result.program_output.rstrip()[-2000:]))


def _print_internal_error(result: SearchResult, console: Console) -> None:
    """interlace itself failed: say so, never as the program's bug, and offer no replay."""
    console.print(Text(f"INTERNAL ERROR of interlace (not a bug in your program): {result.summary}",
                       style="bold magenta"))
    if result.details:
        console.print(Text(result.details.rstrip()))
    console.print("Please report it, with the program if you can share it.")


def _print_bug(result: SearchResult, console: Console) -> None:
    failure = result.failure
    config = result.config
    console.print(Text(f"BUG FOUND ({result.kind}): {printable(result.summary or '')}", style="bold red"))
    strategy = config.strategy + (f" ({result.found_by})" if result.found_by else "")
    console.print(f"model {config.model.value}, strategy {strategy}, found in execution "
                  f"{result.executions_to_bug} after {result.seconds_to_bug:.2f} s; minimized with "
                  f"{result.shrink_executions} more executions to "
                  f"{failure.preemptions if failure is not None else 0} preemption(s).")
    events = (failure.events if failure is not None else None) or []
    lines, dropped = relevant_trace(events, (failure.threads if failure is not None else None) or [])
    if lines:
        console.print()
        console.print(Text("Interleaving (conflicting shared accesses and the switches between them):",
                           style="bold"))
        width = max(len(line.thread) for line in lines)
        for line in lines:
            if line.kind == "omitted":
                console.print(Text(f"  {'':>5}  ... {line.text}", style="dim"))
                continue
            if line.switch:
                label = "preempted, switch to" if line.preempted else "switch to"
                console.print(Text(f"  {'':>5}  ~~ {label} {line.thread}", style="magenta"))
            does = line.text
            if line.kind == "access":
                does = f"{'write' if line.write else 'read '} {line.text}"
                if line.value is not None:
                    does += f" = {line.value}" if line.write else f" -> {line.value}"
            where = f"{short_path(line.file)}:{line.line}" if line.file else ""
            row = Text(f"  {line.step:>5}  {line.thread:<{width}}  ")
            row.append(f"{does:<28}", style="bold" if line.kind == "access" else "cyan")
            row.append(f"  {where}", style="dim")
            if line.source:
                row.append(f"  {printable(line.source)}")
            console.print(row)
    if result.details:
        console.print()
        console.print(Text(printable(result.details.rstrip())))
    if result.program_output.strip():
        console.print(Text("Program output of the failing execution:", style="bold"))
        console.print(Text(printable(result.program_output.rstrip()[-2000:])))
    console.print()
    if result.replay_problem is None:
        console.print(Text("Replay it (checked: it fails the same way):", style="bold"))
    else:
        console.print(Text(f"Replay token (checked, and it did NOT reproduce the failure: "
                           f"{result.replay_problem}):", style="bold yellow"))
    console.print(Text("  " + replay_command(result)))


def _races_found(result: SearchResult) -> str:
    count = len(result.races)
    return f"DATA RACE{'S' if count > 1 else ''} FOUND ({count}, below)"


def short_path(path: Optional[str]) -> str:
    """``path`` relative to the working directory when it lies below it (reports stay short)."""
    import os
    if not path:
        return ""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("..") else path


def print_model_verdicts(verdicts, console: Optional[Console] = None) -> None:
    """``run --model all``: one line per model, "yes" only for a failing execution found."""
    console = console or report_console()
    console.print()
    console.print(Text("Can it happen under each switch model?", style="bold"))
    shown = next((v.result for v in verdicts if v.result is not None and v.result.found), None)
    for verdict in verdicts:
        row = Text(f"  {verdict.label:<18} ")
        status, result = verdict.status, verdict.result
        row.append(status, style="bold red" if status == "yes" else
                   "bold green" if status == "no" else "yellow")
        if status == "yes" and result is not None:
            row.append(f"  (found in execution {result.executions_to_bug}, "
                       f"{result.seconds_to_bug:.2f} s)")
            if shown is not None and result.summary != shown.summary:
                row.append(f": {result.kind}: {result.summary}")
        elif status == "no" and result is not None:
            row.append(f"  (every interleaving explored: {result.executions} execution(s))")
        else:
            row.append(f"  ({verdict.scope()})")
        console.print(row)
    from ..engine.allmodels import summary_line
    console.print("  " + summary_line(verdicts))
