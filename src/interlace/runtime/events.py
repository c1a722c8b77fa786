"""The event log of a recorded execution: what each thread did, in order."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional


@dataclass
class Event:
    #: Scheduling step at which the event happened.
    step: int
    #: Thread number (0 = main).
    tid: int
    #: ``access``, ``switch``, or a sync kind: ``acquire``, ``release``, ``wait``, ``notify``,
    #: ``start``, ``join``, ``end``, ``sleep``, ``blocked``...
    kind: str
    text: str
    write: bool = False
    value: Optional[str] = None
    #: Conflict identity: ``("g", ns, name)``, ``("a", obj, attr)``, ``("o", obj, key)``,
    #: ``("s", primitive)`` for synchronization objects.
    location: Any = None
    file: Optional[str] = None
    line: Optional[int] = None
    #: For switches: was the previous thread still runnable (a preemption)?
    preempted: bool = False


class EventLog:
    """Append-only; bounded so a runaway loop cannot eat the machine's memory."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.dropped = 0

    def add(self, event: Event) -> None:
        if len(self.events) < self.LIMIT:
            self.events.append(event)
        else:
            self.dropped += 1

    def as_dicts(self) -> list[dict]:
        out = []
        for event in self.events:
            data = asdict(event)
            data["location"] = _plain(event.location)
            out.append(data)
        return out


def _plain(location: Any) -> Any:
    """Locations hold object ids and keys; keep them picklable and comparable."""
    if location is None:
        return None
    return tuple(item if isinstance(item, (int, str, float, bool, type(None))) else repr(item)
                 for item in location)
