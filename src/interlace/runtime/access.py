"""Turning a planned :class:`~interlace.bytecode.plan.Step` into a concrete shared access.

Runs only when an execution is recorded (the final replay of a failure, systematic search):
it re-evaluates the step's symbolic operands against the live frame, without calling user
code (no properties, no ``__getattr__``), to name *which* object, key or cell is touched.
"""

from __future__ import annotations

import builtins
import types
from _thread import _local as _thread_local
from dataclasses import dataclass
from typing import Any, Hashable, Optional

from ..bytecode.plan import Step
from ..bytecode.symbolic import Attr, Call, Cell, Const, Global, Item, Local, MethodRef

MISSING: Any = object()

#: Container methods judged by the receiver's type: (reads?, key argument index or None).
_READ_METHODS = {
    "get": 0, "keys": None, "values": None, "items": None, "copy": None, "index": None,
    "count": None, "__contains__": 0, "__getitem__": 0, "__len__": None, "issubset": None,
    "issuperset": None, "isdisjoint": None, "union": None, "intersection": None,
    "difference": None, "qsize": None, "empty": None, "full": None,
}
_WRITE_METHODS = {
    "append": None, "extend": None, "insert": None, "pop": None, "remove": None, "clear": None,
    "sort": None, "reverse": None, "popitem": None, "setdefault": 0, "update": None,
    "add": None, "discard": None, "appendleft": None, "popleft": None, "extendleft": None,
    "rotate": None, "__setitem__": 0, "__delitem__": 0, "difference_update": None,
    "intersection_update": None, "symmetric_difference_update": None,
}
_KEYED_POP = (dict,)
_CONTAINERS = (list, dict, set, bytearray)
_READING_BUILTINS = {
    len, sorted, list, tuple, set, frozenset, dict, sum, min, max, any, all, repr, str,
}


@dataclass(frozen=True)
class Access:
    """One shared read or write, as recorded in a trace."""

    #: Identity used to decide conflicts: ``(kind, object id, key)``; key ``None`` = whole.
    location: tuple[Hashable, ...]
    #: Human-readable name: ``counter``, ``Account#1.balance``, ``stack[3]``.
    label: str
    write: bool
    value: Optional[str] = None
    #: The object whose ``id`` is in ``location`` (kept alive by the recorder, so that the id
    #: cannot be reused by another object within the execution).
    target: Any = None


