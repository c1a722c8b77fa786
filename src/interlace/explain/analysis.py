"""Find the atomicity windows of a file's functions and judge each switch model on them.

A *window* runs from a shared read to a later access that depends on it:

* **read-modify-write**: the value written to a location was computed from a read of that
  location (``x += 1``, ``x = x + 1``, ``d[k] = d.get(k, 0) + 1``, ``rid = g; g = rid + 1``);
* **check-then-act**: a branch tests a value read from a location, and the branch taken
  writes, mutates or re-reads that location (``if k not in d: d[k] = f()``,
  ``if self.x is None: self.x = ...``, ``if items: items.pop()``).

A thread switch inside the window lets another thread change the location between the two
accesses, so the outcome can differ from every serial order.  Whether a switch *can* land there
is decided per model by :func:`interlace.bytecode.plan.build_plan`, the same table the runtime
uses: a switch before a planned switch site, or after a call that checks the eval breaker.
"""

from __future__ import annotations

import dis
import sys
import types
from dataclasses import dataclass, field
from typing import Iterable, Optional

from ..bytecode import opsets
from ..bytecode.plan import PlanEntry, build_plan
from ..bytecode.symbolic import NULL, UNKNOWN, Attr, Call, Cell, Const, Expr, Global, Item, Local, \
    MethodRef
from ..models import GIL_VERSIONS, MODEL_LABELS, Model
from . import source as source_mod
from .flow import CallInfo, Flow, Semantics, Val, call_operands

PY = opsets.PY
MODELS = (Model.FREE_THREADED, Model.GIL, Model.GIL_39)

RMW, CTA = "read-modify-write", "check-then-act"
CODES = {RMW: "IL001", CTA: "IL002"}

#: What calls do to their receiver or argument: bytecode's tables, shared with the runtime.
_READ_METHODS = frozenset(opsets.READ_METHODS)
_KEYED_READS = frozenset(name for name, key in opsets.READ_METHODS.items() if key is not None)
_MUTATORS = frozenset(opsets.WRITE_METHODS)
_KEYED_MUTATORS = frozenset({"pop"} | {name for name, key in opsets.WRITE_METHODS.items()
                                       if key is not None})
_READ_FUNCS = opsets.READING_BUILTINS - opsets.BUILDING_BUILTINS
_BUILD_FUNCS = opsets.BUILDING_BUILTINS


# -- locations -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Loc:
    """A shared location: a variable, one item of a container, or a container's contents."""

    kind: str  # "var", "item" or "contents"
    root: Expr  # the variable (var) or the container (item, contents)
    key: Optional[Expr] = None  # item: the key, None if not known statically

    def describe(self) -> str:
        if self.kind == "var":
            if isinstance(self.root, Global):
                return f"global {self.root.name}"
            if isinstance(self.root, Cell):
                return f"closure variable {self.root.name}"
            return expr_text(self.root)
        if self.kind == "item":
            key = expr_text(self.key) if self.key is not None else "..."
            return f"{expr_text(self.root)}[{key}]"
        return f"the contents of {expr_text(self.root)}"


def relate(a: Loc, b: Loc) -> int:
    """2: the same location; 1: overlapping (a variable and its object's contents); 0: no."""
    if a.root != b.root:
        return 0
    if a.kind != b.kind:
        return 1
    if a.kind != "item":
        return 2
    if a.key is None or b.key is None:
        return 1
    return 2 if a.key == b.key else 0


def expr_text(expr: Expr) -> str:
    if isinstance(expr, (Local, Global, Cell)):
        return expr.name
    if isinstance(expr, Const):
        return repr(expr.value)
    if isinstance(expr, Attr):
        return f"{expr_text(expr.base)}.{expr.name}"
    if isinstance(expr, Item):
        return f"{expr_text(expr.base)}[{expr_text(expr.key)}]"
    if isinstance(expr, MethodRef):
        return f"{expr_text(expr.base)}.{expr.name}"
    if isinstance(expr, Call):
        return f"{expr_text(expr.func)}(...)"
    return "?"


def _known(expr: Expr) -> bool:
    """Can this expression name the same object on both ends of a window?"""
    if expr is UNKNOWN or expr is NULL or isinstance(expr, (Const, Call, MethodRef)):
        return False
    if isinstance(expr, Attr):
        return _known(expr.base)
    if isinstance(expr, Item):
        return _known(expr.base)
    return True


