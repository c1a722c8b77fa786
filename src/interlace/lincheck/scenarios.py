"""Scenarios: which operations each thread runs, and in which order the check tries them.

Threads are interchangeable, so a scenario is kept in a canonical form (its threads sorted)
and ``T1: a | T2: b`` is run once, not again as ``T1: b | T2: a``.  Small scenarios come
first, systematically (one operation per thread, then two...), because most bugs show with
few operations and a small failing scenario is the best report; then random scenarios of
the full size, drawn from the seed.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Iterator, Sequence


@dataclass(frozen=True)
class Scenario:
    """What each thread runs: ``ops[t]`` are the operation indices of thread ``T{t+1}``."""

    ops: tuple[tuple[int, ...], ...]
    #: The names of all the check's operations (for reports).
    names: tuple[str, ...]

    @property
    def threads(self) -> tuple[tuple[str, ...], ...]:
        """Per thread, the names of the operations it runs, in order."""
        return tuple(tuple(self.names[op] for op in thread) for thread in self.ops)

    @property
    def thread_names(self) -> tuple[str, ...]:
        return tuple(f"T{t}" for t in range(1, len(self.ops) + 1))

    @property
    def size(self) -> int:
        return sum(len(thread) for thread in self.ops)

    def shape(self) -> str:
        counts = sorted({len(thread) for thread in self.ops})
        per = f"{counts[0]}" if len(counts) == 1 else "-".join(str(c) for c in counts)
        return (f"{len(self.ops)} thread{'s' if len(self.ops) != 1 else ''} x {per} "
                f"operation{'s' if counts[-1] != 1 else ''}")

    def argument(self) -> str:
        """The ``scenario=`` argument that runs exactly this scenario again."""
        return repr([list(thread) for thread in self.threads])

    def __str__(self) -> str:
        return "\n".join(f"{name}: {', '.join(thread)}"
                         for name, thread in zip(self.thread_names, self.threads))


def canonical(ops: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(sorted(tuple(thread) for thread in ops))


def systematic(operations: int, threads: int, ops_per_thread: int) -> Iterator[tuple]:
    """Every canonical scenario with ``threads`` threads of 1, then 2, ... operations each."""
    for length in range(1, ops_per_thread + 1):
        sequences = itertools.product(range(operations), repeat=length)
        yield from itertools.combinations_with_replacement(list(sequences), threads)


def systematic_count(operations: int, threads: int, ops_per_thread: int) -> int:
    from math import comb
    return sum(comb(operations ** length + threads - 1, threads)
               for length in range(1, ops_per_thread + 1))


def plan(operations: int, threads: int, ops_per_thread: int, count: int,
         seed: int) -> list[tuple]:
    """The ``count`` scenarios to run, in order: small ones systematically, then random ones.

    When every scenario up to the full size fits in ``count``, that is the plan (random ones
    would only repeat them).  Otherwise the first half are the smallest ones, the rest
    random full-size ones from ``seed``.
    """
    total = systematic_count(operations, threads, ops_per_thread)
    if total <= count:
        return list(systematic(operations, threads, ops_per_thread))
    chosen = list(itertools.islice(systematic(operations, threads, ops_per_thread),
                                   (count + 1) // 2))
    seen = set(chosen)
    rng = random.Random(f"lincheck:{seed}")
    for _ in range(count * 50):
        if len(chosen) >= count:
            break
        scenario = canonical([[rng.randrange(operations) for _ in range(ops_per_thread)]
                              for _ in range(threads)])
        if scenario not in seen:
            seen.add(scenario)
            chosen.append(scenario)
    return chosen


def smaller(ops: tuple[tuple[int, ...], ...]) -> Iterator[tuple[tuple[int, ...], ...]]:
    """Scenarios one step smaller than ``ops``: a thread fewer, or one operation fewer."""
    seen = set()
    candidates = []
    if len(ops) > 1:
        candidates += [ops[:t] + ops[t + 1:] for t in range(len(ops))]
    for t, thread in enumerate(ops):
        if len(thread) > 1:
            candidates += [ops[:t] + (thread[:i] + thread[i + 1:],) + ops[t + 1:]
                           for i in range(len(thread))]
    for candidate in candidates:
        if candidate not in seen:
            seen.add(candidate)
            yield candidate
