"""Per-instruction hooks: the one narrow interface between the interpreter and the scheduler.

A back-end calls ``dispatch(step, frame)`` before every instruction whose plan entry is not
``None`` in code the :class:`~interlace.hooks.scope.Scope` includes; ``frame`` may be ``None``
(monitoring), in which case the scheduler fetches it only when it needs it.  Back-ends:
``sys.monitoring`` on 3.12+, ``sys.settrace`` with opcode events on 3.10/3.11.

Each back-end has two implementations with identical results: pure Python, and the C
accelerator ``interlace._accel`` (built by the normal install when a compiler is there), which
calls ``dispatch`` only when that call would do something.  :func:`make_hooks` is the one place
that chooses; ``INTERLACE_PURE_PYTHON=1`` forces the pure-Python hooks (and thread batons).
The module is loaded by :mod:`interlace.accel`; this package imports nothing from runtime/.
"""

from __future__ import annotations

import sys
from typing import Callable, Optional, Protocol

from ..accel import accelerator, check_flags
from ..models import Model
from .scope import Scope

__all__ = ["Hooks", "accelerator", "bind_policy", "bind_scheduler", "make_hooks"]


class Hooks(Protocol):
    """What an execution does with its hooks, in this order."""

    def install(self) -> None:
        """Start seeing instructions of user code (in the main thread)."""

    def enter_module(self, code) -> None:
        """The script's module code is about to run (it started before the hooks went in)."""

    def attach_thread(self) -> None:
        """Called in every new managed thread before it runs user code."""

    def still_installed(self) -> Optional[str]:
        """``None`` while the hooks see what they should; else what switched them off (the
        program called ``sys.settrace(None)`` or cleared the ``sys.monitoring`` events)."""

    def policy_changed(self) -> None:
        """The scheduler adopted its execution's policy (a spare child, before :meth:`install`)."""

    def uninstall(self) -> None:
        """Stop seeing instructions (the execution is over); safe to call twice."""


def make_hooks(scope: Scope, model: Model, record: bool, dispatch: Callable) -> Hooks:
    """The hooks of one execution (in its forked process, before any other thread starts)."""
    accel = accelerator()
    if sys.version_info >= (3, 12):
        from .monitoring import MonitoringHooks
        return MonitoringHooks(scope, model, record, dispatch, accel)
    from .settrace import TraceHooks
    return TraceHooks(scope, model, record, dispatch, accel)


def _never_quiet(policy) -> bool:
    """Does ``policy`` keep the root class's ``quiet_until`` (which only returns ``step``)?

    Decided from the class hierarchy, without importing the policies (hooks/ imports
    nothing from runtime/): the furthest base that defines ``quiet_until`` is the default.
    """
    owners = [c for c in type(policy).__mro__ if "quiet_until" in c.__dict__]
    return not owners or owners[0] is owners[-1]


def bind_scheduler(hook, dispatch: Callable) -> None:
    """Let the C ``hook`` read the scheduler state it needs as plain C fields.

    ``dispatch`` is a bound :meth:`Scheduler.dispatch`.  Its scheduler gets a subclass of its
    own class in which the attributes named by ``Scheduler.ACCEL_FLAGS`` are C data
    descriptors storing into ``hook``: every write, from any module, updates the C mirror at
    once, and reads return what was written.  A scheduler without the flags, or flags that
    disagree with the built module's (a stale build), is an internal error, raised here:
    never a silent fall back to a slower, differently-behaving path.
    """
    module = accelerator()
    sched = getattr(dispatch, "__self__", None)
    names = getattr(type(sched), "ACCEL_FLAGS", None)
    if module is None or sched is None or not names:
        raise TypeError(f"bind_scheduler needs the accelerator and a bound Scheduler.dispatch "
                        f"with ACCEL_FLAGS, got {dispatch!r}")
    check_flags(names, module)
    cls = type(sched)
    values = {name: sched.__dict__.pop(name) for name in names}
    mirrored = type(cls.__name__, (cls,), {
        "__module__": cls.__module__, "__qualname__": cls.__qualname__,
        **{name: module.Flag(hook, name) for name in names}})
    sched.__class__ = mirrored
    for name, value in values.items():
        setattr(sched, name, value)
    bind_policy(hook, sched)


def bind_policy(hook, sched) -> None:
    """Tell the C ``hook`` what ``sched``'s policy lets it decide alone (again, after
    ``Scheduler.adopt`` replaced the policy)."""
    quiet = None if _never_quiet(sched.policy) else sched.policy.quiet_until
    walk = sched.policy.random_walk()
    hook.bind(sched.max_steps, quiet, walk, sched.switch_to if walk is not None else None)
