"""The instrumentation plan of one code object: what the hook does at each instruction.

Built once per (code object, model) and indexed by ``offset >> 1``, so the per-instruction
path is a list lookup.  ``None`` means "touches only locals and the stack": the monitoring
back-end returns ``DISABLE`` there and never sees that instruction again.
"""

from __future__ import annotations

import dis
import types
from dataclasses import dataclass, field
from typing import Optional

from ..models import Model
from . import opsets
from .opsets import PY
from .symbolic import UNKNOWN, Attr, Call, Cell, Const, Expr, Global, Item, Local, MethodRef, \
    call_parts, is_method_load, simulate

#: The kind of an opcode missing from the tables: a shared write of something unknown.
UNKNOWN_ACCESS = "unknown"

#: Kinds recorded at the instruction but never a switch site of their own.
_RECORDED_ONLY = frozenset({"inplace", "contents"})
#: Operand expressions the runtime can read back from the frame.
_NAMED = (Local, Global, Cell, Attr, Item)
#: Iterables whose iterator no other thread can see (``for i in range(n)``).
_LOCAL_ITERABLES = frozenset({"range", "enumerate", "zip", "reversed"})


@dataclass(frozen=True)
class PlanEntry:
    """What one instruction does that another thread could observe."""

    opname: str
    offset: int
    line: int
    #: ``global``, ``cell``, ``attr``, ``item``, ``slice``, ``contains``, ``call``,
    #: ``inplace``, ``iter``, ``contents`` (a truth test, comparison, operator or unpacking:
    #: a read of each operand that is a container), ``unknown`` (an opcode missing from the
    #: tables; ``name`` is the opcode) or ``None`` when the instruction is only a switch site.
    kind: Optional[str]
    write: bool
    #: Global, cell or attribute name.
    name: Optional[str]
    #: Symbolic operands: the receiver first (object, container, callee), then the key or
    #: the call's positional arguments.
    operands: tuple[Expr, ...] = field(default=())
    #: A thread switch may happen just before this instruction.
    switch: bool = False
    #: A switch becomes possible after this instruction if the callee turns out to be C code
    #: (``gil`` model: CPython checks its eval breaker after calls into C).
    switch_after_c_call: bool = False


#: Plans by code (code objects compare by content) and model.  Filled in the parent before
#: it forks (:func:`warm`), so that executions inherit them instead of building them anew.
_plans: dict[tuple, list[Optional[PlanEntry]]] = {}


def plan_for(code: types.CodeType, model: Model, record: bool) -> list[Optional[PlanEntry]]:
    """:func:`build_plan`, memoized (plans are pure functions of the code and the model)."""
    key = (code, code.co_filename, model, record)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = build_plan(code, model, record)
    return plan


def warm(code: types.CodeType, model: Model, record: bool) -> None:
    """Build the plans of ``code`` and every function nested in it."""
    plan_for(code, model, record)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            warm(const, model, record)


def build_plan(code: types.CodeType, model: Model, record: bool) -> list[Optional[PlanEntry]]:
    """Return the per-offset plan; accesses that are not switch sites are kept only if ``record``."""
    opsets.warn_if_newer()
    instructions = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
    size = (max((i.offset for i in instructions), default=0) >> 1) + 1
    plan: list[Optional[PlanEntry]] = [None] * size
    dirty_before = _dirty_39(code, instructions) if model is Model.GIL_39 else {}
    line = code.co_firstlineno
    iterable: Expr = UNKNOWN
    rows = []
    for index, (instr, stack) in enumerate(simulate(instructions)):
        if instr.starts_line:
            line = _line_of(instr, line)
        if instr.opname == "GET_ITER":
            iterable = stack.peek(1)  # FOR_ITER starts a block, so remember it here
        kind, write, name, operands = _access(instr, stack, iterable)
        switch = after = False
        # An in-place operator is recorded but is no switch site of its own: ``x += 1`` on a
        # number touches only the stack, and ``l += [1]`` on a shared list follows the load
        # of ``l``, itself a switch site with only stack work in between.  The same holds for
        # the contents read of ``if self.items:`` (the load of ``self.items`` is the site).
        shared = kind is not None and kind not in _RECORDED_ONLY
        if model is Model.FREE_THREADED:
            switch = shared
        elif model is Model.GIL_39:
            switch = shared and (dirty_before.get(instr.offset, True) or kind == UNKNOWN_ACCESS)
        else:
            switch = _gil_site_before(instr, index) or kind == UNKNOWN_ACCESS
            # 3.10 checks after every call; 3.11+ only after non-inlined (C) calls
            after = kind == "call" and (PY < (3, 11) or not _skips_check(operands))
        rows.append((instr, line, kind, write, name, operands, switch, after))
    # The switch a C call allows is taken before the next shared access (the scheduler's
    # ``pending_switch``), so that access must reach the hook even when it is no site itself:
    # otherwise ``d[k] = d.get(k, 0) + 1`` would only switch at the next call or back-edge.
    owed = _owed_after_call(code, instructions, rows) if model is Model.GIL else set()
    entry = _first_after_entry(code, instructions, rows) if model is Model.GIL else set()
    for instr, line, kind, write, name, operands, switch, after in rows:
        switch = switch or instr.offset in entry
        if switch or after or instr.offset in owed or (record and kind is not None):
            plan[instr.offset >> 1] = PlanEntry(instr.opname, instr.offset, line, kind, write, name,
                                           operands, switch, after)
    return plan


