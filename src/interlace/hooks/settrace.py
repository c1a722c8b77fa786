"""``sys.settrace`` back-end (3.10/3.11): opcode events, enabled only on frames of user code."""

from __future__ import annotations

import sys
import threading
from typing import Callable, Optional

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
        #: ``sys.settrace`` before :meth:`install` watched it.
        self._original_settrace: Optional[Callable] = None
        #: What the program did to interlace's trace function (the execution is uncontrolled).
        self._lost: list[str] = []
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

    def policy_changed(self) -> None:
        if self.c_hook is not None:
            from . import bind_policy
            bind_policy(self.c_hook, self._dispatch.__self__)

    def install(self) -> None:
        self.attach_thread()
        self._watch()

    def _ours(self, func) -> bool:
        return func is not None and (func is self.c_hook or func == self._global_trace)

    def _watch(self) -> None:
        """Note a ``sys.settrace`` of the program that replaces interlace's trace function in
        a thread (``sys.settrace(None)`` in a worker), and let it happen."""
        original = self._original_settrace = sys.settrace
        lost, ours = self._lost, self._ours

        def settrace(func):
            if not ours(func):
                what = "None" if func is None else "another trace function"
                lost.append(f"the program called sys.settrace({what}) in thread "
                            f"{threading.current_thread().name}: interlace no longer saw it")
            return original(func)

        settrace.__doc__ = original.__doc__
        sys.settrace = settrace

    def still_installed(self) -> Optional[str]:
        """``None`` while this thread's trace function is interlace's and no thread lost it."""
        if self._original_settrace is None:
            return None
        # the main thread always runs under the hooks (install); another thread calling this
        # may be one interlace never traced (a watchdog, a signal's clean-up)
        main = threading.current_thread() is threading.main_thread()
        if not self._lost and main and not self._ours(sys.gettrace()):
            self._lost.append(f"the trace function of thread {threading.current_thread().name} "
                              f"is no longer interlace's")
        return self._lost[0] if self._lost else None

    def enter_module(self, code) -> None:
        """Module code starts with a ``call`` event once settrace is on: nothing to do."""

    def attach_thread(self) -> None:
        if self.c_hook is not None:
            self._accel.settrace(self.c_hook)
        else:
            sys.settrace(self._global_trace)

    def uninstall(self) -> None:
        if self._original_settrace is not None:
            sys.settrace = self._original_settrace
            self._original_settrace = None
        if self.c_hook is not None:
            self._accel.settrace(None)
        else:
            sys.settrace(None)
