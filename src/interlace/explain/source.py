"""What ``explain`` knows about a file without running it: its code objects and a few AST facts.

The file is compiled with :func:`compile` and parsed with :mod:`ast`; nothing in it is imported
or executed.  From the AST come three facts the bytecode cannot give cheaply:

* which functions threads can run (``Thread(target=...)``, ``executor.submit/map``, ``Timer``,
  ``Thread`` subclasses' ``run``, and what those call);
* which lines run with a lock held (``with lock:`` blocks, ``lock.acquire() ... release()``);
* which globals and attributes only ever hold mutable containers (so ``l += [x]`` extends the
  same list instead of rebinding it).
"""

from __future__ import annotations

import ast
import inspect
import sys
import types
from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from .._args import read_source, syntax_error_text

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]

#: Call names whose keyword ``target=`` (or second positional argument for ``Timer``) runs in a
#: new thread.
_THREAD_CLASSES = frozenset({"Thread", "Timer"})
#: ``pool.submit(fn, ...)``, ``pool.map(fn, ...)`` and friends: the first argument runs in a
#: worker thread.
_POOL_METHODS = frozenset({"submit", "map", "starmap", "apply_async", "map_async", "imap",
                           "imap_unordered", "start_new_thread", "start_new"})
#: Constructors whose result is a lock (``with X:`` then holds it).
_LOCK_TYPES = frozenset({"Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore",
                         "allocate_lock"})
_LOCK_WORDS = ("lock", "mutex", "cond", "sem")
#: Constructors of containers that ``+=``/``|=`` extend in place.
_MUTABLE_CALLS = frozenset({"list", "dict", "set", "bytearray", "deque", "defaultdict",
                            "OrderedDict", "Counter"})
_COMPREHENSION_NAMES = ("<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>", "<lambda>")


class SourceError(Exception):
    """The file cannot be analysed (missing, unreadable, syntax error): a one-line message."""


@dataclass
class Function:
    """One function's code object and where it comes from."""

    qualname: str
    code: types.CodeType


@dataclass
class SourceFacts:
    path: str
    lines: list[str]
    functions: list[Function]
    #: Qualnames (AST view) of functions threads can run; empty if the file starts none.
    reachable: set[str]
    #: Human descriptions of the thread entry points found, e.g. ``Thread(target=worker)``.
    entries: list[str]
    #: qualname -> line ranges (inclusive) run with a lock held, per function.
    locked: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    #: Global names / attribute names that only ever hold mutable containers.
    mutable_globals: set[str] = field(default_factory=set)
    mutable_attrs: set[str] = field(default_factory=set)

    def source_line(self, line: int) -> str:
        return self.lines[line - 1].rstrip() if 0 < line <= len(self.lines) else ""


def load(path: str) -> SourceFacts:
    try:
        data = read_source(path)
    except FileNotFoundError:
        raise SourceError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise SourceError(f"{path} is a directory: give a Python file") from None
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    try:
        module_code = compile(data, path, "exec", dont_inherit=True)
        tree = ast.parse(data, path)
    except SyntaxError as exc:
        raise SourceError(syntax_error_text(path, exc)) from None
    except ValueError as exc:  # e.g. null bytes (3.11: a SyntaxError without a line)
        raise SourceError(f"cannot compile {path}: {exc}") from None
    text = data.decode("utf-8", errors="replace")
    scopes = _Scopes(tree)
    entries, entry_names = _thread_entries(tree, scopes)
    facts = SourceFacts(path=path, lines=text.splitlines(), functions=list(_functions(module_code)),
                        reachable=_reachable(scopes, entry_names), entries=entries)
    facts.locked = _locked_lines(tree, scopes)
    facts.mutable_globals, facts.mutable_attrs = _mutable_names(tree)
    return facts


# -- code objects --------------------------------------------------------------------------------

def _functions(module_code: types.CodeType) -> Iterator[Function]:
    """Every function code object (not module or class bodies), with its qualified name."""
    for code, qualname in _walk(module_code, ""):
        if code.co_flags & inspect.CO_OPTIMIZED:
            yield Function(qualname, code)


