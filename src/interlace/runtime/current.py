"""The scheduler of the execution running in this process (``None`` outside executions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .scheduler import Scheduler

scheduler: Optional["Scheduler"] = None
