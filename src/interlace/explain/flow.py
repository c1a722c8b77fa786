"""Which shared reads each value depends on: a small taint data-flow over one code object.

Every value on the stack and in a local is abstracted as a :class:`Val`: the set of *read
sites* (instruction offsets of shared reads) its contents came from, plus two facts that make
the analysis precise:

* ``same``: the value *is* the object one read produced (``x = g`` keeps it, ``g + 1`` does
  not).  Storing such a value back where it was read from changes nothing; this is how
  ``l += [1]`` on a list (``INPLACE_ADD`` returns the same list) is told from ``l = l + [1]``.
* ``fresh``: the object was built in this frame (``[]``, ``{}``, ``list(...)``): its items and
  attributes are not shared with other threads.

A value used only as the *container* of an item or contents read (``d`` in ``d[k]``,
``d.get(k)``, ``k in d``, ``len(d)``) does not pass its own read on: ``d[k] + 1`` depends on
the item, not on which dict object the global ``d`` named.

The analysis runs on the running interpreter's bytecode, forward over the control-flow graph
(including exception-table edges) to a fixpoint, and keeps each instruction's input state.
"""

from __future__ import annotations

import dis
import types
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from ..bytecode.opsets import NO_SUCCESSOR, UNCONDITIONAL_JUMPS, is_inplace, is_subscript_read
from ..bytecode.symbolic import CONST_LOADS, LOCAL_LOADS, LOCAL_PAIR_LOADS, ROTATIONS, Stack, \
    call_pops, global_null, is_method_load

_JUMP_OPS = frozenset(getattr(dis, "hasjump", ())) | frozenset(dis.hasjrel) | frozenset(dis.hasjabs)
#: Containers built here: their items are the frame's own until published.
_BUILDS = frozenset({"BUILD_LIST", "BUILD_MAP", "BUILD_SET", "BUILD_TUPLE", "BUILD_CONST_KEY_MAP",
                     "BUILD_STRING", "BUILD_SLICE"})
_ADD_TO_BUILD = {"LIST_APPEND": 1, "LIST_EXTEND": 1, "SET_ADD": 1, "SET_UPDATE": 1,
                 "DICT_UPDATE": 1, "DICT_MERGE": 1, "MAP_ADD": 2}
_BINARY = frozenset({"BINARY_OP", "COMPARE_OP", "IS_OP"})


@dataclass(frozen=True)
class Val:
    reads: frozenset = frozenset()
    same: Optional[int] = None
    fresh: bool = False
    #: A list display (``[...]``): ``x += [...]`` then extends ``x`` in place.
    display: bool = False
    #: The reads whose *value* flowed here, not only as the object an attribute was loaded
    #: from (``g.done`` tests ``done``; which object ``g`` names is identity, not data).
    direct: frozenset = frozenset()


BOTTOM = Val()


def join(a: Val, b: Val) -> Val:
    if a == b:
        return a
    return Val(a.reads | b.reads, a.same if a.same == b.same else None,
               a.fresh and b.fresh, a.display and b.display, a.direct | b.direct)


def derived(*vals: Val, own: Optional[int] = None, same: Optional[int] = None,
            strip: Iterable[Val] = ()) -> Val:
    """A new value computed from ``vals``; ``strip``: containers whose identity does not flow."""
    reads: set = set()
    direct: set = set()
    for val in vals:
        reads |= val.reads
        direct |= val.direct
    for container in strip:
        reads |= container.reads
        direct |= container.direct
        if container.same is not None:
            reads.discard(container.same)
            direct.discard(container.same)
    if own is not None:
        reads.add(own)
        direct.add(own)
    return Val(frozenset(reads), same, direct=frozenset(direct))


class State(Stack):
    """The abstract state before an instruction: the value stack (bytecode's one
    :class:`~interlace.bytecode.symbolic.Stack`, bottom :data:`BOTTOM`) and the locals."""

    def __init__(self, items: Iterable[Val] = (), names: Optional[dict] = None) -> None:
        super().__init__(items, bottom=BOTTOM)
        self.locals: dict = dict(names or {})

    def copy(self) -> "State":
        return State(self.items, self.locals)