def _walk(code: types.CodeType, qualname: str) -> Iterator[tuple[types.CodeType, str]]:
    names = _child_qualnames(code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            child = getattr(const, "co_qualname", None) or names.get(id(const)) or const.co_name
            yield const, child
            yield from _walk(const, child)


def _child_qualnames(code: types.CodeType) -> dict[int, str]:
    """3.10 has no ``co_qualname``: read it where the parent builds the function or class."""
    if sys.version_info >= (3, 11):
        return {}
    import dis
    names: dict[int, str] = {}
    previous = None
    for instr in dis.get_instructions(code):
        if instr.opname == "LOAD_CONST" and isinstance(previous, types.CodeType) \
                and isinstance(instr.argval, str):
            names[id(previous)] = instr.argval  # MAKE_FUNCTION takes (code, qualname)
        previous = instr.argval if instr.opname == "LOAD_CONST" else None
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and not const.co_flags & inspect.CO_OPTIMIZED:
            qual = _class_qualname(const)
            if qual:
                names[id(const)] = qual
    return names


def _class_qualname(code: types.CodeType) -> Optional[str]:
    import dis
    previous = None
    for instr in dis.get_instructions(code):
        if instr.opname == "STORE_NAME" and instr.argval == "__qualname__":
            return previous if isinstance(previous, str) else None
        previous = instr.argval if instr.opname == "LOAD_CONST" else None
    return None


# -- scopes and qualified names in the AST -------------------------------------------------------

class _Scopes:
    """Qualified names of every function and class node, as the compiler assigns them."""

    def __init__(self, tree: ast.Module) -> None:
        self.qualname: dict[ast.AST, str] = {}
        self.owner: dict[ast.AST, Optional[ast.AST]] = {}  # node -> enclosing function/class
        self.functions: list[FunctionNode] = []
        self.classes: list[ast.ClassDef] = []
        self._visit(tree, "", None)

    def _visit(self, node: ast.AST, prefix: str, owner: Optional[ast.AST]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                name = "<lambda>" if isinstance(child, ast.Lambda) else child.name
                qual = prefix + name
                self.qualname[child] = qual
                self.owner[child] = owner
                if isinstance(child, ast.ClassDef):
                    self.classes.append(child)
                    # decorators and bases are evaluated in the enclosing scope
                    for outer in (*child.decorator_list, *child.bases, *child.keywords):
                        self._visit_expr(outer, prefix, owner)
                    for stmt in child.body:
                        self._visit_stmt(stmt, qual + ".", child)
                else:
                    self.functions.append(child)
                    self._visit(child, qual + ".<locals>.", child)
            else:
                self._visit(child, prefix, owner)

    def _visit_stmt(self, stmt: ast.AST, prefix: str, owner: ast.AST) -> None:
        wrapper = ast.Module(body=[stmt], type_ignores=[])
        self._visit(wrapper, prefix, owner)

    def _visit_expr(self, expr: ast.AST, prefix: str, owner: Optional[ast.AST]) -> None:
        self._visit(ast.Expression(body=expr), prefix, owner)

    def function_of(self, node: ast.AST, tree_parents: dict[ast.AST, ast.AST]) -> Optional[ast.AST]:
        while node in tree_parents:
            node = tree_parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return node
        return None

    def named(self, name: str, methods: bool) -> list[ast.AST]:
        """Functions (or classes) called ``name``: methods only if ``methods``."""
        found: list[ast.AST] = []
        for node in (*self.functions, *self.classes):
            if isinstance(node, ast.Lambda) or node.name != name:
                continue
            is_method = isinstance(self.owner.get(node), ast.ClassDef)
            if is_method == methods:
                found.append(node)
        return found


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _call_name(func: ast.expr) -> Optional[str]:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


# -- threads: entry points and reachability ------------------------------------------------------

def _thread_entries(tree: ast.Module, scopes: _Scopes) -> tuple[list[str], list[ast.AST]]:
    """The callables handed to threads, as AST nodes (functions, lambdas, classes)."""
    described: list[tuple[int, str]] = []
    targets: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(_call_name(b) == "Thread" for b in node.bases):
            for run in (s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))):
                if run.name == "run":
                    described.append((run.lineno, f"{node.name}.run (a Thread subclass)"))
                    targets.append(run)
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        target: Optional[ast.expr] = None
        if name in _THREAD_CLASSES:
            target = next((k.value for k in node.keywords if k.arg in ("target", "function")), None)
            if target is None and name == "Timer" and len(node.args) >= 2:
                target = node.args[1]
        elif name in _POOL_METHODS and isinstance(node.func, (ast.Attribute, ast.Name)) and node.args:
            if isinstance(node.func, ast.Attribute) or name in ("start_new_thread", "start_new"):
                target = node.args[0]
        if target is None:
            continue
        described.append((node.lineno, f"{ast.unparse(node.func)}({_describe_target(name, target)}) "
                                        f"at line {node.lineno}"))
        targets.extend(_resolve(target, scopes))
    return [text for _, text in sorted(described)], targets


