"""``sys.monitoring`` back-end (3.12+): INSTRUCTION events on user code only, DISABLE the rest."""

from __future__ import annotations

import sys
from typing import Callable

from ..bytecode.plan import plan_for
from ..models import Model
from .scope import Scope

_TOOL_IDS = (4, 3)  # 0-2 are debugger, coverage and profiler; 5 is the optimizer


class MonitoringHooks:
    def __init__(self, scope: Scope, model: Model, record: bool, dispatch: Callable,
                 accel=None) -> None:
        self._scope, self._model, self._record, self._dispatch = scope, model, record, dispatch
        self._accel = accel
        self._tool = None
        #: The C INSTRUCTION callback (``interlace._accel.Hook``) when accelerated.
        self.c_hook = None

    def install(self) -> None:
        mon = sys.monitoring
        self._tool = next((t for t in _TOOL_IDS if mon.get_tool(t) is None), None)
        if self._tool is None:
            raise RuntimeError("sys.monitoring tool ids 3 and 4 are both in use")
        tool, events, DISABLE = self._tool, mon.events, mon.DISABLE
        mon.use_tool_id(tool, "interlace")
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
                set_local_events=mon.set_local_events)
            bind_scheduler(c_hook, dispatch)

        def on_start(code, offset):
            if id(code) not in plans and scope.includes(code):
                plans[id(code)] = plan = plan_for(code, model, record)
                keep.append(code)
                if c_hook is not None:
                    c_hook.add(code, plan)
                mon.set_local_events(tool, code, events.INSTRUCTION)
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

    def enter_module(self, code) -> None:
        """Module code is already running when hooks go in: instrument it explicitly."""
        self._on_start(code, 0)

    def attach_thread(self) -> None:
        """Monitoring is per interpreter: new threads are covered already."""

    def uninstall(self) -> None:
        if self._tool is not None:
            sys.monitoring.set_events(self._tool, 0)
            sys.monitoring.free_tool_id(self._tool)
            self._tool = None
