"""A progress bar on terminals, silence otherwise (CI logs stay clean)."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


@contextlib.contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int, int], None]]:
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("exploring"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("executions"), TimeElapsedColumn(), transient=True,
                  console=None) as progress:
        task = progress.add_task("explore", total=total)
        yield lambda done, total: progress.update(task, completed=done)
