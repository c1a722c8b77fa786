"""Per-instruction hooks: the one narrow interface between the interpreter and the scheduler.

A back-end calls ``dispatch(step, frame)`` before every instruction whose plan entry is not
``None`` in code the :class:`~interlace.hooks.scope.Scope` includes; ``frame`` may be ``None``
(monitoring), in which case the scheduler fetches it only when it needs it.  Back-ends:
``sys.monitoring`` on 3.12+, ``sys.settrace`` with opcode events on 3.10/3.11.
"""

from __future__ import annotations

import sys
from typing import Callable, Protocol

from ..models import Model
from .scope import Scope


class Hooks(Protocol):
    def install(self) -> None: ...

    def attach_thread(self) -> None:
        """Called in every new managed thread before it runs user code."""

    def uninstall(self) -> None: ...


def make_hooks(scope: Scope, model: Model, record: bool, dispatch: Callable) -> Hooks:
    if sys.version_info >= (3, 12):
        from .monitoring import MonitoringHooks
        return MonitoringHooks(scope, model, record, dispatch)
    from .settrace import TraceHooks
    return TraceHooks(scope, model, record, dispatch)
