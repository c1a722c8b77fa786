"""Per-instruction hooks: the one narrow interface between the interpreter and the scheduler.

A back-end calls ``dispatch(step, frame)`` before every instruction whose plan entry is not
``None`` in code the :class:`~interlace.hooks.scope.Scope` includes; ``frame`` may be ``None``
(monitoring), in which case the scheduler fetches it only when it needs it.  Back-ends:
``sys.monitoring`` on 3.12+, ``sys.settrace`` with opcode events on 3.10/3.11.

Each back-end has two implementations with identical results: pure Python, and the C
accelerator ``interlace._accel`` (built by the normal install when a compiler is there), which
calls ``dispatch`` only when that call would do something.  :func:`make_hooks` is the one place
that chooses; ``INTERLACE_PURE_PYTHON=1`` forces the pure-Python hooks (and thread batons).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Callable, Optional, Protocol

from ..models import Model
from .scope import Scope


class Hooks(Protocol):
    def install(self) -> None: ...

    def attach_thread(self) -> None:
        """Called in every new managed thread before it runs user code."""

    def uninstall(self) -> None: ...


_UNSET = object()
_accel: object = _UNSET


def accelerator() -> Optional[ModuleType]:
    """The C accelerator module, or ``None`` (not built, or ``INTERLACE_PURE_PYTHON=1``)."""
    global _accel
    if _accel is _UNSET:
        _accel = None
        if os.environ.get("INTERLACE_PURE_PYTHON", "") in ("", "0"):
            try:
                from .. import _accel as module
            except ImportError:
                pass
            else:
                _accel = module
    return _accel  # type: ignore[return-value]


def make_hooks(scope: Scope, model: Model, record: bool, dispatch: Callable) -> Hooks:
    """The hooks of one execution (in its forked process, before any other thread starts)."""
    from ..runtime.threads import pin_to_one_cpu
    pin_to_one_cpu()  # every thread started from here on inherits it
    accel = accelerator()
    if sys.version_info >= (3, 12):
        from .monitoring import MonitoringHooks
        return MonitoringHooks(scope, model, record, dispatch, accel)
    from .settrace import TraceHooks
    return TraceHooks(scope, model, record, dispatch, accel)


def bind_scheduler(hook, dispatch: Callable) -> None:
    """Let the C ``hook`` read the scheduler state it needs as plain C fields.

    ``dispatch`` is a bound :meth:`Scheduler.dispatch`.  Its scheduler gets a subclass of its
    own class in which the attributes named by ``Scheduler.ACCEL_FLAGS`` are C data
    descriptors storing into ``hook``: every write, from any module, updates the C mirror at
    once, and reads return what was written.  Anything else is left as it is, so the hooks
    then call ``dispatch`` for every planned instruction (still correct, just not faster).
    """
    sched = getattr(dispatch, "__self__", None)
    names = getattr(type(sched), "ACCEL_FLAGS", None)
    from .. import _accel as module
    if sched is None or not names or set(names) != set(module.FLAGS):
        return
    cls = type(sched)
    values = {name: sched.__dict__.pop(name) for name in names}
    mirrored = type(cls.__name__, (cls,), {
        "__module__": cls.__module__, "__qualname__": cls.__qualname__,
        **{name: module.Flag(hook, name) for name in names}})
    sched.__class__ = mirrored
    for name, value in values.items():
        setattr(sched, name, value)
    from ..runtime.policies import Policy
    quiet = getattr(sched.policy, "quiet_until", None)
    if getattr(type(sched.policy), "quiet_until", None) is Policy.quiet_until:
        quiet = None  # never quiet: do not ask at every choice
    walk = sched.policy.random_walk()
    hook.bind(sched.max_steps, quiet, walk, sched.switch_to if walk is not None else None)