def _join_states(old: Optional[State], new: State) -> tuple[State, bool]:
    if old is None:
        return new.copy(), True
    # CPython's stack depth agrees at every merge; where this model's does not (an opcode
    # without a rule), keep the tops aligned and forget the rest, which then pops as BOTTOM
    depth = min(len(old.items), len(new.items))
    stack = [join(a, b) for a, b in zip(old.items[len(old.items) - depth:],
                                        new.items[len(new.items) - depth:])]
    names = dict(old.locals)
    for name, val in new.locals.items():  # a name unbound on one path keeps the other's value
        names[name] = join(names[name], val) if name in names else val
    merged = State(stack, names)
    return merged, (merged.items != old.items or merged.locals != old.locals)


@dataclass(frozen=True)
class CallInfo:
    """What the analysis knows about one call site (from the plan's symbolic operands)."""

    #: ``"read"`` (``d.get(k)``, ``len(x)``), ``"mutate"`` (``l.append(x)``), ``"build"``
    #: (``list(x)``: a fresh container), or ``"other"``.
    role: str
    method: bool
    #: A read call's own site is a read (its offset joins the result's reads).
    reads_container: bool = False


class Semantics:
    """Facts the transfer function needs about particular instructions (from the analysis)."""

    def __init__(self, reads: set[int], calls: dict[int, CallInfo],
                 keeps_object: Callable[[Optional[int]], bool]) -> None:
        #: Offsets whose instruction is a shared read (its result carries its own offset).
        self.reads = reads
        self.calls = calls
        #: Given the read a value came from, does ``+=`` on it extend that object in place?
        self.keeps_object = keeps_object


