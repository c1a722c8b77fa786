"""Several executions at once (``--jobs N``): forked children, read as their outcomes arrive.

Executions are already separate processes, so running N of them at a time needs no worker
processes of its own: the search forks up to N children and waits for whichever finishes
first.  What runs where never changes a result: each search decides from the outcomes in a
fixed order (by execution index, or per subtree), not in the order they arrive.
"""

from __future__ import annotations

import select
import time
from typing import Generic, Hashable, Optional, TypeVar

from ..config import cpu_count
from ..runtime.executor import ExecutionSpec, RunningExecution, Spare, fork_spare, shape, start_execution

Key = TypeVar("Key", bound=Hashable)
#: Spares kept at most (one per shape of execution; the oldest goes first).
_SHAPES = 2


class Pool(Generic[Key]):
    def __init__(self, jobs: int, fork_ahead: Optional[bool] = None) -> None:
        self.jobs = jobs
        #: Fork each execution's child ahead (``executor.Spare``)?  Only with a core to spare
        #: (``None``: decide so): the spare is set up on a core nothing else uses, else it
        #: only adds work (measured on two cores: 0.88-0.92x the executions per second with
        #: ``--jobs 2``, 1.06-1.36x with one job; docs/benchmarks.md).
        self.fork_ahead = jobs < cpu_count() if fork_ahead is None else fork_ahead
        self._running: dict[Key, RunningExecution] = {}
        #: The next execution's child of each shape, forked and set up while the current
        #: one runs (``executor.Spare``; the portfolio alternates recorded and unrecorded).
        self._spares: dict[ExecutionSpec, Spare] = {}

    @property
    def free(self) -> int:
        return self.jobs - len(self._running)

    def __len__(self) -> int:
        return len(self._running)

    def submit(self, key: Key, spec: ExecutionSpec) -> None:
        assert self.free > 0 and key not in self._running
        kind = shape(spec)
        self._running[key] = start_execution(spec, self._spares.pop(kind, None))
        if not self.fork_ahead:
            return
        if len(self._spares) >= _SHAPES:
            self._spares.pop(next(iter(self._spares))).discard()
        try:
            self._spares[kind] = fork_spare(spec)
        except OSError:  # no more processes: the next execution forks when it starts
            pass

    def next_outcome(self) -> tuple[Key, dict]:
        """Wait for one running execution to finish (or hang): its key and outcome."""
        while True:
            now = time.monotonic()
            for key, run in list(self._running.items()):
                if run.deadline <= now:
                    del self._running[key]
                    return key, run.hung()
            wait = min(run.deadline for run in self._running.values()) - now
            by_fd = {run.fd: key for key, run in self._running.items()}
            ready, _, _ = select.select(list(by_fd), [], [], max(wait, 0.0))
            for fd in ready:
                key = by_fd[fd]
                outcome = self._running[key].read()
                if outcome is not None:
                    del self._running[key]
                    return key, outcome

    def cancel(self, key: Optional[Key] = None) -> None:
        """Kill one running execution, or (``None``) all of them and the spares."""
        keys = list(self._running) if key is None else [key]
        for k in keys:
            run = self._running.pop(k, None)
            if run is not None:
                run.kill()
        while key is None and self._spares:
            self._spares.popitem()[1].discard()

    def __enter__(self) -> "Pool[Key]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()  # Ctrl-C or an error: leave no child behind