def _describe_target(name: Optional[str], target: ast.expr) -> str:
    text = ast.unparse(target)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"target={text}" if name in _THREAD_CLASSES else text


def _resolve(expr: ast.expr, scopes: _Scopes) -> list[ast.AST]:
    """The function nodes a callable expression can denote (an over-approximation)."""
    if isinstance(expr, ast.Lambda):
        return [expr]
    if isinstance(expr, ast.Name):
        return scopes.named(expr.id, methods=False)
    if isinstance(expr, ast.Attribute):
        return scopes.named(expr.attr, methods=True)
    if isinstance(expr, ast.Call) and _call_name(expr.func) == "partial" and expr.args:
        return _resolve(expr.args[0], scopes)
    return []


def _reachable(scopes: _Scopes, entries: list[ast.AST]) -> set[str]:
    """Qualnames of the entry functions and everything they may call or pass on."""
    seen: set[ast.AST] = set()
    todo = list(entries)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, ast.ClassDef):  # calling a class runs its __init__
            todo.extend(s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and s.name in ("__init__", "__post_init__", "__call__"))
            continue
        for inner in _own_nodes(node):
            if isinstance(inner, ast.Lambda):
                todo.append(inner)
            elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
                todo.extend(scopes.named(inner.id, methods=False))
            elif isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Load):
                todo.extend(scopes.named(inner.attr, methods=True))
    return {scopes.qualname[n] for n in seen if n in scopes.qualname}


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function's own body: nested defs and classes are separate (lambdas listed)."""
    body = function.body if isinstance(function.body, list) else [function.body]
    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(node))


# -- locks ---------------------------------------------------------------------------------------

def _locked_lines(tree: ast.Module, scopes: _Scopes) -> dict[str, list[tuple[int, int]]]:
    """Per function qualname: line ranges inside ``with lock:`` or ``acquire() ... release()``."""
    lock_names = _lock_names(tree)
    parents = _parents(tree)
    regions: dict[str, list[tuple[int, int]]] = {}

    def add(node: ast.AST, first: int, last: int) -> None:
        function = scopes.function_of(node, parents)
        if function is not None and first <= last:
            regions.setdefault(scopes.qualname[function], []).append((first, last))

    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)) and node.body:
            function = scopes.function_of(node, parents)
            private = _private_locks(function) if function is not None else set()
            held = [item.context_expr for item in node.items
                    if _is_lock(item.context_expr, lock_names)
                    and not (isinstance(item.context_expr, ast.Name)
                             and item.context_expr.id in private)]
            if held:
                # cond.wait() inside `with cond:` lets go of the lock: it splits the region
                first = node.body[0].lineno
                for line in sorted(_wait_lines(node, {ast.unparse(e) for e in held})):
                    add(node, first, line - 1)
                    first = line + 1
                add(node, first, _end(node.body[-1]))
        for body in _statement_lists(node):
            for i, stmt in enumerate(body):
                lock = _lock_call(stmt, "acquire", lock_names)
                if lock is None:
                    continue
                for later in body[i + 1:]:
                    if _lock_call(later, "release", lock_names) == lock:
                        add(stmt, stmt.lineno + 1, later.lineno - 1)
                        break
                    if isinstance(later, ast.Try) and any(
                            _lock_call(f, "release", lock_names) == lock for f in later.finalbody):
                        add(stmt, later.body[0].lineno, _end(later.body[-1]))
                        break
    return regions


