"""A progress bar on terminals, silence otherwise (CI logs stay clean).

The bar tracks whichever limit will end the run first: executions against the budget, or
elapsed time against the time limit.  A budget of 100,000 under a 50 s limit fills with time.
While the shrinker runs, it says "minimizing" and counts the shrinker's executions.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, Optional


def fraction_done(done: int, total: int, elapsed: float, timeout: Optional[float]) -> float:
    """How far the run is towards the limit that will stop it first (0..1)."""
    by_count = done / total if total > 0 else 0.0
    by_time = elapsed / timeout if timeout else 0.0
    return max(0.0, min(1.0, max(by_count, by_time)))


@contextlib.contextmanager
def progress_bar(total: int, systematic: bool = False,
                 timeout: Optional[float] = None) -> Iterator[Callable[..., None]]:
    """Yield ``advance(done, total, bugs=0, phase="exploring")``.

    ``systematic``: the total is executions run plus alternatives known so far, which grows
    as races are found, so it is shown as a count "known left", not as a promise.
    ``timeout``: the run's time limit, which the bar also tracks.
    """
    if not sys.stderr.isatty():
        yield lambda done, total, bugs=0, phase="exploring": None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
    from rich.progress_bar import ProgressBar

    class LimitBar(ProgressColumn):
        """The bar of whichever limit is nearer: executions or seconds."""

        def render(self, task):  # type: ignore[override]
            fraction = fraction_done(task.fields["done"], task.fields["limit"],
                                     task.elapsed or 0.0, task.fields["timeout"])
            return ProgressBar(total=1.0, completed=fraction, width=BarColumn().bar_width)

    columns: list = [TextColumn("{task.fields[phase]:<10}"), LimitBar(),
                     TextColumn("{task.fields[done]}/{task.fields[limit]} {task.fields[unit]}")]
    if systematic:
        columns.append(TextColumn("{task.fields[left]}"))
    columns += [TextColumn("· bugs {task.fields[bugs]}"), TimeElapsedColumn()]
    columns.append(TextColumn("{task.fields[time_limit]}"))
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("explore", total=None, done=0, limit=total, left="", bugs=0,
                                 phase="exploring", unit="executions", timeout=timeout,
                                 time_limit=_time_limit(timeout))

        def advance(done: int, total: int, bugs: int = 0, phase: str = "exploring") -> None:
            minimizing = phase == "minimizing"
            left = f"· {max(total - done, 0)} known alternatives left" if not minimizing else ""
            progress.update(task, done=done, limit=total, bugs=bugs, phase=phase, left=left,
                            unit="attempts" if minimizing else "executions",
                            timeout=None if minimizing else timeout,
                            time_limit="" if minimizing else _time_limit(timeout))

        yield advance


def _time_limit(timeout: Optional[float]) -> str:
    """The search's time limit; the shrinker has none (it counts executions)."""
    return f"of {timeout:g} s" if timeout else ""