def _line_of(instr: dis.Instruction, previous: int) -> int:
    if PY >= (3, 13):
        return instr.line_number if instr.line_number is not None else previous
    return instr.starts_line if isinstance(instr.starts_line, int) else previous


def _access(instr: dis.Instruction, stack, iterable: Expr = UNKNOWN,
            ) -> tuple[Optional[str], bool, Optional[str], tuple]:
    op, name = instr.opname, instr.argval
    if op in opsets.GLOBAL_READS or op in opsets.GLOBAL_WRITES:
        return "global", op in opsets.GLOBAL_WRITES, name, ()
    if op in opsets.CELL_READS or op in opsets.CELL_WRITES:
        return "cell", op in opsets.CELL_WRITES, name, ()
    if op in opsets.ATTR_READS:
        if is_method_load(instr):
            return None, False, None, ()  # a method load: the call is the access
        return "attr", False, name, (stack.peek(1),)
    if op in opsets.ATTR_WRITES:
        return "attr", True, name, (stack.peek(1),)
    if opsets.is_subscript_read(instr) or op in opsets.ITEM_WRITES:
        write, key = op in opsets.ITEM_WRITES, stack.peek(1)
        if isinstance(key, Const) and isinstance(key.value, slice):
            # 3.14+ folds ``x[1:2]`` into a constant slice: the whole container, never an
            # item keyed by a slice object (which would conflict with no index)
            return "slice", write, None, (stack.peek(2),)
        return "item", write, None, (stack.peek(2), key)
    if op in opsets.SLICE_READS:
        return "slice", False, None, (stack.peek(3),)
    if op in opsets.SLICE_WRITES:
        return "slice", True, None, (stack.peek(3),)
    if op in opsets.CONTAINS:
        return "contains", False, None, (stack.peek(1), stack.peek(2))
    if op in opsets.CALLS:
        callee, args = call_parts(instr, stack)
        return "call", False, None, (callee, *args)
    if opsets.is_inplace(instr):
        return "inplace", True, None, (stack.peek(2),)
    if op in opsets.ITERATION:
        if isinstance(iterable, Call) and isinstance(iterable.func, Global) \
                and iterable.func.name in _LOCAL_ITERABLES:
            return None, False, None, ()
        return "iter", False, None, (iterable,)
    if not opsets.is_known(op):
        # fail safe: an opcode the tables do not know may touch anything
        opsets.warn_unknown(op)
        return UNKNOWN_ACCESS, True, op, ()
    depths = opsets.content_reads(instr)
    if depths:
        named = tuple(e for e in (stack.peek(d) for d in depths) if _names_a_container(e, len(depths)))
        return ("contents", False, None, named) if named else (None, False, None, ())
    return None, False, None, ()


def _names_a_container(expr: Expr, operands: int) -> bool:
    """Could ``expr`` name a shared container whose contents an instruction reads?

    A local counts where one operand is read (``if items:``, ``a, b = pair``: a local alias
    of a shared list is common); for comparisons and arithmetic on two operands only loads
    from shared places count: ``i < n`` and ``x + 1`` on locals run in every loop, and a hook
    there would cost every execution for the rare alias of a container.
    """
    if operands == 1:
        return isinstance(expr, _NAMED)
    return isinstance(expr, _NAMED) and not isinstance(expr, Local)


def _gil_site_before(instr: dis.Instruction, index: int) -> bool:
    """CPython 3.10-3.15 eval-breaker sites, moved to the nearest equivalent instruction start."""
    op = instr.opname
    if op == "RESUME":
        return _resume_checks(instr)
    if op in opsets.BACK_EDGES:
        return True
    if PY < (3, 11):
        return index == 0 or op in opsets.JUMPS_310
    return False


def _resume_checks(instr: dis.Instruction) -> bool:
    """Function start (0) or after ``yield`` (1), not after ``yield from``/``await`` (2, 3).

    3.13 keeps more flags in the upper bits (``RESUME_OPARG_DEPTH1_MASK``: a ``yield`` at
    except-depth 1 resumes with 5), so only the low two bits say where it resumes.
    """
    return (instr.arg or 0) & 3 < 2


def _skips_check(operands: tuple) -> bool:
    """Specialised calls that never check the eval breaker (``len(x)``, ``l.append(x)``)."""
    callee = operands[0] if operands else UNKNOWN
    if isinstance(callee, Global):
        return callee.name in opsets.NO_CHECK_CALLEES
    if isinstance(callee, MethodRef):
        return callee.name == "append"
    return False