def _private_locks(function: ast.AST) -> set[str]:
    """Locals the function assigns a new lock to: every call has its own, so it guards nothing."""
    declared = {n for node in _own_nodes(function) if isinstance(node, (ast.Global, ast.Nonlocal))
                for n in node.names}
    return {target.id for node in _own_nodes(function) if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call) and _call_name(node.value.func) in _LOCK_TYPES
            for target in node.targets if isinstance(target, ast.Name)} - declared


def _wait_lines(with_node: ast.AST, held: set[str]) -> set[int]:
    """Lines of ``X.wait(...)``/``X.wait_for(...)`` calls on a held ``X`` inside a ``with``."""
    return {node.lineno for node in ast.walk(with_node)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("wait", "wait_for") and ast.unparse(node.func.value) in held}


def _end(stmt: ast.stmt) -> int:
    return getattr(stmt, "end_lineno", None) or stmt.lineno


def _statement_lists(node: ast.AST) -> Iterator[list]:
    for name in ("body", "orelse", "finalbody"):
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value


def _lock_call(stmt: ast.stmt, method: str, lock_names: set[str]) -> Optional[str]:
    """``X.acquire()`` / ``X.release()`` as a statement: the text of ``X`` if it is a lock."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        if isinstance(func, ast.Attribute) and func.attr == method and _is_lock(func.value, lock_names):
            return ast.unparse(func.value)
    return None


def _lock_names(tree: ast.Module) -> set[str]:
    """Names and attribute names assigned a ``Lock()``/``RLock()``/... anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call) \
                and _call_name(node.value.func) in _LOCK_TYPES:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                name = _call_name(target)
                if name:
                    names.add(name)
    return names


def _is_lock(expr: ast.expr, lock_names: set[str]) -> bool:
    name = _call_name(expr)
    if isinstance(expr, ast.Call):  # with lock_for(key): a lock; with threading.Lock(): useless
        name = _call_name(expr.func)
        if name and name.rsplit(".", 1)[-1] in _LOCK_TYPES:
            return False  # a new lock each time: nobody else can hold it
        return bool(name) and any(w in name.lower() for w in _LOCK_WORDS)
    if not name:
        return False
    return name in lock_names or any(word in name.lower() for word in _LOCK_WORDS)


# -- container types -----------------------------------------------------------------------------

def _mutable_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Globals and attribute names whose every assignment in the file is a mutable container."""
    global_kinds: dict[str, set[bool]] = {}
    attr_kinds: dict[str, set[bool]] = {}
    parents = _parents(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        mutable = _is_mutable_value(value)
        for target in targets:
            if isinstance(target, ast.Attribute):
                attr_kinds.setdefault(target.attr, set()).add(mutable)
            elif isinstance(target, ast.Name) and _is_module_level(node, parents, target.id):
                global_kinds.setdefault(target.id, set()).add(mutable)
    return ({n for n, kinds in global_kinds.items() if kinds == {True}},
            {n for n, kinds in attr_kinds.items() if kinds == {True}})


def _is_mutable_value(value: ast.expr) -> bool:
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    return isinstance(value, ast.Call) and _call_name(value.func) in _MUTABLE_CALLS


def _is_module_level(node: ast.AST, parents: dict[ast.AST, ast.AST], name: str) -> bool:
    """An assignment to a global: at module level, or in a function that declares it global."""
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return any(isinstance(s, ast.Global) and name in s.names for s in ast.walk(node))
        if isinstance(node, ast.ClassDef):
            return False
    return True


def is_nested_helper(qualname: str, parent: str) -> bool:
    """Comprehensions, generator expressions and lambdas written inside ``parent``."""
    prefix = parent + ".<locals>."
    return qualname.startswith(prefix) and qualname[len(prefix):].startswith(_COMPREHENSION_NAMES)
