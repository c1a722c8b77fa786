"""A Python callable as the program of a search (the Python API and the pytest plugin).

A script is executed as ``__main__``; a target is a function the forked child calls as its
main thread's body.  It is never pickled: the child inherits it, with everything it closes
over (fixtures, shared state), through fork.

Replay tokens name the program they were recorded for by a hash.  For a script that is the
hash of its source; for a target it is :func:`code_hash` of the code objects involved, so a
token recorded for another test, or before the test's code changed, is caught before its
steps are followed into a different program.
"""

from __future__ import annotations

import functools
import hashlib
import types
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional


@dataclass(frozen=True)
class Target:
    #: Runs one execution's program in the child's main thread.
    run: Callable[[], None]
    #: :func:`code_hash` of the code it runs: the ``HASH`` part of its replay tokens.
    code_hash: str
    #: Names the program in messages, e.g. ``tests/test_bank.py::test_transfer``.
    label: str
    #: Turns a replay token into the exact call or command that replays it.
    replay_hint: Callable[[str], str]


def code_hash(callables: Iterable[Callable[..., Any]], extra: Iterable[str] = ()) -> str:
    """8 hex digits identifying the code of ``callables`` (and ``extra``, e.g. a thread count).

    Covers each callable's qualified name and its bytecode, names and constants, nested
    functions included, but not the functions it calls: a token survives edits elsewhere, as a
    script's token survives edits to the modules it imports.
    """
    digest = hashlib.sha256()
    for item in extra:
        digest.update(item.encode() + b"\0")
    for function in callables:
        digest.update(_name_of(function).encode() + b"\0")
        code = code_of(function)
        if code is not None:
            _feed_code(digest, code)
    return digest.hexdigest()[:8]


def code_of(function: Any) -> Optional[types.CodeType]:
    """The code object that calling ``function`` runs first (through decorators, partials...)."""
    function = _unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None:  # an object with __call__
        code = getattr(getattr(type(function), "__call__", None), "__code__", None)
    return code


def _unwrap(function: Any) -> Any:
    for _ in range(100):  # a guard against wrappers that point at themselves
        if isinstance(function, functools.partial):
            function = function.func
        elif hasattr(function, "__wrapped__"):
            function = function.__wrapped__
        elif hasattr(function, "__func__"):  # a bound method
            function = function.__func__
        else:
            break
    return function


def _name_of(function: Any) -> str:
    function = _unwrap(function)
    return getattr(function, "__qualname__", None) or type(function).__qualname__


def _feed_code(digest: Any, code: types.CodeType) -> None:
    digest.update(code.co_name.encode() + b"\0" + code.co_code)
    digest.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(digest, const)
        elif isinstance(const, frozenset):  # iteration order depends on PYTHONHASHSEED
            digest.update(repr(sorted(repr(item) for item in const)).encode())
        else:
            digest.update(repr(const).encode())
