"""The HTML report (``--html PATH``, ``pytest --interlace-html DIR``): one self-contained page.

One lane per thread, steps down the page: the conflicting accesses (as ``report/trace.py``
keeps them) and every synchronization event sit in their thread's lane with the location,
the value and the source line; switches are drawn between lanes, preemptions highlighted;
the rest of the recorded execution is folded into counted stretches that open on a click.
The failing access and the exception close the timeline; a deadlock's wait-for cycle is
drawn above it; races (``result.races``, when a search reports them) are highlighted.

Everything from the program (thread names, values, source text, paths) is text to the page,
never markup: it goes through :func:`html.escape` into the markup, or as JSON with ``<``,
``>`` and ``&`` escaped into a ``<script type="application/json">`` block that the page's
script reads and inserts with ``textContent``.  A Content-Security-Policy allows only the
page's own script (by hash) and no loads at all, so the page works from disk, offline.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import linecache
import os
import re
import shlex
import sys
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterable, Optional

from ..engine.search import SearchResult
from .console import replay_command, short_path, statement
from .trace import relevant_trace

#: Rows of the timeline at most.  A longer one keeps its first and last rows and the rows
#: around each preemption, and folds the rest (counted, like any fold).
MAX_ROWS = 1500
HEAD_ROWS, TAIL_ROWS, PREEMPTION_WINDOW = 50, 600, 40
#: Folded events listed inside one stretch, and in the whole page, at most (the rest counted).
MAX_FOLDED_PER_STRETCH = 40
MAX_FOLDED = 4000
#: A fold of at most this many steps right before an event of its thread is a ``+N`` on that
#: event's card, not a row of its own.
SMALL_FOLD = 3
#: Lines of source shown above and below an event's line.
CONTEXT = 3
#: Bookkeeping events, never shown: the switches (drawn as arrows instead) and the
#: dependences systematic search records.
_HIDDEN_KINDS = frozenset({"switch", "touch", "begin"})
_TRACEBACK_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.M)


def write_html(result: SearchResult, path: str, verdicts: Optional[Iterable[Any]] = None) -> None:
    """Write the report of ``result`` to ``path``.  ``verdicts``: ``run --model all``'s
    per-model verdicts (``engine.allmodels``), one header line each, as the terminal says them."""
    text = render_html(result, [_verdict_line(v) for v in verdicts or ()])
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _verdict_line(verdict: Any) -> str:
    result = verdict.result
    if verdict.status == "yes" and result is not None:
        how = f"found in execution {result.executions_to_bug}, {result.seconds_to_bug or 0:.2f} s"
    elif verdict.status == "no" and result is not None:
        how = f"every interleaving explored: {result.executions} execution(s)"
    else:
        how = verdict.scope()
    return f"{verdict.label}: {verdict.status} ({how})"


def check_writable(path: str) -> Optional[str]:
    """Why a report cannot be written to ``path`` (checked before a long search), or ``None``."""
    if os.path.isdir(path):
        return f"{path} is a directory"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"the folder {folder} is not writable"
    return None


def write_test_report(result: SearchResult, folder: str, label: str) -> str:
    """``pytest --interlace-html``: write a failing test's page into ``folder``; the line
    that names it for the failure message (or says why it could not be written)."""
    path = os.path.join(folder, report_name(label))
    try:
        write_html(result, path)
    except OSError as exc:
        return f"\ninterlace: could not write the HTML report {path}: {exc.strerror or exc}\n"
    return f"\nHTML report: {path}\n"


def report_name(label: str) -> str:
    """A file name for one test's report (``pytest --interlace-html``): readable, unique."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "test"
    digest = hashlib.sha1(label.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{stem[:100]}-{digest}.html"


# -- what the page shows -----------------------------------------------------------------------

@dataclass
class _Row:
    """One event in a lane."""

    event: dict
    failing: bool = False
    race: bool = False


@dataclass
class _Switch:
    source: int
    target: int
    preempted: bool


@dataclass
class _Folded:
    """A stretch of events left out of the timeline: counted, the first few listed.

    ``lane``: the one thread that ran it (drawn in its lane), or ``None`` when several threads
    took turns in it (drawn across the lanes, with the switches inside counted)."""

    lane: Optional[int] = None
    events: list[dict] = field(default_factory=list)
    count: int = 0
    per_thread: Counter = field(default_factory=Counter)
    switches: int = 0
    preemptions: int = 0
    prelude: bool = False
    #: Shared accesses folded only to keep a very long timeline short (see ``MAX_ROWS``).
    condensed: bool = False


@dataclass
class _Run:
    """Consecutive events of one thread; ``preempted``: the switch into it was a preemption."""

    tid: int
    preempted: bool
    indices: list[int] = field(default_factory=list)


@dataclass
class _Failure:
    thread: Optional[int]
    kind: str
    summary: str
    file: Optional[str]
    line: Optional[int]


def _field(failure: Any, name: str, default: Any = None) -> Any:
    """A field of the failing outcome, whether it is a dict or an object with attributes."""
    if failure is None:
        return default
    if isinstance(failure, dict):
        value = failure.get(name, default)
    else:
        value = getattr(failure, name, default)
    return default if value is None else value


def races_of(result: SearchResult) -> list[dict]:
    """The result's races (``--races``): ``location``, ``accesses`` (``thread``, ``kind``,
    ``file``, ``line``, ``code``) and ``schedule``, as dicts; ``[]`` when it has none."""
    races = getattr(result, "races", None) or _field(result.failure, "races", [])
    out = []
    for race in races or ():
        item = race if isinstance(race, dict) else getattr(race, "__dict__", {})
        accesses = [a if isinstance(a, dict) else getattr(a, "__dict__", {})
                    for a in item.get("accesses") or ()]
        out.append({"location": item.get("location"), "accesses": accesses,
                    "schedule": item.get("schedule")})
    return out


def _raise_site(details: str) -> tuple[Optional[str], Optional[int]]:
    """The innermost frame of the traceback text that names a real file."""
    for match in reversed(list(_TRACEBACK_FRAME.finditer(details or ""))):
        if os.path.isfile(match["file"]):
            return match["file"], int(match["line"])
    return None, None


def _timeline(recorded: list[Any], threads: list[str], failure: Any,
              races: list[dict]) -> tuple[list[Any], Optional[_Failure], int]:
    """The rows of the page (events, switches, folded stretches), the failure, rows dropped.

    Shown: what ``relevant_trace`` keeps, every synchronization event and the failing events;
    the rest is folded.  Switches are drawn where the running thread really changed.
    """
    events = [_plain(event) for event in recorded]
    start = next((i for i, e in enumerate(events) if e["kind"] == "start"), 0)
    shown = _shown(recorded, events, threads, start)
    candidates = _failing_events(events, threads, failure)
    # of the accesses at the raising line, the shared ones; else the last one (it failed there)
    failing = (candidates & shown) or ({max(candidates)} if candidates else set())
    shown |= failing
    budget = [MAX_FOLDED]
    items: list[Any] = []
    if start:
        prelude = _Folded(prelude=True)
        for event in events[:start]:
            if event["kind"] not in _HIDDEN_KINDS:
                _fold(prelude, event, budget)
        if prelude.count:
            items.append(prelude)
    last_tid: Optional[int] = None
    hidden: list[_Run] = []  # runs with nothing shown, folded together

    def flush_hidden() -> None:
        nonlocal last_tid
        if not hidden:
            return
        if last_tid is not None and hidden[0].tid != last_tid:
            items.append(_Switch(last_tid, hidden[0].tid, hidden[0].preempted))
        if len(hidden) == 1:
            folded = _Folded(lane=hidden[0].tid)
        else:  # no preemption inside: a preemption starts a group of its own
            folded = _Folded(switches=len(hidden) - 1)
        for run in hidden:
            for index in run.indices:
                _fold(folded, events[index], budget)
        items.append(folded)
        last_tid = hidden[-1].tid
        hidden.clear()

    for run in _runs(events, start):
        if not any(index in shown for index in run.indices):
            if run.preempted:  # drawn as an arrow, never folded away
                flush_hidden()
            hidden.append(run)
            continue
        flush_hidden()
        if last_tid is not None and run.tid != last_tid:
            items.append(_Switch(last_tid, run.tid, run.preempted))
        folded: Optional[_Folded] = None
        for index in run.indices:
            if index in shown:
                if folded is not None:
                    items.append(folded)
                    folded = None
                event = events[index]
                items.append(_Row(event, failing=index in failing,
                                  race=_is_racing(event, threads, races)))
            else:
                folded = folded or _Folded(lane=run.tid)
                _fold(folded, events[index], budget)
        if folded is not None:
            items.append(folded)
        last_tid = run.tid
    flush_hidden()
    end = _failure_end(threads, failure)
    if end is not None and end.thread is not None and last_tid is not None \
            and end.thread != last_tid and end.kind != "deadlock":
        items.append(_Switch(last_tid, end.thread, False))
    items, condensed = _condense(items, budget)
    return items, end, condensed


def _condense(items: list[Any], budget: list[int]) -> tuple[list[Any], int]:
    """At most about ``MAX_ROWS`` rows: the first, the last, and those around preemptions
    stay; the rest becomes folds.  Returns the items and how many events were folded so."""
    rows = [i for i, item in enumerate(items) if not isinstance(item, _Folded)]
    if len(rows) <= MAX_ROWS:
        return items, 0
    preemptions = [pos for pos, i in enumerate(rows)
                   if isinstance(items[i], _Switch) and items[i].preempted]
    window = PREEMPTION_WINDOW
    while True:  # many preemptions: narrower windows, the latest ones first
        keep = set(rows[:HEAD_ROWS]) | set(rows[-TAIL_ROWS:])
        for pos in reversed(preemptions):
            around = set(rows[max(0, pos - window):pos + window + 1])
            if len(keep | around) > MAX_ROWS:
                break
            keep |= around
        if window <= 2 or all(rows[pos] in keep for pos in preemptions):
            break
        window //= 2
    out: list[Any] = []
    merged: Optional[_Folded] = None
    condensed = 0
    for index, item in enumerate(items):
        if index in keep or (isinstance(item, _Folded) and merged is None):
            if merged is not None and not isinstance(item, _Folded):
                out.append(_settle(merged))
                merged = None
            out.append(item)
            continue
        merged = merged or _Folded(condensed=True)
        if isinstance(item, _Row):
            _fold(merged, item.event, budget)
            condensed += 1
        elif isinstance(item, _Switch):
            merged.switches += 1
            merged.preemptions += item.preempted
        else:
            merged.count += item.count
            merged.per_thread.update(item.per_thread)
            merged.switches += item.switches
            merged.preemptions += item.preemptions
            room = max(0, MAX_FOLDED_PER_STRETCH - len(merged.events))
            merged.events.extend(item.events[:room])
    if merged is not None:
        out.append(_settle(merged))
    return out, condensed


def _settle(folded: _Folded) -> _Folded:
    """A fold of one thread's events, with no switch inside, goes in that thread's lane."""
    if not folded.switches and len(folded.per_thread) == 1:
        folded.lane = next(iter(folded.per_thread))
    return folded


def _plain(event: Any) -> dict:
    """A recorded event as a dict (``EventLog.as_dicts`` gives dicts; an ``Event`` works too)."""
    return event if isinstance(event, dict) else dict(vars(event))


def _shown(recorded: list[Any], events: list[dict], threads: list[str], start: int) -> set[int]:
    """Indices of the events ``relevant_trace`` keeps, and of every synchronization event."""
    lines, _ = relevant_trace(recorded, threads, limit=sys.maxsize)
    wanted = Counter((line.step, line.thread, line.kind, line.text, line.file, line.line)
                     for line in lines)
    shown = set()
    for index in range(start, len(events)):
        event = events[index]
        key = (event["step"], _name(threads, event["tid"]), event["kind"], event["text"],
               event["file"], event["line"])
        if wanted[key] > 0:
            wanted[key] -= 1
            shown.add(index)
        elif event["kind"] not in _HIDDEN_KINDS and event["kind"] != "access":
            shown.add(index)
    return shown


def _runs(events: list[dict], start: int) -> list[_Run]:
    runs: list[_Run] = []
    preempted = False
    for index in range(start, len(events)):
        event = events[index]
        if event["kind"] == "switch":
            preempted = preempted or bool(event["preempted"])
            continue
        if event["kind"] in _HIDDEN_KINDS:
            continue
        if not runs or runs[-1].tid != event["tid"]:
            runs.append(_Run(event["tid"], preempted))
            preempted = False
        runs[-1].indices.append(index)
    return runs


def _fold(folded: _Folded, event: dict, budget: list[int]) -> None:
    folded.count += 1
    folded.per_thread[event["tid"]] += 1
    if len(folded.events) < MAX_FOLDED_PER_STRETCH and budget[0] > 0:
        folded.events.append(event)
        budget[0] -= 1


def _failing_events(events: list[dict], threads: list[str], failure: Any) -> set[int]:
    """The events that fail: the access at the raising line, or the blocked waits of a deadlock."""
    kind = _field(failure, "kind", "")
    if kind == "deadlock":
        graph = _field(failure, "wait_for", {}) or {}
        stuck = set(graph.get("cycle") or ()) or {t.get("name") for t in graph.get("threads") or ()}
        found: dict[int, int] = {}
        for index, event in enumerate(events):
            if event["kind"] in ("blocked", "wait", "join", "sleep") \
                    and _name(threads, event["tid"]) in stuck:
                found[event["tid"]] = index
        return set(found.values())
    file, line = _raise_site(_field(failure, "details", ""))
    thread = _field(failure, "thread")
    found: set[int] = set()
    if file is None:
        return found
    # the thread's last events, while they are at the raising line (``assert x == y, msg``
    # reads several things there); none if it failed elsewhere, without an access
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event["kind"] in _HIDDEN_KINDS or _name(threads, event["tid"]) != thread:
            continue
        if event["file"] != file or event["line"] != line:
            break
        if event["kind"] == "access":
            found.add(index)
    return found


def _failure_end(threads: list[str], failure: Any) -> Optional[_Failure]:
    if failure is None:
        return None
    name = _field(failure, "thread")
    tid = threads.index(name) if name in threads else None
    kind = _field(failure, "kind", "failure")
    # a deadlock's details are every thread's stack, not a raising line
    file, line = _raise_site(_field(failure, "details", "")) if kind != "deadlock" else (None, None)
    return _Failure(tid, kind, _field(failure, "summary", ""), file, line)


def _is_racing(event: dict, threads: list[str], races: list[dict]) -> bool:
    if event["kind"] != "access":
        return False
    name = _name(threads, event["tid"])
    for race in races:
        for access in race["accesses"]:
            if access.get("thread") == name and access.get("line") == event["line"] \
                    and _same_file(access.get("file"), event["file"]) \
                    and access.get("kind", "write" if event["write"] else "read").startswith(
                        "write" if event["write"] else "read"):
                return True
    return False


def _same_file(a: Optional[str], b: Optional[str]) -> bool:
    if not a or not b:
        return False
    return a == b or os.path.abspath(a) == os.path.abspath(b)


def _name(threads: list[str], tid: int) -> str:
    return threads[tid] if 0 <= tid < len(threads) else f"thread {tid}"


# -- source lines ------------------------------------------------------------------------------

class _Sources:
    """The source lines the page needs (each event's line and its context), by file."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self._index: dict[str, int] = {}
        self.lines: dict[int, dict[int, str]] = {}

    def ref(self, file: Optional[str], line: Optional[int]) -> Optional[str]:
        """``"FILE:LINE"`` for the page's ``data-src``, after embedding the lines around it."""
        if not file or not line or not linecache.getline(file, line):
            return None
        index = self._index.get(file)
        if index is None:
            index = self._index[file] = len(self.files)
            self.files.append(file)
            self.lines[index] = {}
        for number in range(max(1, line - CONTEXT), line + CONTEXT + 1):
            text = linecache.getline(file, number)
            if text:
                self.lines[index][number] = text.rstrip("\n")
        return f"{index}:{line}"

    def line(self, file: Optional[str], line: Optional[int]) -> str:
        return linecache.getline(file, line).strip() if file and line else ""

    def as_json(self) -> dict:
        return {"files": [short_path(f) for f in self.files], "context": CONTEXT,
                "lines": {str(i): {str(n): t for n, t in lines.items()} for i, lines in self.lines.items()}}




# -- rendering ---------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _json_for_script(data: Any) -> str:
    """JSON that cannot end its ``<script>`` element nor open a comment or a new tag."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name: str) -> str:
    return resources.files("interlace.report").joinpath("html_assets", name).read_text("utf-8")


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def render_html(result: SearchResult, verdicts: Optional[Iterable[str]] = None) -> str:
    failure = result.failure if result.found else None
    events = list(_field(failure, "events", []) or [])
    threads = list(_field(failure, "threads", []) or [])
    races = races_of(result)
    sources = _Sources()
    items, end, dropped = _timeline(events, threads, failure, races) if failure is not None \
        else ([], None, 0)
    lanes = _lanes(threads, items, end)
    body = [_header(result, verdicts)]
    if races:  # found by ``--races`` with or without a failing execution
        body.append(_races_section(result, races, sources))
    if result.found:
        body.insert(1, _replay_box(result))
        if end is not None and end.kind == "deadlock":
            body.append(_deadlock_section(_field(failure, "wait_for"), threads))
        if events:
            body.append(_timeline_section(items, end, dropped, lanes, threads, sources, bool(races)))
        elif end is not None:
            why = ("replaying it would hang or crash again" if end.kind in ("hang", "crash")
                   else "the recorded replay did not fail the same way; see the caveats")
            body.append(f'<section><p class="note">No trace was recorded for this failure '
                        f'({_e(end.kind)}): {why}.</p></section>')
        body.append(_details_section(result, sources))
    body.append(_caveats(result))
    script = _asset("report.js")
    style = _asset("report.css") + _lane_colors(len(threads))
    csp = (f"default-src 'none'; script-src '{_csp_hash(script)}'; style-src 'unsafe-inline'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    title = f"interlace: {result.kind or result.verdict}"
    if result.summary:
        title += f": {result.summary}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(title[:200])}</title>",
        f"<style>{style}</style>",
        "</head>",
        '<body class="no-js">',
        '<main>',
        *body,
        "</main>",
        '<aside id="source-panel" class="source-panel" hidden>'
        '<div class="source-head"><span id="source-where"></span>'
        '<button type="button" id="source-close" title="close">&times;</button></div>'
        '<pre id="source-code"></pre></aside>',
        f'<script type="application/json" id="interlace-sources">{_json_for_script(sources.as_json())}</script>',
        f"<script>{script}</script>",
        "</body>",
        "</html>",
        "",
    ])


def _lanes(threads: list[str], items: list[Any], end: Optional[_Failure]) -> list[int]:
    """Thread numbers that get a lane: those with a row (or the failure), in creation order."""
    used = {item.event["tid"] for item in items if isinstance(item, _Row)}
    used |= {tid for item in items if isinstance(item, _Folded) for tid in item.per_thread}
    if end is not None and end.thread is not None:
        used.add(end.thread)
    return sorted(used) or list(range(len(threads)))


_PALETTE = ("#2563eb", "#d97706", "#059669", "#9333ea", "#db2777", "#0891b2", "#65a30d", "#dc2626")


def _lane_colors(count: int) -> str:
    return "".join(f".t{i}{{--lane:{_PALETTE[i % len(_PALETTE)]}}}" for i in range(max(count, 1)))


def _header(result: SearchResult, verdicts: Optional[Iterable[str]]) -> str:
    config = result.config
    failure = result.failure if result.found else None
    if result.found:
        kind = "" if (result.summary or "").startswith(f"{result.kind}:") else \
            f'<span class="kind">{_e(result.kind)}</span> '
        head = (f'<h1 class="verdict bug"><span class="badge">BUG FOUND</span> '
                f'{kind}{_e(result.summary)}</h1>')
        if config.strategy == "replay":
            meta = f"replay of one schedule, model {config.model.value}"
        else:
            meta = (f"model {config.model.value}, strategy {config.strategy}, found in execution "
                    f"{result.executions_to_bug} after {result.seconds_to_bug or 0:.2f} s; "
                    f"minimized with {result.shrink_executions} more executions")
        meta += (f"; {_field(failure, 'preemptions', 0)} preemption(s), "
                 f"{_field(failure, 'switches', 0)} switch(es)")
    elif result.verdict == "verified":
        head = f'<h1 class="verdict ok"><span class="badge ok">VERIFIED</span> {_e(statement(result))}</h1>'
        meta = ""
    else:
        head = (f'<h1 class="verdict none"><span class="badge none">NO BUG FOUND</span> '
                f'{_e(statement(result))}</h1>')
        meta = "This is not a proof: other interleavings may still fail."
    program = config.target.label if config.target is not None else short_path(config.script)
    parts = ['<header>', '<div class="brand">interlace report</div>', head,
             f'<p class="meta">program <code>{_e(program)}</code></p>']
    if meta:
        parts.append(f'<p class="meta">{_e(meta)}</p>')
    lines = list(verdicts or ())
    if lines:
        parts.append('<ul class="verdicts">' + "".join(f"<li>{_e(v)}</li>" for v in lines) + "</ul>")
    parts.append("</header>")
    return "\n".join(parts)


def _replay_box(result: SearchResult) -> str:
    if result.schedule is None:
        return ""
    command = replay_command(result)
    return ('<section class="replay"><h2>Replay it (fails the same way every time)</h2>'
            '<div class="command"><code id="replay-command">' + _e(command) + '</code>'
            '<button type="button" class="copy" data-copy="replay-command">Copy</button></div>'
            '</section>')


def _legend(races: bool) -> str:
    return ('<div class="legend"><span class="ev read">read</span><span class="ev write">write</span>'
            '<span class="ev sync">synchronization</span>'
            '<span class="sw-key">&#8594; switch</span><span class="sw-key preempt">&#9889; preemption</span>'
            '<span class="ev failing">failing</span>'
            + ('<span class="ev race">race</span>' if races else "") +
            '<span class="sw-key">&#9656; N steps folded, +N on an event: steps just before it, '
            'on data no other thread writes or reads</span></div>')


def _timeline_section(items: list[Any], end: Optional[_Failure], dropped: int, lanes: list[int],
                      threads: list[str], sources: _Sources, races: bool) -> str:
    col = {tid: i for i, tid in enumerate(lanes)}
    out = ['<section class="timeline-section"><h2>Interleaving</h2>',
           '<p class="hint">One lane per thread, steps down the page. Shown: accesses to data two '
           'threads share (one of them writing) and synchronization; other steps are folded '
           '(click to open). Point at or click an event for its source lines.</p>', _legend(races),
           '<table class="timeline"><colgroup><col class="step-col">'
           + "".join('<col>' for _ in lanes) + '</colgroup><thead><tr><th class="step">step</th>']
    for tid in lanes:
        out.append(f'<th class="lane-head t{tid}" data-tid="{tid}" title="{_e(_name(threads, tid))}">'
                   '<span class="dot"></span>'
                   f'{_e(_name(threads, tid))}</th>')
    out.append("</tr></thead>")
    if dropped:
        out.append(f'<tbody><tr class="omitted"><td></td><td colspan="{len(lanes)}">A long '
                   f'interleaving: {dropped} more events are folded to keep the page under about '
                   f'{MAX_ROWS} rows (the first and last rows and those around each preemption stay)'
                   '</td></tr></tbody>')
    out.append("<tbody>")
    mini = ""  # the toggle of a small fold just before, shown on the next event's card
    for index, item in enumerate(items):
        fold_id = f"fold-{index}"
        if isinstance(item, _Folded):
            follower = items[index + 1] if index + 1 < len(items) else None
            small = (item.lane is not None and item.count <= SMALL_FOLD and not item.prelude
                     and not item.condensed and isinstance(follower, _Row)
                     and follower.event["tid"] == item.lane)
            out.append("</tbody>")
            out.append(_folded_rows(item, col, threads, sources, fold_id, head=not small))
            out.append("<tbody>")
            if small:
                mini = (f'<button type="button" class="fold-mini" data-fold="{fold_id}" '
                        f'aria-expanded="false" title="{item.count} step{"s" if item.count != 1 else ""} '
                        f'folded just before: data no other thread writes or reads">'
                        f'+{item.count}</button>')
        elif isinstance(item, _Switch):
            out.append(_switch_row(item, col, threads))
        else:
            out.append(_event_row(item, col, sources, mini))
            mini = ""
    if end is not None:
        out.append(_failure_row(end, col, sources))
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _cells(col: dict[int, int], tid: Optional[int], content: str, running: Optional[int]) -> str:
    cells = []
    for lane, index in sorted(col.items(), key=lambda kv: kv[1]):
        classes = f"lane t{lane}" + (" run" if lane == running else "")
        cells.append(f'<td class="{classes}">{content if lane == tid else ""}</td>')
    return "".join(cells)


def _describe(event: dict) -> tuple[str, str, str]:
    """(css class, what it does, the value part) of one event."""
    if event["kind"] == "access":
        what = "write" if event["write"] else "read"
        value = ""
        if event["value"] is not None:
            value = (" = " if event["write"] else " \u2192 ") + str(event["value"])
        return what, what, value
    return "sync", event["kind"], ""


def _event_html(event: dict, sources: _Sources, extra: str = "", badges: str = "") -> str:
    css, what, value = _describe(event)
    ref = sources.ref(event["file"], event["line"])
    text = event["text"]
    if event["kind"] != "access" and text.startswith(event["kind"] + " "):
        text = text[len(event["kind"]) + 1:]
    elif event["kind"] == "end":  # "NAME ends", in NAME's own lane
        text = ""
    parts = [f'<div class="ev {css}{extra}"' + (f' data-src="{ref}" tabindex="0"' if ref else "") + ">",
             f'<div class="what"><span class="op">{_e(what)}</span> <span class="loc">{_e(text)}</span>']
    if value:
        parts.append(f'<span class="val">{_e(value)}</span>')
    parts.append(badges + "</div>")
    if event["file"]:
        code = sources.line(event["file"], event["line"])
        parts.append(f'<div class="src"><span class="where">{_e(os.path.basename(event["file"]))}:'
                     f'{_e(event["line"])}</span> <code>{_e(code)}</code></div>')
    parts.append("</div>")
    return "".join(parts)


def _event_row(row: _Row, col: dict[int, int], sources: _Sources, mini: str = "") -> str:
    extra = (" failing" if row.failing else "") + (" race" if row.race else "")
    badges = ('<span class="tag fail">failing</span>' if row.failing else "") + \
        ('<span class="tag race">race</span>' if row.race else "") + mini
    content = _event_html(row.event, sources, extra, badges)
    tid = row.event["tid"]
    return (f'<tr class="event" data-tid="{tid}"><td class="step">{_e(row.event["step"])}</td>'
            f'{_cells(col, tid, content, tid)}</tr>')


def _switch_row(switch: _Switch, col: dict[int, int], threads: list[str]) -> str:
    a, b = col.get(switch.source), col.get(switch.target)
    if a is None or b is None:
        return ""
    low, high = min(a, b), max(a, b)
    rightwards = b > a
    label = ("&#9889; preempted, " if switch.preempted else "") + "switch to " + \
        _e(_name(threads, switch.target))
    cells = []
    for lane, index in sorted(col.items(), key=lambda kv: kv[1]):
        classes = [f"lane t{lane}"]
        if index == a:
            classes.append("sw-from")
        if index == b:
            classes.append("sw-to")
        if low < index < high:
            classes.append("sw-mid")
        if low <= index <= high:
            classes.append("sw-right" if rightwards else "sw-left")
        content = f'<span class="sw-label">{label}</span>' if index == b else ""
        cells.append(f'<td class="{" ".join(classes)}">{content}</td>')
    kind = "switch preempt" if switch.preempted else "switch"
    title = (f"{_name(threads, switch.source)} could have gone on: a preemption"
             if switch.preempted else f"{_name(threads, switch.source)} could not go on")
    return (f'<tr class="{kind}" data-from="{switch.source}" data-to="{switch.target}" '
            f'title="{_e(title)}"><td class="step"></td>{"".join(cells)}</tr>')


def _folded_rows(folded: _Folded, col: dict[int, int], threads: list[str], sources: _Sources,
                 fold_id: str, head: bool = True) -> str:
    """The fold's toggle row (unless ``head`` is false: the next event's card carries it) and
    its hidden rows."""
    steps = f'{folded.count} step{"s" if folded.count != 1 else ""}'
    button = (f'<button type="button" class="fold-toggle" data-fold="{fold_id}" aria-expanded="false">'
              f'<span class="chev">&#9656;</span> {steps} folded</button>')
    if folded.prelude:
        what = "before the first thread starts"
    elif folded.condensed:
        what = "folded to keep the page short: " + ", ".join(
            f"{_name(threads, tid)}: {n}" for tid, n in sorted(folded.per_thread.items()))
        if folded.switches:
            what += f"; {folded.switches} switch{'es' if folded.switches != 1 else ''}"
            if folded.preemptions:
                what += f" ({folded.preemptions} preemption{'s' if folded.preemptions != 1 else ''})"
    elif folded.lane is not None:
        what = "data no other thread writes or reads"
    else:
        what = ", ".join(f"{_name(threads, tid)}: {n}" for tid, n in sorted(folded.per_thread.items()))
        if folded.switches:
            what += f"; {folded.switches} switch{'es' if folded.switches != 1 else ''}"
            if folded.preemptions:
                what += f" ({folded.preemptions} preemption{'s' if folded.preemptions != 1 else ''})"
    label = f'{button} <span class="fold-what">{_e(what)}</span>'
    if folded.lane is not None and folded.lane in col and not folded.condensed:
        label = button.replace('<button ', f'<button title="{_e(what)}" ', 1)  # short: they are many
        cells = _cells(col, folded.lane, label, folded.lane)
    else:
        cells = f'<td colspan="{len(col)}" class="span">{label}</td>'
    in_lane = " in-lane" if folded.lane is not None else ""
    header = f'<tbody class="fold"><tr class="fold-head{in_lane}"><td class="step"></td>{cells}</tr></tbody>'
    rows = [f'<tbody class="fold-body" id="{fold_id}" hidden>']
    for event in folded.events:
        tid = event["tid"]
        if tid not in col:
            continue
        content = _event_html(event, sources, " dim")
        rows.append(f'<tr class="event folded" data-tid="{tid}"><td class="step">{_e(event["step"])}</td>'
                    f'{_cells(col, tid, content, tid)}</tr>')
    if folded.count > len(folded.events):
        rows.append(f'<tr class="omitted"><td></td><td colspan="{len(col)}">&#8230; and '
                    f'{folded.count - len(folded.events)} more, not listed (a page lists at most '
                    f'{MAX_FOLDED_PER_STRETCH} steps per fold and {MAX_FOLDED} in all)</td></tr>')
    rows.append("</tbody>")
    return (header + "\n" if head else "") + "\n".join(rows)


def _failure_row(end: _Failure, col: dict[int, int], sources: _Sources) -> str:
    """The exception in the failing thread's lane; a deadlock (or a thread without a lane)
    across all lanes."""
    ref = sources.ref(end.file, end.line)
    src = ""
    if end.file:
        src = (f'<div class="src"><span class="where">{_e(os.path.basename(end.file))}:{_e(end.line)}'
               f'</span> <code>{_e(sources.line(end.file, end.line))}</code></div>')
    label = "Deadlock: no thread can run" if end.kind == "deadlock" else end.kind
    content = ('<div class="exc" id="failure"' + (f' data-src="{ref}" tabindex="0"' if ref else "") + '>'
               f'<div class="what"><span class="op">&#10006; {_e(label)}</span> '
               f'<span class="loc">{_e(end.summary)}</span></div>{src}</div>')
    if end.kind == "deadlock" or end.thread not in col:
        return (f'<tr class="failure-row"><td class="step"></td>'
                f'<td colspan="{len(col)}">{content}</td></tr>')
    return (f'<tr class="failure-row" data-tid="{end.thread}"><td class="step"></td>'
            f'{_cells(col, end.thread, content, end.thread)}</tr>')


def _deadlock_section(graph: Any, threads: list[str]) -> str:
    out = ['<section class="deadlock"><h2>Wait-for cycle</h2>']
    if not isinstance(graph, dict) or not graph.get("threads"):
        out.append('<p class="note">The wait-for graph was not recorded; the details below say '
                   'who holds and who waits for what.</p></section>')
        return "\n".join(out)
    entries = {t["name"]: t for t in graph["threads"]}
    cycle = list(graph.get("cycle") or ()) or _join_cycle(entries)
    if cycle:
        out.append(_cycle_svg([entries[name] for name in cycle if name in entries], threads))
    else:
        out.append('<p class="note">No cycle: every live thread is blocked, each on something '
                   'no other thread will release or signal.</p>')
    out.append('<table class="holds"><thead><tr><th>thread</th><th>holds</th><th>waits for</th>'
               '<th>who must act first</th></tr></thead><tbody>')
    for entry in graph["threads"]:
        in_cycle = " in-cycle" if entry["name"] in cycle else ""
        out.append(f'<tr class="holder{in_cycle}"><td>{_e(entry["name"])}</td>'
                   f'<td>{_e(", ".join(entry.get("holds") or ()) or "nothing")}</td>'
                   f'<td>{_e(entry.get("waits_for") or "")}</td>'
                   f'<td>{_e(entry.get("blocked_by") or "")}</td></tr>')
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _join_cycle(entries: dict[str, dict]) -> list[str]:
    """A cycle through joins too (``A`` joins ``B``, ``B`` waits for a lock ``A`` holds): the
    runtime's cycle follows lock owners only."""
    for start in entries:
        seen: list[str] = []
        name: Optional[str] = start
        while name is not None and name in entries and name not in seen:
            seen.append(name)
            name = entries[name].get("blocked_by")
        if name is not None and name in seen:
            return seen[seen.index(name):]
    return []


