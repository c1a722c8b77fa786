"""Which expression produced each stack operand: a tiny symbolic stack per basic block.

Hooks see an instruction before it runs but not the value stack.  To name the object of
``obj.attr = v`` or the key of ``d[k]``, we simulate the stack symbolically once per code
object: operands built from locals, globals, cells, constants, attribute loads and subscripts
are kept as small expression trees that the runtime can re-evaluate from the frame, without
side effects.  Anything else becomes :data:`UNKNOWN`, which only makes a trace less specific.
"""

from __future__ import annotations

import dis
from dataclasses import dataclass
from typing import Any, Generic, Iterable, Iterator, Optional, TypeVar, Union

from .opsets import PY, is_subscript_read

#: Loads of a local variable, and of two at once (superinstructions, 3.13+).
LOCAL_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "LOAD_FAST_BORROW"})
LOCAL_PAIR_LOADS = frozenset({"LOAD_FAST_LOAD_FAST", "LOAD_FAST_BORROW_LOAD_FAST_BORROW"})
#: Loads of a constant (``argval`` is its value).
CONST_LOADS = frozenset({"LOAD_CONST", "LOAD_SMALL_INT", "LOAD_COMMON_CONSTANT"})


@dataclass(frozen=True)
class Local:
    name: str


@dataclass(frozen=True)
class Global:
    name: str


@dataclass(frozen=True)
class Cell:
    name: str


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Attr:
    base: "Expr"
    name: str


@dataclass(frozen=True)
class Item:
    base: "Expr"
    key: "Expr"


@dataclass(frozen=True)
class MethodRef:
    """A bound-method load (``LOAD_METHOD`` / ``LOAD_ATTR`` with the method flag)."""

    base: "Expr"
    name: str


@dataclass(frozen=True)
class Call:
    """The result of calling ``func``; kept so ``for x in range(n)`` is known to be local."""

    func: "Expr"


@dataclass(frozen=True)
class Concat:
    """``left + right``: kept so ``for t in threads + [extra]`` is known to walk a fresh list."""

    left: "Expr"
    right: "Expr"


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


UNKNOWN: Any = _Marker("UNKNOWN")
NULL: Any = _Marker("NULL")
#: A list, tuple, set or dict just built by ``BUILD_*`` (no other thread can have seen it).
FRESH: Any = _Marker("FRESH")

Expr = Union[Local, Global, Cell, Const, Attr, Item, MethodRef, Call, Concat, _Marker]
T = TypeVar("T")

_RESET_AFTER = frozenset({"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE",
                          "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_ABSOLUTE", "JUMP",
                          "JUMP_NO_INTERRUPT", "JUMP_BACKWARD_NO_INTERRUPT"})
_BUILD_N = frozenset({"BUILD_LIST", "BUILD_TUPLE", "BUILD_SET", "BUILD_MAP", "BUILD_STRING",
                      "BUILD_SLICE", "BUILD_CONST_KEY_MAP"})
_POP2_PUSH1 = frozenset({"BINARY_OP", "COMPARE_OP", "IS_OP", "CONTAINS_OP"})


class Stack(Generic[T]):
    """A value stack whose unknown bottom pops as ``bottom`` (block entry depth is not tracked).

    The one stack model of interlace: the plan's operand expressions (``T`` =
    :data:`Expr`, bottom :data:`UNKNOWN`) and ``explain``'s taint values (``explain/flow.py``)
    both run on it.
    """

    def __init__(self, items: Iterable[T] = (), bottom: Any = None) -> None:
        self.items: list[T] = list(items)
        self.bottom: T = UNKNOWN if bottom is None else bottom

    def pop(self, n: int = 1) -> list[T]:
        out = []
        for _ in range(n):
            out.append(self.items.pop() if self.items else self.bottom)
        out.reverse()
        return out

    def peek(self, depth: int) -> T:
        """``peek(1)`` is the top of the stack."""
        return self.items[-depth] if len(self.items) >= depth else self.bottom

    def push(self, *values: T) -> None:
        self.items.extend(values)

    def reset(self) -> None:
        self.items.clear()

    def rotate(self, op: str, arg: int) -> None:
        """``SWAP``/``ROT_*``: the same permutation as CPython (unknown depth: forget all)."""
        depth = {"ROT_TWO": 2, "ROT_THREE": 3, "ROT_FOUR": 4}.get(op, arg)
        items = self.items
        if len(items) < depth:
            items.clear()
            return
        if op == "SWAP":
            items[-1], items[-depth] = items[-depth], items[-1]
        else:  # ROT_*: the top moves down to position ``depth``
            top = items.pop()
            items.insert(len(items) - depth + 1, top)


