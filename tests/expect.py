"""The one way test programs declare their expected verdict: a header line.

    # expect: bug  # kind: assertion              every model: a bug of this kind
    # expect: safe                                 nothing may be found
    # expect: free-threaded=bug gil=safe gil-3.9=bug  # kind: assertion
    # expect: safe  # budget: 5                    a program whose executions are slow

tests/corpus, tests/programs and tests/gil_programs all use it (and bench/ reads it too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

_HEADER = re.compile(r"^# expect: (?P<body>[^#]*?)\s*(?:# kind: (?P<kind>\w+))?\s*"
                     r"(?:# budget: (?P<budget>\d+))?\s*$")
_VERDICTS = ("bug", "safe")
ANY_MODEL = "*"


@dataclass(frozen=True)
class Expect:
    verdicts: dict
    kind: Optional[str]
    #: Executions for a verdict test of a program whose executions are slow (else the test's).
    budget: Optional[int] = None

    def verdict(self, model: str = "free-threaded") -> str:
        """``"bug"`` or ``"safe"`` under ``model``."""
        return self.verdicts.get(model, self.verdicts.get(ANY_MODEL))


def expectation(path: Path) -> Expect:
    """The ``# expect:`` line of ``path`` (its first line); an error if it has none."""
    first = Path(path).read_text().splitlines()[0]
    match = _HEADER.match(first)
    if not match:
        raise AssertionError(f"{path}: the first line must be '# expect: ...', got {first!r}")
    verdicts = {}
    for word in match.group("body").split():
        model, _, verdict = word.rpartition("=")
        if verdict not in _VERDICTS:
            raise AssertionError(f"{path}: unknown verdict {verdict!r} in {first!r}")
        verdicts[model or ANY_MODEL] = verdict
    if not verdicts:
        raise AssertionError(f"{path}: no verdict in {first!r}")
    budget = match.group("budget")
    return Expect(verdicts, match.group("kind"), int(budget) if budget else None)
