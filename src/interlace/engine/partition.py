"""Splitting one systematic search into independent subtrees (``--jobs``, ``--shard``).

The first choice points are expanded completely, level by level: one execution per prefix
shows which threads can run at the next choice point, and every one of them (within the
preemption bound) starts a longer prefix.  Once there are enough prefixes, each is the root of
a subtree that a DPOR explorer of its own searches (:class:`~interlace.engine.dpor.Explorer`
with ``root``).

Why this is sound: DPOR reverses a race by adding an alternative at a choice point on the path
of the execution that showed it.  Inside a subtree that point is the subtree's own; above it,
every alternative already exists, because the split runs them all (except those a sleep set
rules out, as DPOR's own sleep sets do).  So the subtrees need not talk to each other, and
separate machines can take them (``--shard I/N`` takes every N-th).  The price is less
reduction above the split: a class of interleavings can be run in two subtrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from ..outcome import Outcome
from ..runtime.events import Sleeper, footprint_of


@dataclass(frozen=True)
class Prefix:
    """The first choices of a subtree, what they cost, and who sleeps where they end."""

    choices: tuple[int, ...]
    preemptions: int = 0
    #: Threads asleep at the last choice point (siblings before this one, which other
    #: subtrees explore first, and the parent's sleepers), as the tree's branches have them.
    sleep: dict = field(default_factory=dict, compare=False, hash=False)
    #: Its run was not cut short by its sleep set: the subtree has work of its own.
    live: bool = True


@dataclass
class Split:
    #: The subtrees' roots, in a fixed order (every shard computes the same list).
    roots: list[Prefix]
    #: Executions the split ran.
    executions: int
    #: The first failing execution's outcome, in prefix order (``None``: none failed).
    failure: Optional[Outcome] = None
    #: Set when a prefix could not be replayed (the program is nondeterministic).
    divergence: Optional[str] = None


def split(run_all: Callable[[list[Prefix]], list[Outcome]], wanted: int,
          preemption_bound: Optional[int]) -> Split:
    """Expand the first choice points until at least ``wanted`` subtrees have work of their own.

    ``run_all`` runs one execution per prefix (any number at once) and returns their outcomes
    in the same order.  Sleep sets cut what the split repeats: a thread run first at a choice
    point sleeps in its later siblings (until something it depends on happens), so a sibling
    is run only once the ones before it have shown what they do.  Not under a preemption
    bound, which sleep sets do not survive (see :mod:`interlace.engine.dpor`).
    """
    roots: list[Prefix] = []
    frontier: list[tuple[Prefix, Outcome]] = []  # live prefixes and their runs, to expand
    executions = 0
    families: list[list[Prefix]] = [[Prefix(())]]
    while True:
        ran: list[list[tuple[Prefix, Outcome]]] = [[] for _ in families]
        for wave in range(max((len(f) for f in families), default=0)):
            # under a preemption bound a sleeper's own subtree may not reach what it stands
            # for (the bound cuts it), so there nobody sleeps
            batch = [(n, family[wave] if preemption_bound is not None else
                      _asleep_after(family[wave], ran[n]))
                     for n, family in enumerate(families) if wave < len(family)]
            outcomes = run_all([prefix for _, prefix in batch])
            executions += len(outcomes)
            for (n, prefix), outcome in zip(batch, outcomes):
                if outcome.failed:
                    return Split(roots, executions, failure=outcome)
                if outcome.diverged:
                    return Split(roots, executions, divergence=outcome.summary)
                live = not outcome.sleep_blocked and outcome.asleep_from is None
                ran[n].append((replace(prefix, live=live), outcome))
        frontier = []
        for family in ran:
            for prefix, outcome in family:
                (frontier if prefix.live else roots).append((prefix, outcome) if prefix.live else prefix)
        if not frontier:
            return Split(roots, executions)
        children = [_children(prefix, outcome, preemption_bound) for prefix, outcome in frontier]
        if len(frontier) >= wanted or all(kids == [prefix] for kids, (prefix, _) in zip(children, frontier)):
            return Split(roots + [prefix for prefix, _ in frontier], executions)
        families = [kids for kids, (prefix, _) in zip(children, frontier) if kids != [prefix]]
        roots += [prefix for kids, (prefix, _) in zip(children, frontier) if kids == [prefix]]


def _asleep_after(prefix: Prefix, siblings: list[tuple[Prefix, Outcome]]) -> Prefix:
    """``prefix`` with the siblings run before it asleep at its last choice point."""
    if not siblings:
        return prefix
    depth = len(prefix.choices)
    sleep = dict(prefix.sleep)
    for sibling, outcome in siblings:
        base = (outcome.choices or [])[depth - 1][3]
        sleep[sibling.choices[-1]] = Sleeper.of(_footprint(outcome, depth), base)
    return replace(prefix, sleep=sleep)


def _children(prefix: Prefix, outcome: Outcome, bound: Optional[int]) -> list[Prefix]:
    choices = outcome.choices or []
    depth = len(prefix.choices)
    if len(choices) <= depth:
        return [prefix]  # the execution ended before another choice point
    enabled, _chosen, running, _objects = choices[depth]
    mine = _footprint(outcome, depth)  # what the last choice's thread did: wakes sleepers
    awake = {tid: s for tid, s in prefix.sleep.items() if not s.woken_by(mine)} if depth else {}
    children = []
    for tid in sorted(enabled):
        cost = prefix.preemptions + (running is not None and tid != running)
        if tid not in awake and (bound is None or cost <= bound):
            children.append(Prefix(prefix.choices + (tid,), cost, awake))
    return children or [prefix]


def _footprint(outcome: Outcome, step: int):
    """The footprint of the transition after choice point ``step`` of an execution."""
    return footprint_of([e for e in outcome.events or ()
                         if e["step"] == step and e.get("location") is not None])


def owned(roots: list[Prefix], shard: Optional[tuple[int, int]]) -> list[int]:
    """Indices of the roots this process explores: all, or shard I/N's share.

    Live roots are dealt out in turn, then the others, so every shard gets its share of both.
    """
    if shard is None:
        return list(range(len(roots)))
    part, parts = shard
    order = [i for i, r in enumerate(roots) if r.live] + [i for i, r in enumerate(roots) if not r.live]
    return sorted(i for n, i in enumerate(order) if n % parts == part - 1)