#: The plan's stack: operand expressions.
SymbolicStack = Stack

#: Stack-reordering opcodes (:meth:`Stack.rotate`).
ROTATIONS = frozenset({"SWAP", "ROT_TWO", "ROT_THREE", "ROT_FOUR", "ROT_N"})


def call_pops(instr: dis.Instruction) -> int:
    """How many stack entries a call instruction consumes (callable and NULL included)."""
    op, arg = instr.opname, instr.arg or 0
    if op == "CALL_FUNCTION":
        return arg + 1
    if op in ("CALL_FUNCTION_KW", "CALL_METHOD"):
        return arg + 2
    if op == "CALL_FUNCTION_EX":
        return (arg & 1) + (2 if PY <= (3, 10) else 3)
    if op == "CALL_KW":
        return arg + 3
    return arg + 2  # CALL, 3.11+


def call_parts(instr: dis.Instruction, stack: SymbolicStack) -> tuple[Expr, tuple[Expr, ...]]:
    """The callee expression and positional argument expressions of a call, before it runs.

    A method call's callee is its :class:`MethodRef`, whose ``base`` is the receiver.
    """
    op = instr.opname
    if op == "CALL_FUNCTION_EX":
        return UNKNOWN, ()
    entries = [stack.peek(i) for i in range(call_pops(instr), 0, -1)]
    if op == "CALL_KW":
        entries = entries[:-1]
    if op == "CALL_FUNCTION_KW":
        entries = entries[:-1]
    if op in ("CALL_FUNCTION", "CALL_FUNCTION_KW"):  # 3.10: no NULL or self slot before args
        return entries[0], tuple(entries[1:])
    head, args = entries[:2], tuple(entries[2:])
    for entry in head:
        if isinstance(entry, MethodRef):
            return entry, args
    callee = head[1] if head[0] is NULL else head[0]
    return callee, args


def is_method_load(instr: dis.Instruction) -> bool:
    """``LOAD_METHOD``, or 3.12+'s ``LOAD_ATTR`` with the method flag (pushes two entries)."""
    return instr.opname == "LOAD_METHOD" or (
        instr.opname == "LOAD_ATTR" and PY >= (3, 12) and bool((instr.arg or 0) & 1))


def global_null(instr: dis.Instruction) -> Optional[str]:
    """Where ``LOAD_GLOBAL`` pushes a NULL for a call: ``"after"`` (3.13+), ``"before"``
    (3.11/3.12), or ``None``."""
    if instr.opname != "LOAD_GLOBAL" or not (instr.arg or 0) & 1:
        return None
    if PY >= (3, 13):
        return "after"
    return "before" if PY >= (3, 11) else None


def simulate(instructions: list[dis.Instruction]) -> Iterator[tuple[dis.Instruction, SymbolicStack]]:
    """Yield each instruction with the symbolic stack as it is just before it runs."""
    stack = SymbolicStack()
    for instr in instructions:
        if instr.is_jump_target:
            stack.reset()
        yield instr, stack
        _step(instr, stack)


