"""Scenarios: which operations each thread runs, and in which order the check tries them.

A scenario is an optional *init* part (calls the main thread makes, one after another,
before the threads start: they bring the object into a state where a race can show, e.g. a
non-empty stack for two ``pop`` calls) and the threads' parts.  Threads are
interchangeable, so a scenario is kept in a canonical form (its threads sorted) and
``T1: a | T2: b`` is run once, not again as ``T1: b | T2: a``.  Small scenarios come first,
systematically, by their number of calls (one operation per thread; then one init call
more; then two per thread...), because most bugs show with few calls and a small failing
scenario is the best report; then random scenarios of the full size, drawn from the seed.

Internally a scenario is its *key*, ``(init, threads)``: tuples of operation indices.
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
    #: Operation indices the main thread calls, in order, before the threads start.
    init: tuple[int, ...] = ()

    @classmethod
    def of(cls, key: tuple, names: tuple[str, ...]) -> "Scenario":
        init, ops = key
        return cls(ops, names, init)

    @property
    def key(self) -> tuple:
        return (self.init, self.ops)

    @property
    def init_names(self) -> tuple[str, ...]:
        return tuple(self.names[op] for op in self.init)

    @property
    def threads(self) -> tuple[tuple[str, ...], ...]:
        """Per thread, the names of the operations it runs, in order."""
        return tuple(tuple(self.names[op] for op in thread) for thread in self.ops)

    @property
    def thread_names(self) -> tuple[str, ...]:
        """``T1``, ``T2``...; the init calls are made by ``init`` (the last index)."""
        return tuple(f"T{t}" for t in range(1, len(self.ops) + 1)) + ("init",)

    @property
    def size(self) -> int:
        return len(self.init) + sum(len(thread) for thread in self.ops)

    def shape(self) -> str:
        counts = sorted({len(thread) for thread in self.ops})
        per = f"{counts[0]}" if len(counts) == 1 else "-".join(str(c) for c in counts)
        text = (f"{len(self.ops)} thread{'s' if len(self.ops) != 1 else ''} x {per} "
                f"operation{'s' if counts[-1] != 1 else ''}")
        if self.init:
            text += f" after {len(self.init)} init call{'s' if len(self.init) != 1 else ''}"
        return text

    def argument(self) -> str:
        """The ``scenario=`` argument that runs exactly this scenario again."""
        threads = [list(thread) for thread in self.threads]
        if self.init:
            return repr({"init": list(self.init_names), "threads": threads})
        return repr(threads)

    def __str__(self) -> str:
        lines = [f"init: {', '.join(self.init_names)}"] if self.init else []
        return "\n".join(lines + [f"{name}: {', '.join(thread)}"
                                  for name, thread in zip(self.thread_names, self.threads)])


def canonical(ops: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(sorted(tuple(thread) for thread in ops))


def _shapes(threads: int, ops_per_thread: int, init_ops: int) -> list[tuple[int, int]]:
    """``(init length, operations per thread)`` pairs, fewest calls first."""
    shapes = [(length, per) for per in range(1, ops_per_thread + 1)
              for length in range(init_ops + 1)]
    return sorted(shapes, key=lambda shape: (shape[0] + threads * shape[1], shape[0]))


def systematic(operations: int, threads: int, ops_per_thread: int,
               init_ops: int = 0) -> Iterator[tuple]:
    """Every canonical scenario key, fewest calls first."""
    for length, per in _shapes(threads, ops_per_thread, init_ops):
        sequences = list(itertools.product(range(operations), repeat=per))
        for init in itertools.product(range(operations), repeat=length):
            for ops in itertools.combinations_with_replacement(sequences, threads):
                yield (init, ops)


def systematic_count(operations: int, threads: int, ops_per_thread: int,
                     init_ops: int = 0) -> int:
    from math import comb
    return sum(operations ** length * comb(operations ** per + threads - 1, threads)
               for length, per in _shapes(threads, ops_per_thread, init_ops))


def plan(operations: int, threads: int, ops_per_thread: int, count: int, seed: int,
         init_ops: int = 0) -> list[tuple]:
    """The ``count`` scenario keys to run, in order: small ones systematically, then random.

    When every scenario up to the full size fits in ``count``, that is the plan (random ones
    would only repeat them).  Otherwise the first half are the smallest ones, the rest
    random ones with ``ops_per_thread`` operations per thread (and 0 to ``init_ops`` init
    calls) from ``seed``.
    """
    if systematic_count(operations, threads, ops_per_thread, init_ops) <= count:
        return list(systematic(operations, threads, ops_per_thread, init_ops))
    chosen = list(itertools.islice(systematic(operations, threads, ops_per_thread, init_ops),
                                   (count + 1) // 2))
    seen = set(chosen)
    rng = random.Random(f"lincheck:{seed}")
    for _ in range(count * 50):
        if len(chosen) >= count:
            break
        init = tuple(rng.randrange(operations) for _ in range(rng.randint(0, init_ops)))
        key = (init, canonical([[rng.randrange(operations) for _ in range(ops_per_thread)]
                                for _ in range(threads)]))
        if key not in seen:
            seen.add(key)
            chosen.append(key)
    return chosen


def smaller(key: tuple) -> Iterator[tuple]:
    """Scenario keys one step smaller: an init call, a thread or an operation fewer."""
    init, ops = key
    candidates = [(init[:i] + init[i + 1:], ops) for i in range(len(init))]
    if len(ops) > 1:
        candidates += [(init, ops[:t] + ops[t + 1:]) for t in range(len(ops))]
    for t, thread in enumerate(ops):
        if len(thread) > 1:
            candidates += [(init, ops[:t] + (thread[:i] + thread[i + 1:],) + ops[t + 1:])
                           for i in range(len(thread))]
    seen = set()
    for candidate in candidates:
        if candidate not in seen:
            seen.add(candidate)
            yield candidate
