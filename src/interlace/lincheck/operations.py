"""The operations of a check, and the names reports show them by.

``operations`` is a list of callables taking the object, or a dict name -> callable.  A
function is named by its ``__name__``; a lambda by the source text of its body
(``lambda q: q.put_nowait(1)`` shows as ``q.put_nowait(1)``), found by parsing its file,
never by running it; anything else as ``op0``, ``op1``...  Names are unique: a repeated one
gets `` #2``, `` #3``.
"""

from __future__ import annotations

import ast
import linecache
import sys
import types
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence, Union

OperationsLike = Union[Sequence[Callable[[Any], Any]], Mapping[str, Callable[[Any], Any]]]


@dataclass(frozen=True)
class Operations:
    functions: tuple[Callable[[Any], Any], ...]
    names: tuple[str, ...]

    def index(self, name_or_index: Any, where: str) -> int:
        """The index of an operation named in a ``scenario=`` argument."""
        if isinstance(name_or_index, bool):
            raise TypeError(f"{where}: an operation is its name or its index, got a bool")
        if isinstance(name_or_index, int):
            if not 0 <= name_or_index < len(self.functions):
                raise ValueError(f"{where}: operation index {name_or_index} out of range "
                                 f"(there are {len(self.functions)} operations)")
            return name_or_index
        if isinstance(name_or_index, str):
            if name_or_index in self.names:
                return self.names.index(name_or_index)
            raise ValueError(f"{where}: no operation named {name_or_index!r} (the operations "
                             f"are {', '.join(repr(n) for n in self.names)})")
        raise TypeError(f"{where}: an operation is its name or its index, "
                        f"got {type(name_or_index).__name__}")


def parse_operations(operations: Any) -> Operations:
    """Check ``operations`` and name them; ``TypeError``/``ValueError`` say what is wrong."""
    if callable(operations) and not isinstance(operations, Mapping):
        raise TypeError("operations must be a list of callables (or a dict name -> callable), "
                        "got a single callable: pass [operation, ...]")
    if isinstance(operations, Mapping):
        names, functions = [], []
        for name, function in operations.items():
            if not isinstance(name, str) or not name.strip():
                raise TypeError(f"operations: each name must be a non-empty string, got {name!r}")
            names.append(name)
            functions.append(function)
    elif isinstance(operations, (set, frozenset)):
        raise TypeError("operations must be a list of callables, not a set (a set has no "
                        "order, and reports and replays name operations by position)")
    elif isinstance(operations, (str, bytes)) or not isinstance(operations, Sequence):
        raise TypeError("operations must be a list of callables or a dict name -> callable, "
                        f"got {type(operations).__name__}")
    else:
        functions = list(operations)
        names = []
    if not functions:
        raise ValueError("operations is empty: pass at least one operation")
    for i, function in enumerate(functions):
        if not callable(function):
            label = repr(names[i]) if names else str(i)
            raise TypeError(f"operations[{label}] must be callable, got {type(function).__name__}")
    if not names:
        names = [name_of(function, f"op{i}") for i, function in enumerate(functions)]
    return Operations(tuple(functions), tuple(_unique(names)))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return out


def name_of(function: Any, fallback: str) -> str:
    """``inc`` for ``def inc``; ``q.get_nowait()`` for ``lambda q: q.get_nowait()``."""
    name = getattr(function, "__name__", None)
    if isinstance(name, str) and name.isidentifier():
        return name
    if name == "<lambda>" and isinstance(function, types.FunctionType):
        try:
            text = _lambda_body_text(function.__code__)
        except Exception:  # noqa: BLE001 - unreadable source: the fallback name will do
            text = None
        if text:
            return text
    return fallback


def _lambda_body_text(code: types.CodeType) -> Optional[str]:
    source = "".join(linecache.getlines(code.co_filename))
    if not source:
        return None
    tree = _parse(code.co_filename, source)
    if tree is None:
        return None
    candidates = [node for node in ast.walk(tree)
                  if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno]
    node = _pick(candidates, code)
    if node is None:
        return None
    text = ast.get_source_segment(source, node.body)
    return " ".join(text.split()) if text else None


_trees: dict[tuple[str, int], Optional[ast.AST]] = {}


def _parse(filename: str, source: str) -> Optional[ast.AST]:
    key = (filename, hash(source))
    if key not in _trees:
        try:
            _trees[key] = ast.parse(source)
        except (SyntaxError, ValueError):
            _trees[key] = None
    return _trees[key]


def _pick(candidates: list[ast.Lambda], code: types.CodeType) -> Optional[ast.Lambda]:
    """The lambda among those on its first line whose body the code object was compiled from."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    if sys.version_info >= (3, 11):
        columns = [(line, col) for line, end_line, col, end_col in code.co_positions()
                   if None not in (line, end_line, col, end_col) and (end_line, end_col) > (line, col)]
        if columns:
            start = min(columns)
            for node in candidates:
                body = node.body
                if (body.lineno, body.col_offset) <= start <= (body.end_lineno, body.end_col_offset):
                    return node
        return None
    # 3.10 has no columns: the lambdas' constants and names tell them apart, if anything does.
    def signature(c: types.CodeType) -> tuple:
        return (tuple(repr(k) for k in c.co_consts if not isinstance(k, types.CodeType)),
                tuple(n for n in c.co_names))
    matching = []
    for node in candidates:
        try:
            compiled = compile(ast.Expression(node), code.co_filename, "eval")
        except (SyntaxError, ValueError, TypeError):
            continue
        inner = next((k for k in compiled.co_consts if isinstance(k, types.CodeType)), None)
        if inner is not None and signature(inner)[0] == signature(code)[0] \
                and set(code.co_names) <= set(inner.co_names):
            matching.append(node)
    return matching[0] if len(matching) == 1 else None