class Namer:
    """Stable names for objects within one execution: ``Account``, then ``Account#2``."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}
        self._keep: list[object] = []  # keeps ids valid for the execution's lifetime
        self._counts: dict[str, int] = {}

    def name(self, obj: object, hint: Optional[str] = None) -> str:
        key = id(obj)
        found = self._names.get(key)
        if found is None:
            base = hint or type(obj).__name__
            n = self._counts.get(base, 0) + 1
            self._counts[base] = n
            found = base if n == 1 else f"{base}#{n}"
            self._names[key] = found
            self._keep.append(obj)
        return found


def evaluate(expr: object, frame: types.FrameType) -> Any:
    """Value of a symbolic operand, or :data:`MISSING` if it cannot be read without side effects."""
    if isinstance(expr, Local):
        return frame.f_locals.get(expr.name, MISSING)
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Global):
        value = frame.f_globals.get(expr.name, MISSING)
        return getattr(builtins, expr.name, MISSING) if value is MISSING else value
    if isinstance(expr, Cell):
        return frame.f_locals.get(expr.name, MISSING)
    if isinstance(expr, Attr):
        base = evaluate(expr.base, frame)
        if base is MISSING:
            return MISSING
        if isinstance(base, types.ModuleType):
            return vars(base).get(expr.name, MISSING)
        try:
            return vars(base).get(expr.name, MISSING)
        except TypeError:
            return MISSING
    if isinstance(expr, Item):
        base, key = evaluate(expr.base, frame), evaluate(expr.key, frame)
        if type(base) in (list, tuple, dict) and key is not MISSING:
            try:
                return base[key]
            except (LookupError, TypeError):
                return MISSING
    return MISSING


def short_repr(value: Any, limit: int = 40) -> Optional[str]:
    if value is MISSING:
        return None
    try:
        text = repr(value)
    except Exception:  # a user __repr__ may fail; the trace must not
        return None
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _expr_label(expr: object, namer: Namer, frame: types.FrameType) -> str:
    if isinstance(expr, (Local, Global, Cell)):
        value = evaluate(expr, frame)
        if isinstance(expr, Local) and value is not MISSING and not isinstance(value, (int, str, float)):
            return namer.name(value, expr.name if expr.name != "self" else None)
        return expr.name
    if isinstance(expr, Attr):
        return f"{_expr_label(expr.base, namer, frame)}.{expr.name}"
    if isinstance(expr, Const):
        return repr(expr.value)
    return "?"


def _object_label(expr: object, obj: Any, namer: Namer, frame: types.FrameType) -> str:
    if obj is MISSING:
        return _expr_label(expr, namer, frame)
    if isinstance(expr, Global):
        return namer.name(obj, expr.name)
    if isinstance(expr, Attr):
        return namer.name(obj, _expr_label(expr, namer, frame))
    if isinstance(expr, Local) and expr.name != "self":
        return namer.name(obj, expr.name)
    return namer.name(obj)


def resolve(step: Step, frame: types.FrameType, namer: Namer, values: bool = True) -> Optional[Access]:
    """The concrete access ``step`` is about to make, or ``None`` for an opaque call.

    ``values``: also show the value read (a ``repr``, which may run the program's own code;
    systematic search does without).
    """
    short = short_repr if values else _no_value
    kind = step.kind
    if kind == "global":
        value = frame.f_globals.get(step.name, MISSING) if not step.write else MISSING
        return Access(("g", id(frame.f_globals), step.name), step.name, step.write,
                      short(value), frame.f_globals)
    if kind == "cell":
        value = frame.f_locals.get(step.name, MISSING) if not step.write else MISSING
        # A frame does not expose its cell objects, and the function that defines the cell
        # is not the one that uses it (``main`` and ``main.<locals>.work``): name a cell by
        # file and variable, so that every use of it conflicts (conservative, never unsound).
        return Access(("c", frame.f_code.co_filename, step.name), step.name, step.write,
                      short(value))
    if kind == "attr":
        obj = evaluate(step.operands[0], frame)
        if issubclass(type(obj), _thread_local):
            return None  # each thread sees its own attributes: never shared
        owner = _object_label(step.operands[0], obj, namer, frame)
        value = MISSING
        if not step.write and obj is not MISSING:
            try:
                value = vars(obj).get(step.name, MISSING)
            except TypeError:
                pass
        ident = id(obj) if obj is not MISSING else owner
        return Access(("a", ident, step.name), f"{owner}.{step.name}", step.write,
                      short(value), obj)
    if kind in ("item", "slice", "contains", "inplace", "iter"):
        container = evaluate(step.operands[0], frame)
        if kind == "inplace" and not isinstance(container, _CONTAINERS):
            return None  # ``x += 1`` on a number: the load and store are the accesses
        owner = _object_label(step.operands[0], container, namer, frame)
        ident = id(container) if container is not MISSING else owner
        key = evaluate(step.operands[1], frame) if kind in ("item", "contains") else MISSING
        if kind == "contains" and not isinstance(container, (dict, set, frozenset)):
            key = MISSING  # ``x in list`` scans the whole list
        if key is MISSING or not _hashable(key):
            return Access(("o", ident, None), owner, step.write, target=container)
        value = MISSING
        if kind == "item" and not step.write:
            value = evaluate(Item(step.operands[0], step.operands[1]), frame)
        return Access(("o", ident, key), f"{owner}[{short_repr(key)}]", step.write,
                      short(value), container)
    if kind == "call":
        return _resolve_call(step, frame, namer)
    return None


def _no_value(value: Any) -> None:
    return None


def _resolve_call(step: Step, frame: types.FrameType, namer: Namer) -> Optional[Access]:
    callee = step.operands[0] if step.operands else None
    args = step.operands[1:]
    if isinstance(callee, MethodRef):
        receiver = evaluate(callee.base, frame)
        if not isinstance(receiver, _CONTAINERS) and type(receiver).__name__ != "deque":
            return None
        owner = _object_label(callee.base, receiver, namer, frame)
        if callee.name in _WRITE_METHODS:
            write, key_index = True, _WRITE_METHODS[callee.name]
        elif callee.name in _READ_METHODS:
            write, key_index = False, _READ_METHODS[callee.name]
        else:
            return None
        if callee.name == "pop" and isinstance(receiver, _KEYED_POP):
            key_index = 0
        key = evaluate(args[key_index], frame) if key_index is not None and len(args) > key_index else MISSING
        if key is not MISSING and isinstance(receiver, dict) and _hashable(key):
            return Access(("o", id(receiver), key), f"{owner}.{callee.name}({short_repr(key)})",
                          write, target=receiver)
        return Access(("o", id(receiver), None), f"{owner}.{callee.name}()", write, target=receiver)
    func = evaluate(callee, frame) if callee is not None else MISSING
    if func in _READING_BUILTINS and args:
        target = evaluate(args[0], frame)
        if isinstance(target, _CONTAINERS):
            owner = _object_label(args[0], target, namer, frame)
            return Access(("o", id(target), None), f"{func.__name__}({owner})", False, target=target)
    return None


def callee_is_python(step: Step, frame: types.FrameType) -> bool:
    """Is the call at ``step`` going to run Python code (checked at its RESUME, not after)?"""
    callee = step.operands[0] if step.operands else None
    if isinstance(callee, MethodRef):
        receiver = evaluate(callee.base, frame)
        if receiver is MISSING:
            return False
        attr = getattr(type(receiver), callee.name, None)
        return isinstance(attr, types.FunctionType)
    func = evaluate(callee, frame) if callee is not None and not isinstance(callee, Call) else MISSING
    if isinstance(func, type):
        return isinstance(getattr(func, "__init__", None), types.FunctionType)
    return isinstance(func, (types.FunctionType, types.MethodType))


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except Exception:
        return False
    return True
