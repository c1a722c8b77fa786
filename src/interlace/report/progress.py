"""A progress bar on terminals, silence otherwise (CI logs stay clean)."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


@contextlib.contextmanager
def progress_bar(total: int, systematic: bool = False) -> Iterator[Callable[..., None]]:
    """Yield ``advance(done, total, bugs=0)``.

    ``systematic``: the total is executions run plus alternatives known so far, which grows
    as races are found, so it is shown as a count "known left", not as a promise.
    """
    if not sys.stderr.isatty():
        yield lambda done, total, bugs=0: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn("exploring"), BarColumn(), MofNCompleteColumn(), TextColumn("executions")]
    if systematic:
        columns.append(TextColumn("· {task.fields[left]} known alternatives left"))
    columns += [TextColumn("· bugs {task.fields[bugs]}"), TimeElapsedColumn()]
    with Progress(*columns, transient=True, console=None) as progress:
        task = progress.add_task("explore", total=total, left=0, bugs=0)

        def advance(done: int, total: int, bugs: int = 0) -> None:
            progress.update(task, completed=done, total=total, left=max(total - done, 0), bugs=bugs)

        yield advance
