"""Brute force against DPOR: every schedule of a small program, grouped by happens-before.

Used by ``test_dpor.py``.  The classes are computed here, independently of the explorer's own
race analysis, at the finest grain the recording gives: each recorded access or
synchronization event.  Two executions are in one class when every pair of conflicting events
of different threads comes in the same order (one Mazurkiewicz trace).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Optional

from interlace.engine.dpor import Explorer
from interlace.engine.search import SearchConfig, SearchResult
from interlace.engine.systematic import search_systematic
from interlace.runtime.events import Footprint


@dataclass
class Run:
    result: SearchResult
    #: One class key per execution that ran to its end (sleep-set-blocked ones are not runs).
    classes: list = field(default_factory=list)
    #: What each complete execution wrote through ``_final.report``.
    finals: list = field(default_factory=list)
    #: The recorded events of the first execution (the default schedule).
    first_events: list = field(default_factory=list)


def explore(program: str, *, reduce: bool, preemptions: Optional[int] = None,
            budget: int = 20_000, model=None) -> Run:
    handle, path = tempfile.mkstemp(prefix="interlace-final-")
    os.close(handle)
    run = Run(result=None)  # type: ignore[arg-type]

    def observe(outcome) -> None:
        if not run.first_events:
            run.first_events = outcome.events
        if not outcome.sleep_blocked and not outcome.failed:
            run.classes.append(class_of(outcome.events))

    extra = {"model": model} if model is not None else {}
    config = SearchConfig(script=str(program), argv=(path,), strategy="dpor", budget=budget,
                          timeout=600, preemptions=preemptions, **extra)
    try:
        run.result = search_systematic(config, explorer=Explorer(reduce=reduce, preemption_bound=preemptions),
                                       observe=observe)
        with open(path) as stream:
            run.finals = stream.read().splitlines()
    finally:
        os.unlink(path)
    return run


def class_of(events: list[dict]) -> frozenset:
    """The happens-before class of one execution, independent of object numbering.

    Events are named ``(thread, n)``: the thread's n-th event with a location.  The key holds
    what each event did (kind, read/write, the location with object numbers dropped) and, for
    every conflicting pair of different threads, which came first.
    """
    named = []
    count: dict[int, int] = {}
    for event in events:
        if event.get("location") is None:
            continue
        n = count.get(event["tid"], 0)
        count[event["tid"]] = n + 1
        fp = Footprint()
        fp.add(tuple(event["location"]), bool(event["write"]))
        named.append(((event["tid"], n), fp, _shape(event)))
    key = {("did", name, shape) for name, _, shape in named}
    for a in range(len(named)):
        for b in range(a + 1, len(named)):
            (ta, fa, _), (tb, fb, _) = named[a], named[b]
            if ta[0] != tb[0] and fa.conflicts(fb):
                key.add(("before", ta, tb))
    return frozenset(key)


def _shape(event: dict) -> tuple:
    location = tuple(v if not isinstance(v, int) or isinstance(v, bool) else "#" for v in event["location"])
    return (event["kind"], bool(event["write"]), location)


def every_class(events: list[dict], preemptions: Optional[int] = None) -> set[frozenset]:
    """Every class of every interleaving of one execution's per-thread events.

    ``preemptions``: only interleavings that switch away from a thread that could go on at
    most that many times.

    The events of each thread are taken as recorded (the program's control flow must not
    depend on the schedule), and interleaved in every way the program allows: a thread begins
    after the ``start`` that creates it, a ``join`` comes after the thread's ``end``, and a
    lock is acquired only while no other thread holds it.  Every interleaving is a path
    through the states (how far each thread got); its class is the union of the "before"
    pairs added on its way, so the set of classes is computed per state, once, instead of per
    interleaving (the same answer as listing them all, in time linear in the states).
    """
    threads: dict[int, list] = {}
    for event in events:
        if event.get("location") is not None:
            threads.setdefault(event["tid"], []).append(event)
    tids = sorted(threads)
    seqs = [threads[t] for t in tids]
    prints = [[_print(e) for e in seq] for seq in seqs]
    did = frozenset(("did", (tids[i], n), _shape(e)) for i, seq in enumerate(seqs) for n, e in enumerate(seq))
    starts = {tuple(e["location"]): (i, n) for i, seq in enumerate(seqs) for n, e in enumerate(seq)
              if e["kind"] == "start"}
    ends = {tuple(e["location"]): (i, n) for i, seq in enumerate(seqs) for n, e in enumerate(seq)
            if e["kind"] == "end"}
    memo: dict[tuple, set[frozenset]] = {}
    bound = preemptions if preemptions is not None else len(events)

    def done(pos: tuple, where: Optional[tuple]) -> bool:
        return where is None or pos[where[0]] > where[1]

    def owners(pos: tuple) -> dict:
        """Lock -> the thread holding it: whose own last operation on it was an acquire."""
        held: dict = {}
        for i, seq in enumerate(seqs):
            mine: dict = {}
            for e in seq[:pos[i]]:
                if e["kind"] in ("acquire", "release"):
                    mine[tuple(e["location"])] = e["kind"] == "acquire"
            held.update((lock, i) for lock, holding in mine.items() if holding)
        return held

    def enabled(pos: tuple, i: int) -> bool:
        if pos[i] == len(seqs[i]):
            return False
        e = seqs[i][pos[i]]
        loc = tuple(e["location"])
        if e["kind"] == "begin":
            return done(pos, starts.get(loc))
        if e["kind"] == "join":
            return done(pos, ends.get(loc))
        if e["kind"] == "acquire":
            return owners(pos).get(loc, i) == i
        return True

    def classes(pos: tuple, last: int, used: int) -> set[frozenset]:
        found = memo.get((pos, last, used))
        if found is not None:
            return found
        found = set()
        movable = [i for i in range(len(seqs)) if enabled(pos, i)]
        if not movable:
            assert all(p == len(s) for p, s in zip(pos, seqs)), f"stuck at {pos}"
            found.add(frozenset())
        for i in movable:
            cost = used + (last in movable and i != last) if preemptions is not None else 0
            if cost > bound:
                continue
            me = (tids[i], pos[i])
            fp = prints[i][pos[i]]
            pairs = {("before", me, (tids[k], n)) for k in range(len(seqs)) if k != i
                     for n in range(pos[k], len(seqs[k])) if fp.conflicts(prints[k][n])}
            after = pos[:i] + (pos[i] + 1,) + pos[i + 1:]
            found.update(frozenset(pairs) | rest for rest in classes(after, i, cost))
        memo[(pos, last, used)] = found
        return found

    return {did | key for key in classes(tuple(0 for _ in seqs), 0, 0)}


def _print(event: dict) -> Footprint:
    fp = Footprint()
    fp.add(tuple(event["location"]), bool(event["write"]))
    return fp
