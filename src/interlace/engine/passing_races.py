"""Data races seen in passing, by a search that was not asked for them (no ``--races``).

A program without an assertion can only fail by raising or deadlocking, so a racy one ends
"verified" or "no bug found" and exits 0: true about failures, and no help to someone who
wanted to know whether the program is thread-safe.  The systematic part of the search records
its executions anyway (the DPOR tree needs every access), so the first few recorded ones are
run through the race detector (``runtime.races``, happens-before over interlace's
primitives).  What it sees becomes a note beside the verdict: nothing failed, but two threads
touch one location with nothing ordering them; ``--races`` gives the full report, with a
replay token for each race.  The verdict and the exit status do not change: they are about
failures, and a race the program tolerates (a flag polled without a lock) is not one.

Happens-before does not depend on the order the accesses ran in, so a race shows in nearly
every execution in which both threads reach the racing accesses: the first three recorded
executions are looked at, then the 4th, 8th, 16th... (a race that needs both threads of a
pool to get work shows only later), so the cost grows with the logarithm of the search.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass, field
from ..outcome import Outcome
from ..runtime.races import RacePair, RaceSide, detect, suppressed

#: The first recorded executions looked at (then only the 4th, 8th, 16th...), and the most
#: races noted.
FIRST_EXECUTIONS = 3
NOTED = 3
#: Longer executions are not looked at (the detector is linear, but the search waits for it).
MAX_EVENTS = 50_000


@dataclass(frozen=True)
class SeenRace:
    """One race seen in passing: the location's name and its two accesses (no stacks, no
    schedule: ``--races`` builds and checks those)."""

    location: str
    accesses: tuple[RaceSide, RaceSide]

    def as_dict(self) -> dict:
        return {"location": self.location,
                "accesses": [{"thread": s.thread, "kind": s.kind, "file": s.file, "line": s.line,
                              "code": s.code} for s in self.accesses]}


@dataclass
class PassingRaces:
    """Looks at the first recorded executions of a search for data races."""

    #: Recorded executions offered, and those looked at.
    offered: int = 0
    checked: int = 0
    races: list[SeenRace] = field(default_factory=list)
    _keys: set = field(default_factory=set)

    def look(self, outcome: Outcome) -> None:
        events = outcome.events
        if events is None:
            return
        self.offered += 1
        n = self.offered
        if len(self.races) >= NOTED or len(events) > MAX_EVENTS \
                or (n > FIRST_EXECUTIONS and n & (n - 1)):  # past the first: powers of two
            return
        self.checked += 1
        for pair in detect(events):
            if len(self.races) >= NOTED:
                return
            if pair.key in self._keys or suppressed(pair, linecache.getline):
                continue
            self._keys.add(pair.key)
            self.races.append(_seen(pair, outcome.threads))


def _seen(pair: RacePair, threads: list[str]) -> SeenRace:
    sides = (RaceSide.of(pair.first, threads), RaceSide.of(pair.second, threads))
    return SeenRace(pair.second.label or pair.first.label or "?", sides)
