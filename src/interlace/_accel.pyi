"""Type stub of the C accelerator (src/interlace/_accel.c); loaded through interlace.accel."""

from types import CodeType, FrameType
from typing import Any, Callable, Optional

#: The scheduler attributes mirrored into C (must equal ``Scheduler.ACCEL_FLAGS``).
FLAGS: tuple[str, ...]
#: 1 when built for ``sys.monitoring`` (3.12+), 0 for the ``settrace`` back-end.
MONITORING: int
#: No-op calls in a row, while one thread is alone, before INSTRUCTION events go off.
QUIET_THRESHOLD: int

class Hook:
    """The per-instruction hook: a ``sys.monitoring`` INSTRUCTION callback (3.12+) or the
    state of a C trace function (3.10/3.11)."""

    quiet_threshold: int
    def __init__(self, dispatch: Callable[[Any, Optional[FrameType]], None], *,
                 record: bool = ..., need_frame: bool = ..., monitoring: bool = ...,
                 tool: int = ..., set_local_events: Optional[Callable[[int, CodeType, int], Any]] = ...,
                 builder: Optional[Callable[[CodeType], Optional[list]]] = ...) -> None: ...
    def __call__(self, code: CodeType, offset: int) -> Any: ...
    def add(self, code: CodeType, plan: list) -> None: ...
    def bind(self, max_steps: int, quiet_until: Optional[Callable[[int], int]] = ...,
             random_walk: Optional[tuple[Callable[[], float], float, int]] = ...,
             switch_to: Optional[Callable[..., Any]] = ...) -> None: ...
    def stats(self) -> dict[str, int]: ...

class Flag:
    """A data descriptor storing one scheduler attribute into its :class:`Hook`."""

    hook: Hook
    def __init__(self, hook: Hook, name: str) -> None: ...
    def __get__(self, obj: Any, objtype: Any = ...) -> Any: ...
    def __set__(self, obj: Any, value: Any) -> None: ...

class Baton:
    """A binary semaphore acquired and released with the GIL dropped."""

    def acquire(self) -> bool: ...
    def release(self) -> None: ...
    def locked(self) -> bool: ...

def handoff(to: Baton, me: Baton) -> None:
    """Release ``to`` and wait for ``me``, the GIL dropped throughout."""

def settrace(hook: Optional[Hook]) -> None:
    """3.10/3.11 only: install ``hook`` as the calling thread's C trace function."""