class Flow:
    """The fixpoint: ``states[index]`` is the abstract state just before ``instructions[index]``."""

    def __init__(self, code: types.CodeType, instructions: list[dis.Instruction],
                 semantics: Semantics) -> None:
        self.code = code
        self.instructions = instructions
        self.sem = semantics
        self.index = {ins.offset: n for n, ins in enumerate(instructions)}
        self.handlers = _exception_edges(code, instructions, self.index)
        self.states: list[Optional[State]] = [None] * len(instructions)
        self._run()

    # -- control flow ----------------------------------------------------------------------------

    def successors(self, n: int) -> list[tuple[int, str]]:
        """``(index, how)`` with ``how`` in ``fall``, ``jump`` or ``except``."""
        ins = self.instructions[n]
        out: list[tuple[int, str]] = []
        op = ins.opname
        if op not in NO_SUCCESSOR and op not in UNCONDITIONAL_JUMPS and n + 1 < len(self.instructions):
            out.append((n + 1, "fall"))
        if ins.opcode in _JUMP_OPS and isinstance(ins.argval, int) and ins.argval in self.index:
            out.append((self.index[ins.argval], "jump"))
        for target, _depth, _lasti in self.handlers.get(n, ()):
            out.append((target, "except"))
        return out

    def _run(self) -> None:
        if not self.instructions:
            return
        entry = State([], {name: BOTTOM for name in _parameters(self.code)})
        self.states[0] = entry
        work = [0]
        while work:
            n = work.pop()
            state = self.states[n]
            assert state is not None
            outs = self._transfer(n, state)
            for succ, how in self.successors(n):
                out = outs.get(how)
                if how == "except":
                    out = self._handler_state(n, succ, state)
                if out is None:
                    continue
                merged, changed = _join_states(self.states[succ], out)
                if changed:
                    self.states[succ] = merged
                    work.append(succ)

    def _handler_state(self, n: int, target: int, state: State) -> State:
        for handler, depth, lasti in self.handlers[n]:
            if handler == target:
                out = state.copy()
                out.items = out.items[:depth] if len(out.items) >= depth else []
                out.push(*([BOTTOM] * (2 if lasti else 1)))
                return out
        return State([], dict(state.locals))

    # -- the transfer function -------------------------------------------------------------------

    def _transfer(self, n: int, before: State) -> dict[str, State]:  # noqa: C901 - one table
        ins = self.instructions[n]
        op, arg, argval, off = ins.opname, ins.arg or 0, ins.argval, ins.offset
        s = before.copy()
        own = off if off in self.sem.reads else None
        if op == "LOAD_FAST_AND_CLEAR":
            s.push(s.locals.get(argval, BOTTOM))
            s.locals.pop(argval, None)
        elif op in LOCAL_LOADS or op == "LOAD_CLOSURE":
            s.push(s.locals.get(argval, BOTTOM))
        elif op in LOCAL_PAIR_LOADS:
            s.push(s.locals.get(argval[0], BOTTOM), s.locals.get(argval[1], BOTTOM))
        elif op == "STORE_FAST":
            s.locals[argval] = s.pop()[0]
        elif op == "STORE_FAST_LOAD_FAST":
            s.locals[argval[0]] = s.pop()[0]
            s.push(s.locals.get(argval[1], BOTTOM))
        elif op == "STORE_FAST_STORE_FAST":
            first, second = s.pop()[0], s.pop()[0]
            s.locals[argval[0]], s.locals[argval[1]] = first, second
        elif op == "DELETE_FAST":
            s.locals.pop(argval, None)
        elif op in CONST_LOADS or op == "LOAD_ASSERTION_ERROR":
            s.push(Val(fresh=True))
        elif op == "LOAD_GLOBAL":
            value = _loaded(own)
            null = global_null(ins)
            if null == "after":
                s.push(value, BOTTOM)
            elif null == "before":
                s.push(BOTTOM, value)
            else:
                s.push(value)
        elif op in ("LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF"):
            if op == "LOAD_FROM_DICT_OR_DEREF":
                s.pop()
            s.push(_loaded(own))
        elif is_method_load(ins):
            (base,) = s.pop()
            method = Val(base.reads, base.same, base.fresh, direct=base.direct)
            s.push(method, base)
        elif op == "LOAD_ATTR":
            (base,) = s.pop()
            # attribute chains keep the base's identity: ``self.cache.valid`` depends on which
            # object ``self.cache`` was (but as identity, not as a value that was tested)
            value = derived(base, own=own, same=own)
            if own is not None:
                value = Val(value.reads, value.same, direct=frozenset({own}))
            s.push(value)
        elif is_subscript_read(ins):
            container, key = s.pop(2)
            s.push(derived(key, own=own, same=own, strip=[container]))
        elif op == "BINARY_SLICE":
            container, start, stop = s.pop(3)
            s.push(derived(start, stop, own=own, strip=[container]))
        elif op == "CONTAINS_OP":
            key, container = s.pop(2)
            s.push(derived(key, own=own, strip=[container]))
        elif op in ("STORE_GLOBAL", "STORE_NAME", "STORE_DEREF", "DELETE_ATTR"):
            s.pop()
        elif op == "STORE_ATTR":
            s.pop(2)
        elif op in ("STORE_SUBSCR",):
            s.pop(3)
        elif op in ("DELETE_SUBSCR",):
            s.pop(2)
        elif op == "STORE_SLICE":
            s.pop(4)
        elif is_inplace(ins):
            lhs, rhs = s.pop(2)
            # ``x += [...]`` only works if ``x`` is a list (or list-like): it extends in place
            adds_list = rhs.display and (ins.argrepr == "+=" or op == "INPLACE_ADD")
            extends = lhs.fresh or adds_list or self.sem.keeps_object(lhs.same)
            s.push(Val(lhs.reads | rhs.reads, lhs.same, lhs.fresh, direct=lhs.direct | rhs.direct)
                   if extends else derived(lhs, rhs))
        elif op in _BINARY or op.startswith("BINARY_"):
            s.push(derived(*s.pop(2)))
        elif op.startswith("UNARY_") or op in ("TO_BOOL", "FORMAT_SIMPLE", "CONVERT_VALUE",
                                                "GET_ITER", "GET_YIELD_FROM_ITER"):
            s.push(derived(*s.pop()))
        elif op == "FORMAT_VALUE":
            s.push(derived(*s.pop(2 if arg & 0x04 else 1)))
        elif op == "FORMAT_WITH_SPEC":
            s.push(derived(*s.pop(2)))
        elif op in _BUILDS:
            count = {"BUILD_MAP": 2 * arg, "BUILD_CONST_KEY_MAP": arg + 1}.get(op, arg)
            parts = s.pop(count)
            built = derived(*parts)
            s.push(Val(built.reads, None, fresh=op != "BUILD_STRING", display=op == "BUILD_LIST",
                       direct=built.direct))
        elif op in _ADD_TO_BUILD:
            parts = s.pop(_ADD_TO_BUILD[op])
            if len(s.items) >= arg:
                target = s.items[-arg]
                grown = derived(target, *parts)
                s.items[-arg] = Val(grown.reads, None, target.fresh, target.display, grown.direct)
        elif op in ("COPY", "DUP_TOP"):
            s.push(s.peek(arg if op == "COPY" else 1))
        elif op == "DUP_TOP_TWO":
            s.push(s.peek(2), s.peek(2))
        elif op in ROTATIONS:
            s.rotate(op, arg)
        elif op == "POP_TOP":
            s.pop()
        elif op.startswith("CALL") and not op.startswith("CALL_INTRINSIC"):
            s.push(self._call(ins, s))
        elif op in ("CALL_INTRINSIC_1",):
            s.push(derived(*s.pop()))
        elif op in ("CALL_INTRINSIC_2",):
            s.push(derived(*s.pop(2)))
        elif op in ("NOP", "RESUME", "EXTENDED_ARG", "CACHE", "PRECALL", "KW_NAMES", "NOT_TAKEN",
                    "COPY_FREE_VARS", "MAKE_CELL", "GEN_START", "RETURN_GENERATOR", "SETUP_ANNOTATIONS",
                    "PUSH_NULL") or op in UNCONDITIONAL_JUMPS:
            if op == "PUSH_NULL":
                s.push(BOTTOM)
        elif op.startswith(("POP_JUMP", "JUMP_IF_", "FOR_ITER", "SEND", "SETUP_", "BEFORE_",
                            "RETURN", "RAISE", "RERAISE")):
            return self._branches(ins, before, s)
        else:
            _generic(ins, s)
        return {"fall": s, "jump": s}

    def _branches(self, ins: dis.Instruction, before: State, s: State) -> dict[str, State]:
        """Instructions whose stack effect depends on the way out."""
        op = ins.opname
        if op.startswith("POP_JUMP"):
            s.pop()
            return {"fall": s, "jump": s}
        if op == "JUMP_IF_NOT_EXC_MATCH":  # 3.10 ``except E:``
            s.pop(2)
            return {"fall": s, "jump": s}
        if op.startswith("JUMP_IF_"):  # ..._OR_POP: pops only when falling through
            fall = s.copy()
            fall.pop()
            return {"fall": fall, "jump": s}
        if op.startswith("FOR_ITER"):
            iterator = s.peek(1)
            fall = s.copy()
            fall.push(derived(iterator))
            return {"fall": fall, "jump": _effect(ins, s.copy(), jump=True)}
        if op in ("BEFORE_WITH", "BEFORE_ASYNC_WITH", "SETUP_WITH", "SETUP_ASYNC_WITH"):
            (manager,) = s.pop()
            fall = s.copy()
            fall.push(derived(manager), derived(manager))
            return {"fall": fall, "jump": _effect(ins, before.copy(), jump=True)}
        if op.startswith(("RETURN", "RAISE", "RERAISE")):
            return {}
        return {"fall": _effect(ins, s.copy(), jump=False), "jump": _effect(ins, s.copy(), jump=True)}

    def _call(self, ins: dis.Instruction, s: State) -> Val:
        info = self.sem.calls.get(ins.offset, CallInfo("other", False))
        popped = s.pop(call_pops(ins))
        if ins.opname == "CALL_FUNCTION_EX":
            return derived(*popped)
        head, args = split_call(ins, popped)
        own = ins.offset if info.reads_container else None
        if info.role == "build" and args:  # list(x), sorted(x): a new container from x's items
            val = derived(*args[1:], own=own, strip=args[:1])
            return Val(val.reads, None, fresh=True, direct=val.direct)
        if info.method and info.role in ("read", "mutate"):
            # the receiver is the container: its identity does not flow into the result
            return derived(*args, own=own, strip=head)
        if info.role == "read" and args:  # len(x): x is the container
            return derived(*args[1:], own=own, strip=args[:1])
        if info.method:  # self.cache.lookup(k) depends on which cache (identity, not a value)
            val = derived(*head, *args)
            return Val(val.reads, None, direct=derived(*args).direct)
        return derived(*args)  # which function was called is not data


