"""``sys.settrace`` back-end (3.10/3.11): opcode events, enabled only on frames of user code."""

from __future__ import annotations

import sys
from typing import Callable

from ..bytecode.plan import plan_for
from ..models import Model
from .scope import Scope


class TraceHooks:
    def __init__(self, scope: Scope, model: Model, record: bool, dispatch: Callable,
                 accel=None) -> None:
        self._scope, self._model, self._record, self._dispatch = scope, model, record, dispatch
        self._tracers: dict[int, object] = {}
        self._keep: list = []
        self._accel = accel
        #: The C trace function's state (``interlace._accel.Hook``) when accelerated: a
        #: ``Py_tracefunc`` installed with ``PyEval_SetTrace`` in each managed thread.
        self.c_hook = None
        if accel is not None:
            from . import bind_scheduler
            self.c_hook = accel.Hook(dispatch, record=record,
                                     need_frame=True, builder=self._plan_for)
            bind_scheduler(self.c_hook, dispatch)

    def _plan_for(self, code):
        """The C tracer's first sight of a code object: its plan, or None (not user code)."""
        if not self._scope.includes(code):
            return None
        return plan_for(code, self._model, self._record)

    def _tracer_for(self, code):
        tracer = self._tracers.get(id(code))
        if tracer is None:
            if not self._scope.includes(code):
                tracer = False
            else:
                tracer = self._make_tracer(plan_for(code, self._model, self._record))
            self._tracers[id(code)] = tracer
            self._keep.append(code)
        return tracer

    def _make_tracer(self, plan: list):
        dispatch = self._dispatch

        def local_trace(frame, event, arg):
            if event == "opcode":
                step = plan[frame.f_lasti >> 1]
                if step is not None:
                    dispatch(step, frame)
            return local_trace

        return local_trace

    def _global_trace(self, frame, event, arg):
        if event != "call":
            return None
        tracer = self._tracer_for(frame.f_code)
        if not tracer:
            return None
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True
        return tracer

    def install(self) -> None:
        self.attach_thread()

    def enter_module(self, code) -> None:
        """Module code starts with a ``call`` event once settrace is on: nothing to do."""

    def attach_thread(self) -> None:
        if self.c_hook is not None:
            self._accel.settrace(self.c_hook)
        else:
            sys.settrace(self._global_trace)

    def uninstall(self) -> None:
        if self.c_hook is not None:
            self._accel.settrace(None)
        else:
            sys.settrace(None)
