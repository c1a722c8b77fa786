"""``sys.monitoring`` back-end (3.12+): INSTRUCTION events on user code only, DISABLE the rest."""

from __future__ import annotations

import sys
import threading
from typing import Callable, Optional

from ..bytecode.plan import plan_for
from ..models import Model
from .scope import Scope

_TOOL_IDS = (4, 3)  # 0-2 are debugger, coverage and profiler; 5 is the optimizer
#: ``sys.monitoring`` functions through which a program can switch interlace's tool off
#: (``clear_tool_id`` is 3.14+); each is watched while the hooks are installed.
_WATCHED = ("set_events", "set_local_events", "register_callback", "free_tool_id",
            "clear_tool_id")


class MonitoringHooks:
    def __init__(self, scope: Scope, model: Model, record: bool, dispatch: Callable,
                 accel=None) -> None:
        self._scope, self._model, self._record, self._dispatch = scope, model, record, dispatch
        self._accel = accel
        self._tool = None
        #: The C INSTRUCTION callback (``interlace._accel.Hook``) when accelerated.
        self.c_hook = None
        #: ``sys.monitoring``'s functions as they were before :meth:`install` watched them.
        self._originals: dict[str, Callable] = {}
        #: What the program did to interlace's tool (each makes the execution uncontrolled).
        self._lost: list[str] = []

    def policy_changed(self) -> None:
        """Nothing to do: the C hook is made, and reads the policy, in :meth:`install`."""

    def install(self) -> None:
        mon = sys.monitoring
        self._tool = next((t for t in _TOOL_IDS if mon.get_tool(t) is None), None)
        if self._tool is None:
            raise RuntimeError("sys.monitoring tool ids 3 and 4 are both in use")
        tool, events, DISABLE = self._tool, mon.events, mon.DISABLE
        mon.use_tool_id(tool, "interlace")
        set_local_events = mon.set_local_events  # interlace's own calls are not the program's
        plans: dict[int, list] = {}
        keep: list = []  # plans are keyed by id(code): keep the code objects alive
        scope, model, record, dispatch = self._scope, self._model, self._record, self._dispatch
        getframe = sys._getframe
        need_frame = record or model is Model.GIL
        c_hook = None
        if self._accel is not None:
            from . import bind_scheduler
            c_hook = self.c_hook = self._accel.Hook(
                dispatch, record=record, need_frame=need_frame, monitoring=True, tool=tool,
                set_local_events=set_local_events)
            bind_scheduler(c_hook, dispatch)

        def on_start(code, offset):
            if id(code) not in plans and scope.includes(code):
                plans[id(code)] = plan = plan_for(code, model, record)
                keep.append(code)
                if c_hook is not None:
                    c_hook.add(code, plan)
                set_local_events(tool, code, events.INSTRUCTION)
            return DISABLE

        def on_instruction(code, offset):
            step = plans[id(code)][offset >> 1]
            if step is None:
                return DISABLE
            dispatch(step, getframe(1) if need_frame else None)

        mon.register_callback(tool, events.PY_START, on_start)
        mon.register_callback(tool, events.INSTRUCTION, c_hook if c_hook is not None else on_instruction)
        mon.set_events(tool, events.PY_START)
        self._on_start = on_start
        self._watch(mon, tool)

    def _watch(self, mon, tool: int) -> None:
        """Note every call of the program that changes interlace's tool (and let it happen:
        the observer does not change what the program does)."""
        lost = self._lost

        def watched(name: str, original: Callable) -> Callable:
            def call(*args, **kwargs):
                if args and args[0] == tool:
                    thread = threading.current_thread().name
                    lost.append(f"the program called sys.monitoring.{name}() on interlace's tool "
                                f"id {tool} (in thread {thread})")
                return original(*args, **kwargs)
            call.__name__ = call.__qualname__ = name
            call.__doc__ = original.__doc__
            return call

        for name in _WATCHED:
            original = getattr(mon, name, None)
            if original is not None:
                self._originals[name] = original
                setattr(mon, name, watched(name, original))

    def still_installed(self) -> Optional[str]:
        """``None`` while interlace's tool is in place; else what turned it off."""
        if self._tool is None:
            return None
        mon = sys.monitoring
        if not self._lost and mon.get_tool(self._tool) != "interlace":
            self._lost.append(f"sys.monitoring tool id {self._tool} (interlace's) was freed")
        elif not self._lost and mon.get_events(self._tool) != mon.events.PY_START:
            self._lost.append(f"the events of sys.monitoring tool id {self._tool} "
                              f"(interlace's) were changed")
        return self._lost[0] if self._lost else None

    def enter_module(self, code) -> None:
        """Module code is already running when hooks go in: instrument it explicitly."""
        self._on_start(code, 0)

    def attach_thread(self) -> None:
        """Monitoring is per interpreter: new threads are covered already."""

    def uninstall(self) -> None:
        mon = sys.monitoring
        for name, original in self._originals.items():
            setattr(mon, name, original)
        self._originals.clear()
        if self._tool is not None:
            if mon.get_tool(self._tool) == "interlace":
                mon.set_events(self._tool, 0)
                mon.free_tool_id(self._tool)
            self._tool = None