def _loaded(own: Optional[int]) -> Val:
    """The value a global/cell load pushes: its own read, if it is a shared read."""
    if own is None:
        return BOTTOM
    return Val(frozenset({own}), own, direct=frozenset({own}))


def split_call(ins: dis.Instruction, popped: list) -> tuple[list, list]:
    """A call's operands (bottom first) as (callable and self/NULL, positional+keyword args)."""
    extra = 1 if ins.opname in ("CALL_FUNCTION_KW", "CALL_KW") else 0  # the kwnames tuple
    split = max(0, len(popped) - (ins.arg or 0) - extra)
    return popped[:split], popped[split:len(popped) - extra]


def call_operands(ins: dis.Instruction, state: State) -> tuple[list, list]:
    """:func:`split_call` on the values a call instruction is about to pop from ``state``."""
    count = call_pops(ins)
    return split_call(ins, state.items[-count:] if len(state.items) >= count else [])


def _effect(ins: dis.Instruction, s: State, jump: bool) -> State:
    """Apply the net stack effect with fresh unknown values (used on rarely-relevant paths)."""
    try:
        effect = dis.stack_effect(ins.opcode, ins.arg if ins.opcode >= dis.HAVE_ARGUMENT else None,
                                  jump=jump)
    except ValueError:
        return State([], s.locals)
    if effect < 0:
        s.pop(-effect)
    else:
        s.push(*([BOTTOM] * effect))
    return s


