"""``python -m bench.lincheck``: the linearizability checker, measured.

1. The history check alone: ``n`` overlapping ``get`` calls (all returning 0), then an
   increment that returned 2 -- not linearizable, so every order of the gets must be
   refuted.  Configurations expanded and milliseconds, with the cache of failed
   configurations and with it disabled (a set that forgets).
2. Whole checks with the defaults on small classes with and without a race: verdict,
   scenarios, executions, seconds.

Prints a markdown section for docs/benchmarks.md ("Linearizability checker").
"""

from __future__ import annotations

import collections
import platform
import threading
import time

import interlace
from interlace.lincheck import checker
from interlace.lincheck.check import SequentialSpec
from interlace.lincheck.history import Call, Returned


class Counter:
    def __init__(self):
        self.value = 0

    def inc(self):
        self.value = self.value + 1
        return self.value

    def get(self):
        return self.value


class LockedCounter(Counter):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def inc(self):
        with self.lock:
            self.value = self.value + 1
            return self.value


class UniqueSet:
    def __init__(self):
        self.items = set()

    def add(self, item):
        if item in self.items:
            return False
        self.items.add(item)
        return True


class HalfLockedStack:
    def __init__(self):
        self.items = []
        self.lock = threading.Lock()

    def push(self, item):
        with self.lock:
            self.items.append(item)

    def pop(self):
        if not self.items:
            return None
        top = self.items[-1]
        del self.items[-1]
        return top


class _Forget(set):
    def add(self, item):  # the cache disabled: nothing is remembered as failed
        pass


def _history(n: int) -> list[Call]:
    calls = [Call(t, 1, Returned(0), t + 1, 2 * n - t) for t in range(n)]
    return calls + [Call(n, 0, Returned(2), 2 * n + 1, 2 * n + 2)]


def cache_rows() -> list[str]:
    rows = []
    for n in (4, 6, 8):
        cells = []
        for forget in (False, True):
            if forget:
                checker.set = _Forget  # type: ignore[attr-defined]
            try:
                spec = SequentialSpec(Counter, [Counter.inc, Counter.get])
                started = time.perf_counter()
                verdict = checker.check_history(_history(n), spec)
                seconds = time.perf_counter() - started
            finally:
                if forget:
                    del checker.set  # type: ignore[attr-defined]
            assert not verdict.linearizable
            cells.append(f"{verdict.explored} ({seconds * 1000:.1f} ms)")
        rows.append(f"| {n} | {cells[0]} | {cells[1]} |")
    return rows


CLASSES = [
    ("Counter (unlocked inc)", Counter, [Counter.inc, Counter.get], False),
    ("Counter (locked inc)", LockedCounter, [LockedCounter.inc, Counter.get], True),
    ("check-then-add set", UniqueSet, [lambda s: s.add(1)], False),
    ("stack, pop unlocked", HalfLockedStack,
     [lambda s: s.push(1), lambda s: s.push(2), lambda s: s.pop()], False),
    ("collections.deque", collections.deque,
     [lambda d: d.append(1), lambda d: d.append(2), lambda d: d.popleft()], True),
]


def check_rows() -> list[str]:
    rows = []
    for label, factory, operations, linearizable in CLASSES:
        started = time.monotonic()
        result = interlace.check_linearizable(factory, operations)
        seconds = time.monotonic() - started
        verdict = "no violation found" if result.ok else \
            f"not linearizable: {result.scenario.shape()}"
        right = "yes" if result.ok == linearizable else "NO"
        rows.append(f"| {label} | {'yes' if linearizable else 'no'} | {verdict} | {right} | "
                    f"{result.scenarios} | {result.executions} | {seconds:.1f} s |")
    return rows


def main() -> None:
    lines = ["## Linearizability checker", "",
             "`python -m bench.lincheck` (interlace installed in the venv), "
             f"Python {platform.python_version()}.", "",
             "History check alone: n overlapping `get` calls returning 0, then an increment "
             "that returned 2 (not linearizable: every order of the gets is refuted). "
             "Configurations expanded (and time), with the cache of failed configurations "
             "and without it:", "",
             "| n | with the cache | without |", "|---|---|---|", *cache_rows(), "",
             "Whole checks with the default arguments (DPOR per scenario, then 10 random walks):",
             "",
             "| class | linearizable | verdict | right | scenarios | executions | time |",
             "|---|---|---|---|---|---|---|", *check_rows(), ""]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