def _is_join(entry: dict) -> bool:
    return entry.get("blocked_by") is not None and \
        entry.get("waits_for") == f"thread {entry['blocked_by']} to finish"


def _cycle_svg(cycle: list[dict], threads: list[str]) -> str:
    """The cycle on a circle: thread -> waits for -> lock -> held by -> thread, or
    thread -> waits for it to end -> thread (a join)."""
    import math
    nodes: list[tuple[str, str, Optional[int]]] = []  # (kind, label, tid)
    for entry in cycle:
        tid = threads.index(entry["name"]) if entry["name"] in threads else None
        nodes.append(("thread", entry["name"], tid))
        if not _is_join(entry):
            nodes.append(("lock", entry.get("waits_for") or "?", None))
    count = len(nodes)
    radius = 80 + 24 * count
    width = 2 * radius + 260
    cx, cy = width / 2, radius + 40
    points = [(cx + radius * math.cos(-math.pi / 2 + 2 * math.pi * i / count),
               cy + radius * math.sin(-math.pi / 2 + 2 * math.pi * i / count)) for i in range(count)]
    height = max(y for _, y in points) + 45
    half = {"thread": (95.0, 20.0), "lock": (80.0, 18.0)}  # half width, half height of a node

    def trim(kind: str, ux: float, uy: float) -> float:
        """From a node's centre along (ux, uy) to just outside its box."""
        w, h = half[kind]
        return min(w / abs(ux) if ux else math.inf, h / abs(uy) if uy else math.inf) + 8

    out = [f'<svg class="cycle" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
           f'height="{height:.0f}" role="img" aria-label="wait-for cycle">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
           'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'class="arrowhead"/></marker></defs>']
    for i in range(count):
        (x1, y1), (x2, y2) = points[i], points[(i + 1) % count]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        start, stop = trim(nodes[i][0], ux, uy), trim(nodes[(i + 1) % count][0], ux, uy)
        sx, sy = x1 + ux * start, y1 + uy * start
        ex, ey = x2 - ux * stop, y2 - uy * stop
        label = "held by" if nodes[i][0] == "lock" else \
            "waits for" if nodes[(i + 1) % count][0] == "lock" else "waits for it to end"
        out.append(f'<line class="edge {"held" if label == "held by" else "wait"}" x1="{sx:.1f}" '
                   f'y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" marker-end="url(#arrow)"/>')
        # the label beside the middle of the edge, on the outer side of the circle
        mx, my = (sx + ex) / 2, (sy + ey) / 2
        ox, oy = mx - cx, my - cy
        away = math.hypot(ox, oy) or 1.0
        mx, my = mx + ox / away * 22, my + oy / away * 22 + 4
        out.append(f'<text class="edge-label" x="{mx:.1f}" y="{my:.1f}" text-anchor="middle">'
                   f'{label}</text>')
    for (kind, label, tid), (x, y) in zip(nodes, points):
        shown = label if len(label) <= 28 else label[:27] + "\u2026"
        if kind == "thread":
            out.append(f'<g class="node thread t{tid if tid is not None else 0}"><rect x="{x - 95:.1f}" '
                       f'y="{y - 20:.1f}" width="190" height="40" rx="20"/>'
                       f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle">{_e(shown)}'
                       f'<title>{_e(label)}</title></text></g>')
        else:
            out.append(f'<g class="node lock"><rect x="{x - 80:.1f}" y="{y - 18:.1f}" width="160" '
                       f'height="36" rx="4"/><text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle">'
                       f'{_e(shown)}<title>{_e(label)}</title></text></g>')
    out.append("</svg>")
    return "\n".join(out)


def _races_section(result: SearchResult, races: list[dict], sources: _Sources) -> str:
    out = ['<section class="races"><h2>Races</h2><ol>']
    for race in races:
        out.append(f'<li class="race-item"><div class="race-loc">on <code>{_e(race["location"])}</code></div>'
                   '<ul>')
        for access in race["accesses"]:
            ref = sources.ref(access.get("file"), access.get("line"))
            attr = f' data-src="{ref}" tabindex="0"' if ref else ""
            out.append(f'<li class="ev race {_e(access.get("kind") or "")}"{attr}>'
                       f'<span class="op">{_e(access.get("kind"))}</span> by '
                       f'<b>{_e(access.get("thread"))}</b> at '
                       f'<span class="where">{_e(short_path(access.get("file")))}:{_e(access.get("line"))}</span> '
                       f'<code>{_e(access.get("code") or sources.line(access.get("file"), access.get("line")))}</code></li>')
        out.append("</ul>")
        if race.get("schedule"):
            command = race["schedule"]
            if result.config.target is None and result.config.script:
                command = f"interlace replay --schedule {shlex.quote(str(race['schedule']))} " \
                          f"{shlex.quote(result.config.script)}"
            out.append(f'<div class="race-schedule">shown by <code>{_e(command)}</code></div>')
        out.append("</li>")
    out.append("</ol></section>")
    return "\n".join(out)


def _details_section(result: SearchResult, sources: _Sources) -> str:
    out = []
    if result.details:
        title = "Who holds and waits for what" if result.kind == "deadlock" else "Traceback"
        out.append(f'<section class="details"><h2>{title}</h2><pre class="traceback">'
                   f'{_e(result.details.rstrip())}</pre></section>')
    if result.program_output.strip():
        out.append('<section class="output"><details><summary>Program output of the failing '
                   f'execution</summary><pre>{_e(result.program_output.rstrip()[-20000:])}</pre>'
                   '</details></section>')
    return "\n".join(out)


def _caveats(result: SearchResult) -> str:
    notes = [f"warning: {w}" for w in result.warnings] + \
        [f"potential deadlock (lock-order inversion): {p}" for p in result.potential_deadlocks]
    if not notes:
        return ""
    return ('<section class="caveats"><h2>Caveats</h2><ul>'
            + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul></section>")