def _owed_after_call(code: types.CodeType, instructions: list[dis.Instruction],
                     rows: list[tuple]) -> set[int]:
    """``gil``: offsets of shared accesses that may come first after a checking call."""
    by_offset = {row[0].offset: row for row in rows}
    owed: set[int] = set()

    def visit(instr: dis.Instruction, pending: bool) -> bool:
        _, _, kind, _, _, _, switch, after = by_offset[instr.offset]
        if kind is not None and pending:
            owed.add(instr.offset)
        if after:
            return True
        return pending and kind is None and not switch  # any planned step takes the switch

    _forward_flag(code, instructions, visit, entry=False, handler=False)
    return owed


def _first_after_entry(code: types.CodeType, instructions: list[dis.Instruction],
                       rows: list[tuple]) -> set[int]:
    """``gil``: shared accesses that may come first after function entry or a ``yield``.

    Neither ``sys.monitoring`` INSTRUCTION events nor ``settrace`` opcode events fire for
    ``RESUME`` (or a frame's first instruction on 3.10), so the entry check site is moved to
    the frame's first shared access: only local instructions lie in between (see
    docs/switch-models.md, section 3).
    """
    by_offset = {row[0].offset: row for row in rows}
    first: set[int] = set()

    def visit(instr: dis.Instruction, pending: bool) -> bool:
        _, _, kind, _, _, _, switch, after = by_offset[instr.offset]
        if instr.opname == "RESUME" and _resume_checks(instr):
            return True
        if pending and kind is not None:
            first.add(instr.offset)
        return pending and kind is None and not switch and not after

    _forward_flag(code, instructions, visit, entry=PY < (3, 11), handler=False)
    return first


def _dirty_39(code: types.CodeType, instructions: list[dis.Instruction]) -> dict[int, bool]:
    """For 3.9 emulation: has a non-"fast" instruction run since the previous access?

    A forward data-flow over basic blocks (OR at merges); frame entry and exception handlers
    start dirty because 3.9 checks the eval breaker there.
    """
    result: dict[int, bool] = {}

    def visit(instr: dis.Instruction, dirty: bool) -> bool:
        access = _access_kind_only(instr)
        if access:
            result[instr.offset] = dirty  # an access uses up the flag...
        return instr.opname not in opsets.FAST_39 or (dirty and not access)  # ...then sets it anew

    _forward_flag(code, instructions, visit, entry=True, handler=True)
    return result


def _forward_flag(code: types.CodeType, instructions: list[dis.Instruction],
                  visit, entry: bool, handler: bool) -> None:
    """Run ``visit(instr, flag) -> flag`` over the basic blocks to a fixpoint (OR at merges).

    ``entry``/``handler``: the flag at frame entry and at exception handlers.  ``visit`` may
    be called more than once per instruction; the last call sees the final (largest) flag.
    """
    if not instructions:
        return
    by_offset = {i.offset: n for n, i in enumerate(instructions)}
    handlers = _handler_offsets(code)
    starts = sorted({0} | {i.offset for i in instructions if i.is_jump_target} | handlers |
                    {instructions[n + 1].offset for n, i in enumerate(instructions[:-1])
                     if opsets.is_jump(i.opname) or i.opname.startswith(("RETURN", "RAISE", "RERAISE"))})
    dirty_in = {s: ((s == 0 and entry) or (s in handlers and handler)) for s in starts}
    changed = True
    while changed:
        changed = False
        for b, start in enumerate(starts):
            end = starts[b + 1] if b + 1 < len(starts) else None
            dirty = dirty_in[start]
            n = by_offset[start]
            while n < len(instructions) and (end is None or instructions[n].offset < end):
                dirty = visit(instructions[n], dirty)
                n += 1
            last = instructions[n - 1]
            successors = []
            if end is not None and not _ends_flow(last.opname):
                successors.append(end)
            if opsets.is_jump(last.opname) and isinstance(last.argval, int):
                successors.append(last.argval)
            for succ in successors:
                if succ in dirty_in and dirty and not dirty_in[succ]:
                    dirty_in[succ] = True
                    changed = True


def _access_kind_only(instr: dis.Instruction) -> bool:
    from .symbolic import SymbolicStack
    return _access(instr, SymbolicStack())[0] is not None


def _ends_flow(opname: str) -> bool:
    return opname.startswith(("RETURN", "RAISE", "RERAISE")) or opname in (
        "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_ABSOLUTE", "JUMP", "JUMP_NO_INTERRUPT",
        "JUMP_BACKWARD_NO_INTERRUPT")


def _handler_offsets(code: types.CodeType) -> set[int]:
    parse = getattr(dis, "_parse_exception_table", None)
    if parse is None:
        return set()
    return {entry.target for entry in parse(code)}
