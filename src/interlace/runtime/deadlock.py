"""Explaining a deadlock: who holds what, who waits for what, the cycle, and each stack."""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING

from ..hooks.scope import PACKAGE_DIR
from .threads import ManagedThread, State

if TYPE_CHECKING:
    from .scheduler import Scheduler


def label(obj: object) -> str:
    if isinstance(obj, ManagedThread):
        return f"thread {obj.name} to finish"
    if isinstance(obj, str):
        return obj
    return getattr(obj, "_interlace_label", None) or type(obj).__name__


def describe_deadlock(sched: "Scheduler", live: list[ManagedThread]) -> tuple[str, str]:
    """A one-line summary and a detailed report with a user-code stack per thread."""
    cycle = _find_cycle(live)
    if cycle:
        parts = [f"{t.name} waits for {label(t.waiting_for)} held by {_owner(t).name}" for t in cycle]
        summary = "deadlock: " + "; ".join(parts)
    else:
        summary = "deadlock: every live thread is blocked (" + ", ".join(
            f"{t.name} waits for {label(t.waiting_for)}" for t in live) + ")"
    frames = sys._current_frames()
    lines = []
    for t in live:
        held = ", ".join(label(lock) for lock in t.held) or "nothing"
        lines.append(f"{t.name}: holds {held}; waits for {label(t.waiting_for)}")
        frame = frames.get(t.ident) if t.ident is not None else None
        if frame is not None:
            stack = [entry for entry in traceback.extract_stack(frame) if _is_user(entry.filename)]
            lines.extend("  " + line.rstrip("\n") for line in traceback.format_list(stack))
    return summary, "\n".join(lines)


def wait_for_graph(live: list[ManagedThread]) -> dict:
    """The deadlock as plain data (the HTML report draws it): per live thread what it holds,
    what it waits for and which thread that is up to (the owner, or the thread it joins),
    and the names on the cycle, if there is one."""
    def blocker(thread: ManagedThread):
        waited = thread.waiting_for
        if isinstance(waited, ManagedThread):
            return waited.name
        owner = getattr(waited, "_interlace_owner", None)
        return owner.name if owner is not None else None

    return {"threads": [{"name": t.name, "holds": [label(lock) for lock in t.held],
                         "waits_for": label(t.waiting_for) if t.waiting_for is not None else None,
                         "blocked_by": blocker(t)} for t in live],
            "cycle": [t.name for t in _find_cycle(live)]}


def _owner(thread: ManagedThread) -> ManagedThread:
    return getattr(thread.waiting_for, "_interlace_owner", None) or thread


def _find_cycle(live: list[ManagedThread]) -> list[ManagedThread]:
    """Follow thread -> lock -> owning thread edges until a thread repeats."""
    for start in live:
        seen: list[ManagedThread] = []
        node = start
        while node is not None and node not in seen and node.state is State.BLOCKED:
            seen.append(node)
            node = getattr(node.waiting_for, "_interlace_owner", None)
        if node is not None and node in seen:
            return seen[seen.index(node):]
    return []


def _is_user(filename: str) -> bool:
    return not filename.startswith(PACKAGE_DIR) and not filename.endswith(("threading.py", "queue.py"))


class LockOrder:
    """Lock-acquisition order per thread, to warn about ABBA inversions that did not deadlock."""

    def __init__(self) -> None:
        self._edges: dict[tuple[str, str], str] = {}

    def acquired(self, thread: ManagedThread, lock_label: str) -> None:
        for held in thread.held:
            held_label = getattr(held, "_interlace_label", None)
            if held_label and held_label != lock_label:
                self._edges.setdefault((held_label, lock_label), thread.name)

    def inversions(self) -> list[str]:
        out = []
        for (a, b), who in self._edges.items():
            other = self._edges.get((b, a))
            if other and other != who and a < b:
                out.append(f"{who} took {a} then {b}, while {other} took {b} then {a}")
        return out