@dataclass(frozen=True)
class Access:
    index: int
    offset: int
    loc: Loc
    write: bool
    #: Position of the container/receiver operand on the stack (to ask the flow if it is fresh).
    container_depth: Optional[int] = None
    #: For calls: read the receiver from the call's popped operands instead.
    call: bool = False


def classify(instr: dis.Instruction, index: int, step: Optional[PlanEntry]) -> tuple[Optional[Access], Optional[CallInfo]]:
    """The shared access an instruction makes (if any) and, for calls, how values flow."""
    if step is None or step.kind is None:
        return None, None
    kind, ops = step.kind, step.operands
    if kind in ("global", "cell"):
        root = Global(step.name) if kind == "global" else Cell(step.name)
        return Access(index, instr.offset, Loc("var", root), step.write), None
    if kind == "attr":
        if not _known(ops[0]):
            return None, None
        depth = 1
        return Access(index, instr.offset, Loc("var", Attr(ops[0], step.name)), step.write, depth), None
    if kind in ("item", "contains"):
        container, key = ops[0], ops[1]
        if not _known(container):
            return None, None
        depth = 1 if kind == "contains" else 2
        key_expr = key if key is not UNKNOWN and key is not NULL and not isinstance(key, Call) else None
        return Access(index, instr.offset, Loc("item", container, key_expr), step.write, depth), None
    if kind == "slice":
        if not _known(ops[0]):
            return None, None
        # BINARY_SLICE/STORE_SLICE: container, start, stop; 3.14+'s constant slices go
        # through BINARY_OP []/STORE_SUBSCR/DELETE_SUBSCR: container, key
        depth = 3 if instr.opname in opsets.SLICE_READS | opsets.SLICE_WRITES else 2
        return Access(index, instr.offset, Loc("contents", ops[0]), step.write, depth), None
    if kind == "call":
        return _classify_call(instr, index, ops)
    return None, None


def _classify_call(instr: dis.Instruction, index: int, ops: tuple) -> tuple[Optional[Access], CallInfo]:
    callee, args = (ops[0] if ops else UNKNOWN), ops[1:]
    if isinstance(callee, MethodRef):
        name, base = callee.name, callee.base
        if name in _READ_METHODS:
            info = CallInfo("read", True, reads_container=_known(base))
            loc = _container_loc(base, args if name in _KEYED_READS else ())
            return (Access(index, instr.offset, loc, False, call=True) if loc else None), info
        if name in _MUTATORS:
            info = CallInfo("mutate", True)
            loc = _container_loc(base, args if name in _KEYED_MUTATORS else ())
            return (Access(index, instr.offset, loc, True, call=True) if loc else None), info
        return None, CallInfo("other", True)
    if isinstance(callee, Global) and args:
        first = args[0]
        if callee.name in _READ_FUNCS:
            info = CallInfo("read", False, reads_container=_known(first))
            loc = _container_loc(first, ())
            return (Access(index, instr.offset, loc, False, call=True) if loc else None), info
        if callee.name in _BUILD_FUNCS:
            info = CallInfo("build", False, reads_container=_known(first))
            loc = _container_loc(first, ())
            return (Access(index, instr.offset, loc, False, call=True) if loc else None), info
    if isinstance(callee, Global) and callee.name in _BUILD_FUNCS:
        return None, CallInfo("build", False)
    return None, CallInfo("other", False)


def _container_loc(base: Expr, keyed_args: tuple) -> Optional[Loc]:
    if not _known(base):
        return None
    if keyed_args:
        key = keyed_args[0]
        return Loc("item", base, key if _known(key) or isinstance(key, Const) else None)
    return Loc("contents", base)


# -- results -------------------------------------------------------------------------------------

@dataclass
class Site:
    """A place inside a window where a model lets another thread run."""

    where: str  # "before" an instruction, or "after" a call
    offset: int
    opname: str
    line: int


@dataclass
class Verdict:
    model: Model
    can_switch: bool
    reason: str
    sites: list[Site] = field(default_factory=list)

    @property
    def label(self) -> str:
        return MODEL_LABELS[self.model]


@dataclass
class WindowInstr:
    offset: int
    line: int
    opname: str
    arg: Optional[int]
    argrepr: str
    #: "read" (the window's start), "write"/"act" (its end), or "".
    role: str
    switch_before: list[Model] = field(default_factory=list)
    switch_after: list[Model] = field(default_factory=list)