def _generic(ins: dis.Instruction, s: State) -> None:
    """An opcode without a rule: consume by the net effect, results depend on all inputs."""
    try:
        effect = dis.stack_effect(ins.opcode, ins.arg if ins.opcode >= dis.HAVE_ARGUMENT else None)
    except ValueError:
        s.reset()
        return
    if effect < 0:
        consumed = s.pop(-effect)
        if s.items:
            s.items[-1] = derived(s.items[-1], *consumed)
    elif s.items:
        top = derived(s.items[-1])
        s.items[-1] = top
        s.push(*([top] * effect))
    else:
        s.push(*([BOTTOM] * effect))


def _parameters(code: types.CodeType) -> list[str]:
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)  # *args, **kwargs
    return list(code.co_varnames[:count])


def _exception_edges(code: types.CodeType, instructions: list[dis.Instruction],
                     index: dict[int, int]) -> dict[int, list[tuple[int, int, bool]]]:
    """Instruction index -> [(handler index, stack depth, push lasti)] from the exception table."""
    entries = getattr(dis.Bytecode(code), "exception_entries", None) or []
    edges: dict[int, list[tuple[int, int, bool]]] = {}
    for entry in entries:
        if entry.target not in index:
            continue
        for n, ins in enumerate(instructions):
            if entry.start <= ins.offset < entry.end:
                edges.setdefault(n, []).append((index[entry.target], entry.depth, entry.lasti))
    return edges
