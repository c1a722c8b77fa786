"""What a concurrent run of a scenario left behind: each call, its result and when it ran.

A *call* is one operation run by one thread.  Its result is what the operation returned, or
the exception it raised (type and message: a raised exception is an answer too, e.g.
``queue.Empty`` from ``get_nowait`` on an empty queue).  Its ``called`` and ``returned``
points count the calls and returns of the execution in the order they happened; under
interlace only one thread runs at a time, so that order is the real-time order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, Union


@dataclass(frozen=True, eq=False)
class Returned:
    """The operation returned ``value`` (compared with ``==``, never hashed)."""

    value: Any

    def text(self) -> str:
        return short_repr(self.value)


@dataclass(frozen=True)
class Raised:
    """The operation raised an exception of type ``type`` whose ``str()`` is ``message``."""

    type: type
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> "Raised":
        try:
            message = str(exc)
        except Exception:  # noqa: BLE001 - a broken __str__ must not hide the result
            message = "<str() failed>"
        return cls(type(exc), message)

    def text(self) -> str:
        name = self.type.__qualname__
        return f"raised {name}: {self.message}" if self.message else f"raised {name}"


Result = Union[Returned, Raised]


def same_result(concurrent: Result, sequential: Result) -> bool:
    """Did a sequential replay give the result the concurrent call gave?

    Values are compared with ``==`` (``is`` first, so a ``nan`` equals itself); exceptions by
    type and message.  An ``==`` that raises propagates: the check cannot decide, and must
    not guess either way.
    """
    if isinstance(concurrent, Raised) or isinstance(sequential, Raised):
        return concurrent == sequential
    if concurrent.value is sequential.value:
        return True
    return bool(concurrent.value == sequential.value)


@dataclass(frozen=True, eq=False)
class Call:
    """One operation as one thread ran it."""

    #: Index of the thread in the scenario (0 for ``T1``).
    thread: int
    #: Index of the operation in the operations given to the check.
    op: int
    result: Result
    #: When it was called and when it returned, counted over all calls and returns.
    called: int
    returned: int


@dataclass(frozen=True)
class HistoryRow:
    """One line of :class:`History`: plain text, safe to keep after the execution ended."""

    thread: str
    operation: str
    result: str
    called: int
    returned: int


class History(tuple):
    """The calls of the failing execution, in the order they were called.

    ``str(history)`` is the table the report shows: thread, operation, result, and the order
    (when the call started and when it returned, counted over the execution's calls and
    returns: ``1 -> 4`` overlaps ``2 -> 3``, and ``1 -> 2`` came before ``3 -> 4``).
    """

    def __new__(cls, rows: Sequence[HistoryRow] = ()) -> "History":
        return super().__new__(cls, sorted(rows, key=lambda row: row.called))

    def __str__(self) -> str:
        header = ("thread", "operation", "result", "order")
        lines = [(row.thread, row.operation, row.result, f"{row.called} -> {row.returned}")
                 for row in self]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(3)]
        out = []
        for line in [header, *lines]:
            out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths))
                       + "  " + line[3])
        return "\n".join(text.rstrip() for text in out)


def rows_of(calls: Sequence[Call], thread_names: Sequence[str],
            op_names: Sequence[str]) -> list[HistoryRow]:
    return [HistoryRow(thread_names[c.thread], op_names[c.op], c.result.text(), c.called,
                       c.returned) for c in calls]


def short_repr(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the report
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[:limit - 3] + "..."