@dataclass
class Finding:
    path: str
    function: str
    kind: str
    location: str
    line: int
    col: int
    end_line: int
    source: list[tuple[int, str]]
    instructions: list[WindowInstr]
    verdicts: dict[Model, Verdict]

    @property
    def code(self) -> str:
        return CODES[self.kind]

    def switchable_under(self) -> list[str]:
        return [v.label for v in self.verdicts.values() if v.can_switch]

    @property
    def message(self) -> str:
        what = "read-modify-write" if self.kind == RMW else "check-then-act"
        lines = f"line {self.line}" if self.end_line == self.line else f"lines {self.line}-{self.end_line}"
        models = ", ".join(self.switchable_under()) or "no model"
        return (f"{what} of {self.location} in {self.function}() is not atomic ({lines}); "
                f"a thread switch can land inside under: {models}")


@dataclass
class Report:
    path: str
    python: str
    selection: str
    entries: list[str]
    functions: list[str]
    findings: list[Finding]
    #: ``--model``: only windows this model can split are kept; how many there were in all.
    filtered_by: Optional[Model] = None
    total: int = 0


class UnknownFunction(ValueError):
    """``FILE:QUALNAME`` named no function in the file."""


# -- driver --------------------------------------------------------------------------------------

def explain(path: str, qualname: Optional[str] = None, include_all: bool = False) -> Report:
    facts = source_mod.load(path)
    functions, selection = _select(facts, qualname, include_all)
    writes = _all_writes(facts.functions)
    findings: list[Finding] = []
    for function in functions:
        findings.extend(FunctionAnalysis(facts, function, writes).findings())
    findings.sort(key=lambda f: (f.line, f.end_line, f.function, f.kind))
    version = ".".join(map(str, sys.version_info[:3]))
    return Report(path, version, selection, facts.entries, [f.qualname for f in functions], findings)


def _select(facts: source_mod.SourceFacts, qualname: Optional[str],
            include_all: bool) -> tuple[list[source_mod.Function], str]:
    functions = facts.functions
    if qualname:
        chosen = [f for f in functions if f.qualname == qualname]
        if not chosen:
            names = sorted({f.qualname for f in functions if "<" not in f.qualname})
            known = ", ".join(names[:15]) + (f", ... ({len(names)} in all)" if len(names) > 15 else "")
            raise UnknownFunction(f"no function {qualname!r} in {facts.path} "
                                  f"(functions: {known or 'none'})")
        chosen += [f for f in functions if source_mod.is_nested_helper(f.qualname, qualname)]
        return chosen, "the function asked for"
    if include_all:
        return functions, "all functions (--all)"
    if not facts.entries:
        return functions, "all functions (the file starts no threads)"
    reachable = [f for f in functions if f.qualname in facts.reachable or any(
        source_mod.is_nested_helper(f.qualname, parent) for parent in facts.reachable)]
    if not reachable:
        return functions, "all functions (the threads' targets are not defined in this file)"
    return reachable, "functions reachable from the threads this file starts"


#: Constructors initialize objects before other threads can see them.
_INITIALIZERS = ("__init__", "__new__", "__post_init__")


def _all_writes(functions: Iterable[source_mod.Function]) -> list[Loc]:
    """Every location some function of the file writes after initialization (module code and
    constructors only initialize)."""
    locs: list[Loc] = []
    for function in functions:
        if function.code.co_name in _INITIALIZERS:
            continue
        instructions = _instructions(function.code)
        plan = build_plan(function.code, Model.FREE_THREADED, record=True)
        for n, instr in enumerate(instructions):
            access, _ = classify(instr, n, plan[instr.offset >> 1])
            if access is not None and access.write:
                locs.append(access.loc)
    return locs


def _instructions(code: types.CodeType) -> list[dis.Instruction]:
    return [i for i in dis.get_instructions(code) if i.opname != "CACHE"]


def _lines(instructions: list[dis.Instruction], first: int) -> list[int]:
    lines, line = [], first
    for instr in instructions:
        if PY >= (3, 11):
            positions = instr.positions
            if positions is not None and positions.lineno is not None:
                line = positions.lineno
        elif instr.starts_line:
            line = instr.starts_line
        lines.append(line)
    return lines