def _step(instr: dis.Instruction, stack: SymbolicStack) -> None:  # noqa: C901 - one table
    op, arg, argval = instr.opname, instr.arg or 0, instr.argval
    if op in LOCAL_LOADS:
        stack.push(Local(argval))
    elif op in LOCAL_PAIR_LOADS:
        stack.push(Local(argval[0]), Local(argval[1]))
    elif op == "STORE_FAST_LOAD_FAST":
        stack.pop()
        stack.push(Local(argval[1]))
    elif op == "STORE_FAST_STORE_FAST":
        stack.pop(2)
    elif op in CONST_LOADS:
        stack.push(Const(argval))
    elif op == "LOAD_GLOBAL":
        null = global_null(instr)
        if null == "after":
            stack.push(Global(argval), NULL)
        elif null == "before":
            stack.push(NULL, Global(argval))
        else:
            stack.push(Global(argval))
    elif op == "LOAD_NAME":
        stack.push(Global(argval))
    elif op in ("LOAD_DEREF", "LOAD_CLASSDEREF"):
        stack.push(Cell(argval))
    elif is_method_load(instr):
        (base,) = stack.pop()
        stack.push(MethodRef(base, argval), base)
    elif op == "LOAD_ATTR":
        (base,) = stack.pop()
        stack.push(Attr(base, argval))
    elif is_subscript_read(instr):
        base, key = stack.pop(2)
        stack.push(Item(base, key))
    elif op == "PUSH_NULL":
        stack.push(NULL)
    elif op == "COPY":
        stack.push(stack.peek(arg))
    elif op == "DUP_TOP":
        stack.push(stack.peek(1))
    elif op == "DUP_TOP_TWO":
        a, b = stack.peek(2), stack.peek(1)
        stack.push(a, b)
    elif op in ROTATIONS:
        stack.rotate(op, arg)
    elif op == "POP_TOP":
        stack.pop()
    elif op == "BINARY_SLICE":  # container, start, stop (3.12+): one more than other BINARY_s
        stack.pop(3)
        stack.push(UNKNOWN)
    elif op == "STORE_SLICE":  # value, container, start, stop
        stack.pop(4)
    elif op == "BINARY_ADD" or (op == "BINARY_OP" and instr.argrepr == "+"):
        left, right = stack.pop(2)
        stack.push(Concat(left, right))
    elif op in _POP2_PUSH1 or op.startswith(("BINARY_", "INPLACE_")):
        stack.pop(2)
        stack.push(UNKNOWN)
    elif op.startswith("UNARY_") or op in ("TO_BOOL", "GET_ITER"):
        (value,) = stack.pop()
        stack.push(value if op == "GET_ITER" else UNKNOWN)
    elif op in ("STORE_ATTR", "DELETE_SUBSCR"):
        stack.pop(2)
    elif op == "STORE_SUBSCR":
        stack.pop(3)
    elif op in ("STORE_FAST", "STORE_GLOBAL", "STORE_NAME", "STORE_DEREF", "DELETE_ATTR"):
        stack.pop()
    elif op in ("PRECALL", "KW_NAMES", "NOP", "RESUME", "EXTENDED_ARG", "CACHE", "NOT_TAKEN"):
        pass
    elif op.startswith("CALL"):
        callee, _args = call_parts(instr, stack)
        stack.pop(call_pops(instr))
        stack.push(Call(callee))
    elif op.startswith("POP_JUMP"):
        stack.pop()
    elif op in ("END_FOR", "POP_ITER"):  # 3.15's POP_ITER pops the iterator and its index
        stack.pop(-dis.stack_effect(instr.opcode))
    elif op == "FOR_ITER":
        stack.push(UNKNOWN)
    elif op in _BUILD_N:
        count = arg * 2 if op == "BUILD_MAP" else arg + 1 if op == "BUILD_CONST_KEY_MAP" else arg
        stack.pop(count)
        stack.push(FRESH if op in ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET", "BUILD_MAP",
                                   "BUILD_CONST_KEY_MAP") else UNKNOWN)
    elif op in ("LIST_EXTEND", "LIST_APPEND", "SET_ADD", "SET_UPDATE", "DICT_UPDATE", "DICT_MERGE"):
        stack.pop()  # the list being built stays FRESH (``[*a, b]``)
    else:
        stack.reset()
    if op in _RESET_AFTER:
        stack.reset()