class FunctionAnalysis:
    def __init__(self, facts: source_mod.SourceFacts, function: source_mod.Function,
                 writes: list[Loc]) -> None:
        self.facts, self.function, self.writes = facts, function, writes
        code = function.code
        self.instructions = _instructions(code)
        self.lines = _lines(self.instructions, code.co_firstlineno)
        self.plans = {model: build_plan(code, model, record=True) for model in MODELS}
        free = self.plans[Model.FREE_THREADED]
        self.accesses: dict[int, Access] = {}
        calls: dict[int, CallInfo] = {}
        for n, instr in enumerate(self.instructions):
            access, info = classify(instr, n, free[instr.offset >> 1])
            if access is not None:
                self.accesses[n] = access
            if info is not None:
                calls[instr.offset] = info
        reads = {a.offset for a in self.accesses.values() if not a.write}
        self.by_offset = {a.offset: a for a in self.accesses.values()}
        self.flow = Flow(code, self.instructions, Semantics(reads, calls, self._keeps_object))
        self.preds: dict[int, list[int]] = {}
        for n in range(len(self.instructions)):
            for succ, _ in self.flow.successors(n):
                self.preds.setdefault(succ, []).append(n)

    def _keeps_object(self, read_offset: Optional[int]) -> bool:
        """Does ``+=`` on the value of this read extend the same object (a known list, dict...)?"""
        access = self.by_offset.get(read_offset) if read_offset is not None else None
        if access is None or access.loc.kind != "var":
            return False
        root = access.loc.root
        if isinstance(root, Global):
            return root.name in self.facts.mutable_globals
        if isinstance(root, Attr):
            return root.name in self.facts.mutable_attrs
        return False

    # -- shared or frame-local -------------------------------------------------------------------

    def _shared(self, access: Access) -> bool:
        """False when the container was built in this frame (``acc = []; acc.append(x)``)."""
        state = self.flow.states[access.index]
        if state is None:
            return False  # unreachable code
        if access.call:
            instr = self.instructions[access.index]
            head, args = call_operands(instr, state)
            step = self.plans[Model.FREE_THREADED][instr.offset >> 1]
            method = step is not None and bool(step.operands) and isinstance(step.operands[0], MethodRef)
            container = head if method else args[:1]  # the receiver, or len(x)'s x
            return not container or not all(v.fresh for v in container)
        if access.container_depth is None:
            return True
        return not state.peek(access.container_depth).fresh

    # -- findings --------------------------------------------------------------------------------

    def findings(self) -> list[Finding]:
        shared = {n: a for n, a in self.accesses.items() if self._shared(a)}
        checks = self._check_then_act(shared)
        covered = {act for _, acts in checks for act in acts}
        windows = [(read, acts, CTA) for read, acts in checks]
        windows += [(read, [write], RMW) for read, write in self._read_modify_write(shared)
                    if write not in covered]
        merged: dict[tuple, Finding] = {}
        for read, acts, kind in windows:
            finding = self._finding(read, acts, kind)
            if finding is None:
                continue
            key = (finding.kind, finding.location, finding.line, finding.end_line)
            merged[key] = _merge(merged[key], finding) if key in merged else finding
        return list(merged.values())

    def _value_vals(self, access: Access) -> list[Val]:
        """The values a write stores (or passes to a mutating call)."""
        state = self.flow.states[access.index]
        instr = self.instructions[access.index]
        if state is None:
            return []
        op = instr.opname
        if op in ("STORE_GLOBAL", "STORE_DEREF", "STORE_NAME"):
            return [state.peek(1)]
        if op == "STORE_ATTR":
            return [state.peek(2)]
        if op == "STORE_SUBSCR":
            return [state.peek(3)]
        if op == "STORE_SLICE":
            return [state.peek(4)]
        if access.call:
            return call_operands(instr, state)[1]
        return []

    def _read_modify_write(self, shared: dict[int, Access]) -> list[tuple[int, int]]:
        pairs = []
        reads = {a.offset: n for n, a in shared.items() if not a.write}
        for n, write in shared.items():
            if not write.write:
                continue
            best: Optional[tuple[int, int]] = None
            for value in self._value_vals(write):
                for read_offset in value.reads:
                    if read_offset not in reads:
                        continue
                    read = shared[reads[read_offset]]
                    # storing back the very object that was read (``l += [x]`` on a list,
                    # ``x = g; g = x``) modifies nothing
                    if value.same == read_offset and relate(read.loc, write.loc) == 2:
                        continue
                    rank = relate(read.loc, write.loc)
                    if rank == 0 or (write.loc.kind != "var" and read.loc.kind == "var"):
                        continue
                    candidate = (-rank, read.index)
                    if best is None or candidate < best:
                        best = candidate
            if best is not None:
                pairs.append((best[1], n))
        return pairs

    def _check_then_act(self, shared: dict[int, Access]) -> list[tuple[int, list[int]]]:
        reads = {a.offset: n for n, a in shared.items() if not a.write}
        conditions: list[tuple[int, list[int]]] = []
        for n, instr in enumerate(self.instructions):
            state = self.flow.states[n]
            if state is not None and instr.opname.startswith(("POP_JUMP", "JUMP_IF_")) \
                    and instr.opname != "JUMP_IF_NOT_EXC_MATCH":
                condition = state.peek(1)
                tested = [reads[r] for r in condition.reads if r in reads]
                if tested:
                    conditions.append((n, tested, {reads[r] for r in condition.direct if r in reads}))
        # a read that is itself tested (a ``while`` loop's re-check) starts a window, it does
        # not end one
        checked = {read for _, tested, _ in conditions for read in tested}
        acts_by_read: dict[int, set[int]] = {}
        for n, tested, values in conditions:
            branches = [succ for succ, how in self.flow.successors(n) if how != "except"]
            if len(branches) != 2:
                continue
            for read_index in tested:
                region = self._guarded(n, read_index, branches)
                read = shared[read_index]
                for m in region:
                    act = shared.get(m)
                    if act is None or m == read_index:
                        continue
                    rank = relate(read.loc, act.loc)
                    if act.write and rank >= 1:
                        acts_by_read.setdefault(read_index, set()).add(m)
                    elif not act.write and rank == 2 and m not in checked and read_index in values \
                            and self._written_elsewhere(read.loc):
                        acts_by_read.setdefault(read_index, set()).add(m)
        return [(read, sorted(acts)) for read, acts in sorted(acts_by_read.items())]

    def _written_elsewhere(self, loc: Loc) -> bool:
        return any(relate(loc, other) >= 1 for other in self.writes)

    def _guarded(self, jump: int, read: int, branches: list[int]) -> set[int]:
        """Instructions that run on one branch of ``jump`` only (before ``read`` runs again)."""
        stop = {jump, read}
        reach = [self._reach(b, stop) for b in branches]
        return (reach[0] - reach[1]) | (reach[1] - reach[0])

    def _reach(self, start: int, stop: set[int]) -> set[int]:
        seen: set[int] = set()
        todo = [start]
        while todo:
            n = todo.pop()
            if n in seen or n in stop:
                continue
            seen.add(n)
            todo.extend(s for s, _ in self.flow.successors(n))
        return seen

    def _window(self, read: int, acts: list[int]) -> set[int]:
        """Instructions on some path from ``read`` to an act that repeats neither end."""
        inside: set[int] = set()
        for act in acts:
            stop = {read, act}
            forward: set[int] = set()
            for succ, _ in self.flow.successors(read):
                forward |= self._reach(succ, stop)
            backward: set[int] = set()
            todo = [p for p in self.preds.get(act, [])]
            while todo:
                n = todo.pop()
                if n in backward or n in stop:
                    continue
                backward.add(n)
                todo.extend(self.preds.get(n, []))
            inside |= forward & backward
        return inside

    # -- one finding -----------------------------------------------------------------------------

    def _finding(self, read: int, acts: list[int], kind: str) -> Optional[Finding]:
        ends = [read, *acts]
        if self._locked({self.lines[n] for n in ends}):
            return None
        window = self._window(read, acts)
        verdicts, annotations = {}, {}
        for model in MODELS:
            verdicts[model] = self._verdict(model, read, acts, window, annotations)
        listing = []
        for n in sorted({read, *acts} | window, key=lambda i: self.instructions[i].offset):
            instr = self.instructions[n]
            role = "read" if n == read else ("write" if self.accesses[n].write else "act") if n in acts else ""
            before, after = annotations.get(n, ([], []))
            listing.append(WindowInstr(instr.offset, self.lines[n], instr.opname, instr.arg,
                                       str(instr.argrepr), role, before, after))
        line, end_line = self.lines[read], max(self.lines[n] for n in ends)
        text = self.facts.source_line(line)
        col = len(text) - len(text.lstrip()) + 1
        source = [(ln, self.facts.source_line(ln)) for ln in range(line, end_line + 1)]
        if len(source) > 6:  # keep the two ends of a long window
            source = source[:3] + [(0, "...")] + source[-2:]
        location = self.accesses[acts[-1] if kind == RMW else read].loc.describe()
        return Finding(self.facts.path, self.function.qualname, kind, location, line, col, end_line,
                       source, listing, verdicts)

    def _locked(self, lines: set[int]) -> bool:
        qualname = self.function.qualname
        owner = qualname.split(".<locals>.<")[0] if ".<locals>.<" in qualname else qualname
        return any(all(first <= ln <= last for ln in lines)
                   for first, last in self.facts.locked.get(owner, ()))

    def _verdict(self, model: Model, read: int, acts: list[int], window: set[int],
                 annotations: dict[int, tuple[list, list]]) -> Verdict:
        plan = self.plans[model]
        sites: list[Site] = []
        path = window | set(acts)
        for n in sorted(path, key=lambda i: self.instructions[i].offset):
            step = plan[self.instructions[n].offset >> 1]
            if step is not None and step.switch and self._jump_taken(model, n, path):
                sites.append(Site("before", step.offset, step.opname, self.lines[n]))
                annotations.setdefault(n, ([], []))[0].append(model)
        for n in sorted(window | {read}, key=lambda i: self.instructions[i].offset):
            step = plan[self.instructions[n].offset >> 1]
            if step is not None and step.switch_after_c_call:
                sites.append(Site("after", step.offset, step.opname, self.lines[n]))
                annotations.setdefault(n, ([], []))[1].append(model)
        sites.sort(key=lambda s: s.offset)
        return Verdict(model, bool(sites), self._reason(model, read, window, sites), sites)

    def _callee(self, offset: int) -> str:
        step = self.plans[Model.FREE_THREADED][offset >> 1]
        callee = step.operands[0] if step is not None and step.operands else UNKNOWN
        text = expr_text(callee)
        return f"{text}()" if text != "?" else "a function"

    def _jump_taken(self, model: Model, n: int, path: set[int]) -> bool:
        """3.10 checks on a conditional jump only when it is taken (towards the window's end)."""
        instr = self.instructions[n]
        if model is not Model.GIL or PY >= (3, 11) or not instr.opname.startswith("POP_JUMP_IF"):
            return True
        return self.flow.index.get(instr.argval) in path

    def _reason(self, model: Model, read: int, window: set[int], sites: list[Site]) -> str:
        if model is Model.FREE_THREADED:
            last = sites[-1]
            return (f"every shared access is a switch point, e.g. {last.opname} "
                    f"(line {last.line}): another thread can run just before it")
        if model is Model.GIL:
            if not sites:
                return (f"no call, loop back-edge or function entry inside: CPython {GIL_VERSIONS} "
                        "does not check for a GIL drop request there")
            first = sites[0]
            if first.where == "after":
                return (f"the call to {self._callee(first.offset)} (line {first.line}) can switch "
                        "threads: when a C function returns, or at a Python callee's entry")
            if first.opname in opsets.BACK_EDGES or first.opname == "JUMP_ABSOLUTE":
                return f"a loop back-edge ({first.opname}, line {first.line}) checks for a GIL drop request"
            return f"{first.opname} (line {first.line}) checks for a GIL drop request"
        if not sites:
            return ("only instructions CPython <= 3.9 never checks after (LOAD_FAST, LOAD_CONST, "
                    "IS_OP, CONTAINS_OP, jumps on bools...) inside")
        first = sites[0]
        slow = [self.instructions[n] for n in window | {read}
                if self.instructions[n].offset < first.offset
                and self.instructions[n].opname not in opsets.FAST_39]
        if slow:
            last = max(slow, key=lambda i: i.offset)
            return (f"CPython <= 3.9 checks for a GIL drop request after {last.opname} "
                    f"(line {self.lines[self.flow.index[last.offset]]})")
        return f"CPython <= 3.9 can drop the GIL before {first.opname} (line {first.line})"


def _merge(a: Finding, b: Finding) -> Finding:
    """Two windows with the same ends in the source (e.g. a ``while`` test compiled twice)."""
    verdicts = {m: a.verdicts[m] if a.verdicts[m].can_switch or not b.verdicts[m].can_switch
                else b.verdicts[m] for m in a.verdicts}
    listing: dict[int, WindowInstr] = {i.offset: i for i in a.instructions}
    for instr in b.instructions:
        mine = listing.get(instr.offset)
        if mine is None:
            listing[instr.offset] = instr
            continue
        mine.role = mine.role or instr.role
        mine.switch_before = [m for m in MODELS if m in mine.switch_before or m in instr.switch_before]
        mine.switch_after = [m for m in MODELS if m in mine.switch_after or m in instr.switch_after]
    a.verdicts = verdicts
    a.instructions = [listing[o] for o in sorted(listing)]
    return a
