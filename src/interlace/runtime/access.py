"""Turning a planned :class:`~interlace.bytecode.plan.PlanEntry` into the locations it touches.

Runs only when an execution is recorded (the final replay of a failure, systematic search).
It re-evaluates the step's symbolic operands against the live frame to name *which* object,
key or cell is touched, and it must do so without running a line of the program's code:

- objects are inspected through their exact type and the type's own ``__dict__`` entries
  (``type.__dict__["__mro__"]`` and friends), never with ``getattr``, ``isinstance``,
  ``vars``, ``hash``, ``==`` or ``repr`` on a program object: each of those can run a
  ``__getattr__``, ``__class__`` property, ``__hash__``, ``__eq__`` or ``__repr__``, and would
  then load a lazy module, expire a cache entry or raise an exception inside the hook;
- dict keys and shown values are used only when they are builtin immutable values recognized
  by exact type (:func:`plain`), whose hashing and comparison are the interpreter's own.

Every operation is modelled precisely or as a whole-object read or write (more conflicts,
never fewer); an operation on an object that cannot be named is reported as *unmodelled*
(an :class:`Access` without a location), and a systematic search that met one does not claim
"verified".  docs/dpor.md lists the model.
"""

from __future__ import annotations

import collections
import sys
import types
import weakref
from _thread import _local as _thread_local
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Optional

from ..bytecode.plan import PlanEntry
from ..bytecode.symbolic import (FRESH, UNKNOWN, Attr, Call, Cell, Concat, Const, Global, Item, Local,
                                 MethodRef)
from ..hooks.scope import PACKAGE_DIR
from .recorder import CELL, OBJECT, WHOLE, Location

if TYPE_CHECKING:
    from .recorder import Recorder

MISSING: Any = object()

_type_dict = type.__dict__["__dict__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_name = type.__dict__["__name__"].__get__
_DICT_DESCRIPTORS = (types.GetSetDescriptorType, types.MemberDescriptorType)
_PLAIN_SCALARS = frozenset({int, float, complex, str, bytes, bool, type(None)})
_PACKAGE_PREFIX = PACKAGE_DIR + "/"


# -- reading program state without running program code ----------------------------------------

def plain(value: Any, depth: int = 0) -> bool:
    """A builtin immutable value, recognized by exact type (its hash and ``==`` are C's)."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    return kind is tuple and depth < 2 and len(value) <= 8 and all(plain(v, depth + 1) for v in value)


def class_lookup(cls: type, name: str) -> Any:
    """``name`` as found along ``cls``'s MRO, without descriptors or metaclass hooks."""
    for klass in _type_mro(cls):
        found = _type_dict(klass).get(name, MISSING)
        if found is not MISSING:
            return found
    return MISSING


def is_type(obj: Any) -> bool:
    return issubclass(type(obj), type)


def type_name(obj: Any) -> str:
    return _type_name(type(obj))


def instance_dict(obj: Any) -> Optional[dict]:
    """``obj``'s instance ``__dict__`` when it is the interpreter's own slot (else ``None``).

    The ``__dict__`` descriptor is taken from the type and used only if it is a C getset or
    member descriptor: a class that defines ``__dict__`` itself (a property) is not asked.
    """
    if is_type(obj):
        return None
    cls = type(obj)
    descriptor = class_lookup(cls, "__dict__")
    if type(descriptor) not in _DICT_DESCRIPTORS:
        return None
    try:
        found = descriptor.__get__(obj, cls)
    except Exception:  # noqa: BLE001 - a C slot that is not there
        return None
    return found if type(found) is dict else None


def _is_descriptor(value: Any) -> bool:
    return class_lookup(type(value), "__get__") is not MISSING


def attribute_value(obj: Any, name: str) -> Any:
    """``obj.name`` if it is plain data in an instance or class ``__dict__``, or a C slot
    (``obj.__dict__``, a function's ``__name__``): no Python code runs."""
    if is_type(obj):
        found = class_lookup(obj, name)
        return found if found is not MISSING and not _is_descriptor(found) else MISSING
    cls = type(obj)
    found = class_lookup(cls, name)
    if type(found) in _DICT_DESCRIPTORS:  # a data descriptor of C: it wins over the instance
        try:
            return found.__get__(obj, cls)
        except Exception:  # noqa: BLE001 - an empty slot
            return MISSING
    own = instance_dict(obj)
    if own is not None:
        value = own.get(name, MISSING)
        if value is not MISSING:
            return value
    return found if found is not MISSING and not _is_descriptor(found) else MISSING


def _read_local(frame: types.FrameType, name: str) -> Any:
    return frame.f_locals.get(name, MISSING)


def evaluate(expr: object, frame: types.FrameType) -> Any:
    """Value of a symbolic operand, or :data:`MISSING` if it cannot be read without running code."""
    if isinstance(expr, (Local, Cell)):
        return _read_local(frame, expr.name)
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Global):  # also ``LOAD_NAME``: a class body's namespace comes first
        value = MISSING
        if not frame.f_code.co_flags & 1:  # not CO_OPTIMIZED: f_locals is the namespace itself
            value = frame.f_locals.get(expr.name, MISSING)
        if value is MISSING:
            value = frame.f_globals.get(expr.name, MISSING)
        return frame.f_builtins.get(expr.name, MISSING) if value is MISSING else value
    if isinstance(expr, Attr):
        base = evaluate(expr.base, frame)
        return MISSING if base is MISSING else attribute_value(base, expr.name)
    if isinstance(expr, Item):
        base, key = evaluate(expr.base, frame), evaluate(expr.key, frame)
        if type(base) is dict and plain(key):
            return base.get(key, MISSING)
        if type(base) in (list, tuple) and type(key) is int and -len(base) <= key < len(base):
            return base[key]
    return MISSING


def release_locals(frame: types.FrameType) -> None:
    """Drop the ``f_locals`` snapshot reading a local made (CPython < 3.13), if nobody else has it.

    Before PEP 667, ``frame.f_locals`` copies the fast locals into a dict the frame keeps; that
    copy would keep a deleted or rebound local's object alive until the next copy (a
    ``WeakSet`` member would not die at ``del``).  Safe to clear only when no trace trampoline
    copies it back (``sys.settrace`` with a Python function does, clearing locals missing from
    it) and no one else holds it (``locals()`` returns the same dict).
    """
    if sys.version_info >= (3, 13) or not frame.f_code.co_flags & 1:  # CO_OPTIMIZED
        return
    tracer = sys.gettrace()
    if isinstance(tracer, (types.FunctionType, types.MethodType)):
        return
    snapshot = frame.f_locals
    if sys.getrefcount(snapshot) <= 3:  # the frame, ``snapshot``, getrefcount's argument
        snapshot.clear()


# -- what an operation touches --------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    """One recorded read or write; ``location`` ``None``: an operation that could not be modelled."""

    location: Optional[Location]
    #: Human-readable: ``counter``, ``Account#2.balance``, ``stack[3]``, ``len(items)``.
    label: str
    write: bool
    #: The value read, for builtin immutable values only (see :func:`plain`).
    value: Optional[str] = None


_READING_BUILTINS = (len, sorted, list, tuple, set, frozenset, dict, sum, min, max, any, all,
                     repr, str, print, iter, enumerate, zip, reversed, map, filter, bool, format,
                     hash, bytes, bytearray, ascii)
_READING_BUILTIN_IDS = frozenset(id(f) for f in _READING_BUILTINS)
_NEUTRAL_BUILTIN_IDS = frozenset(id(f) for f in (id, callable, abs, round, divmod, pow, chr, ord,
                                                  int, float, complex, range, object, super,
                                                  staticmethod, classmethod, property, issubclass))
_CLASS_READERS = frozenset(id(f) for f in (isinstance, type))

#: Container methods: reads of the whole, writes of the whole, and (dicts, sets) keyed ones
#: ``name: index of the key argument``.  Anything else called on a container writes all of it.
_LIST_READS = frozenset({"index", "count", "copy", "__len__", "__contains__", "__iter__",
                         "__reversed__", "__getitem__", "__eq__", "__ne__", "__lt__", "__le__",
                         "__gt__", "__ge__", "__add__", "__mul__", "__rmul__", "__repr__",
                         "__sizeof__", "__reduce_ex__"})
_DICT_READS = frozenset({"keys", "values", "items", "copy", "__len__", "__iter__",
                         "__reversed__", "__or__", "__eq__", "__ne__", "__repr__", "__sizeof__",
                         "fromkeys"})
_DICT_KEYED_READS = {"get": 0, "__getitem__": 0, "__contains__": 0}
_DICT_KEYED_WRITES = {"pop": 0, "setdefault": 0, "__setitem__": 0, "__delitem__": 0}
_SET_READS = frozenset({"copy", "union", "intersection", "difference", "symmetric_difference",
                        "issubset", "issuperset", "isdisjoint", "__len__", "__iter__", "__or__",
                        "__and__", "__sub__", "__xor__", "__eq__", "__ne__", "__le__", "__lt__",
                        "__ge__", "__gt__", "__repr__", "__sizeof__"})
_SET_KEYED_READS = {"__contains__": 0}
_SET_KEYED_WRITES = {"add": 0, "discard": 0, "remove": 0}
_DEQUE_READS = frozenset({"index", "count", "copy", "__len__", "__iter__", "__reversed__",
                          "__getitem__", "__contains__", "__repr__", "__eq__", "maxlen"})
_BYTEARRAY_READS = frozenset({"count", "find", "rfind", "index", "rindex", "startswith",
                              "endswith", "decode", "hex", "copy", "__len__", "__iter__",
                              "__getitem__", "__contains__", "__repr__", "__eq__", "split",
                              "strip", "upper", "lower", "join"})
_WEAK_CONTAINERS = (weakref.WeakSet, weakref.WeakValueDictionary, weakref.WeakKeyDictionary)


def _container_kind(obj: Any) -> Optional[str]:
    """``list``, ``dict``, ``set``, ``deque``, ``bytearray``, ``weak`` or ``None``, by the MRO
    (``OrderedDict``, ``defaultdict`` and ``Counter`` are dicts)."""
    cls = type(obj)
    for klass in _type_mro(cls):
        if klass is list:
            return "list"
        if klass is dict:
            return "dict"
        if klass is set or klass is frozenset:
            return "set"
        if klass is collections.deque:
            return "deque"
        if klass is bytearray:
            return "bytearray"
        if klass in _WEAK_CONTAINERS:
            return "weak"
    return None


def _frame_locals_type() -> Optional[type]:
    kind = type(sys._getframe().f_locals)  # a function's frame
    return None if kind is dict else kind


#: ``frame.f_locals`` of 3.13+ frames with fast locals (PEP 667), made anew at each read;
#: ``None`` before 3.13 (a dict).
_FRAME_LOCALS_PROXY = _frame_locals_type()


def resolve(step: PlanEntry, frame: types.FrameType, rec: "Recorder") -> list[Access]:
    """The accesses ``step`` is about to make (none for a call into recorded code)."""
    kind = step.kind
    if kind == "global":
        out = [_global(step, frame.f_globals, frame, rec)]
        if step.opname.endswith("_NAME") and not frame.f_code.co_flags & 1:
            namespace = frame.f_locals  # a class body's (a module's is its globals)
            # 3.13+: a comprehension inlined in module code makes f_locals a new proxy at
            # every read, whose mapping underneath is the module's globals: no namespace
            # of its own (numbering the proxy would give every access a new location)
            if namespace is not frame.f_globals and type(namespace) is not _FRAME_LOCALS_PROXY:
                if step.write:
                    return [_global(step, namespace, frame, rec)]
                out.insert(0, _global(step, namespace, frame, rec))
        return out
    if kind == "cell":
        # A frame does not expose its cell objects, and the function that defines the cell
        # is not the one that uses it (``main`` and ``main.<locals>.work``): name a cell by
        # file and variable, so that every use of it conflicts (conservative, never unsound).
        value = _read_local(frame, step.name) if not step.write and rec.values else MISSING
        return [Access(Location(CELL, frame.f_code.co_filename, step.name), step.name,
                       step.write, _show(value, rec))]
    if kind == "attr":
        base = step.operands[0]
        obj = evaluate(base, frame)
        if obj is MISSING:
            return _unnamed(base, f"attribute .{step.name}", frame)
        if issubclass(type(obj), _thread_local):
            return []  # each thread sees its own attributes: never shared
        return list(_attribute(obj, step.name, step.write, _label(base, obj, frame, rec), rec))
    if kind in ("item", "slice", "contains", "inplace", "iter"):
        return _item(step, frame, rec)
    if kind == "call":
        return list(_call(step, frame, rec))
    if kind == "contents":
        return _contents(step, frame, rec)
    return []


def _contents(step: PlanEntry, frame: types.FrameType, rec: "Recorder") -> list[Access]:
    """``if self.items:``, ``a, b = pair``, ``self.items == []``: a read of every builtin
    container among the operands (the loads before read only the attribute or variable).

    A value of the program's own class answers with its ``__bool__``/``__eq__``, Python code
    that is recorded as it runs; a value the recorder cannot read back (a property's result)
    is left to the code that produced it.
    """
    out = []
    for expr in step.operands:
        value = evaluate(expr, frame)
        shape = _container_kind(value) if value is not MISSING else None
        if shape is None or type(value) is frozenset:
            continue
        out.append(Access(Location(OBJECT, rec.objects.number(value), WHOLE),
                          _label(expr, value, frame, rec), shape == "weak"))
    return out


def _unnamed(expr: object, what: str, frame: types.FrameType) -> list[Access]:
    """An operation on an object the recorder cannot name: reported as unmodelled.

    Two results of calls are known without seeing them: ``super()`` stands for ``self``,
    whose attributes the method's code touches (and records) by name, and a class called on
    the spot (``queue.Queue().get()``, ``Thread(...).start()``) makes a fresh object no
    other thread can have seen yet."""
    if isinstance(expr, Call) and not isinstance(expr.func, MethodRef):
        func = evaluate(expr.func, frame)
        if func is super or (func is not MISSING and is_type(func)):
            return []
    return [Access(None, f"{what} of an object interlace could not name", True)]


#: Keys whose hash and equality are the interpreter's own (by exact type, not subclasses).
_PLAIN_KEYS = (str, int, float, bool, bytes, type(None))


def contains_seen(container: Any, key: Any) -> Optional[str]:
    """``"True"``/``"False"`` for ``key in container`` on a builtin dict or set with a builtin
    key; ``None`` when answering would run the program's ``__hash__``/``__eq__``."""
    if type(container) not in (dict, set, frozenset) or type(key) not in _PLAIN_KEYS:
        return None
    return "True" if key in container else "False"


def _global(step: PlanEntry, namespace: dict, frame: types.FrameType, rec: "Recorder") -> Access:
    value = namespace.get(step.name, MISSING) if not step.write and rec.values else MISSING
    # A module's globals are its attributes: the module and its dict share one number.
    return Access(Location(OBJECT, rec.objects.number(namespace), step.name), step.name,
                  step.write, _show(value, rec))


def _attribute(obj: Any, name: Any, write: bool, owner_label: str, rec: "Recorder") -> Iterator[Access]:
    """``obj.name`` read or written: a key of ``obj``'s instance dict (or of ``obj`` itself).

    Assigning ``__class__`` or ``__dict__`` writes every attribute at once.  A read that the
    instance dict does not answer also reads ``name`` in each class of the MRO up to the one
    that has it, so that assigning a class attribute conflicts with it.
    """
    if is_type(obj):
        number = rec.objects.number(obj)
        key = name if type(name) is str else WHOLE
        yield Access(Location(OBJECT, number, key), f"{owner_label}.{name}", write)
        return
    own = instance_dict(obj)
    number = rec.objects.owner(obj, own)
    if type(name) is not str:
        yield Access(Location(OBJECT, number, WHOLE), f"{owner_label}.<attribute>", write)
        return
    if write and name in ("__class__", "__dict__"):
        yield Access(Location(OBJECT, number, WHOLE), f"{owner_label}.{name}", True)
        return
    value = own.get(name, MISSING) if own is not None else MISSING
    yield Access(Location(OBJECT, number, name), f"{owner_label}.{name}", write,
                 _show(value, rec) if not write else None)
    if write or value is not MISSING:
        return
    for klass in _type_mro(type(obj)):
        if klass is object:
            break
        yield Access(Location(OBJECT, rec.objects.number(klass), name),
                     f"class {_type_name(klass)}.{name}", False)
        if name in _type_dict(klass):
            break


def _item(step: PlanEntry, frame: types.FrameType, rec: "Recorder") -> list[Access]:
    kind = step.kind
    base = step.operands[0]
    if kind == "iter" and isinstance(base, Call):
        return _iterate_call(base, frame, rec)
    if kind == "iter" and base is FRESH:
        return []  # ``for x in [a, b]``: a list built on the spot, seen by no other thread
    if kind == "iter" and isinstance(base, Concat):
        return _iterate_concat(base, frame, rec)
    container = evaluate(base, frame)
    if kind == "iter" and container is MISSING and base is UNKNOWN:
        # a comprehension's or generator expression's own code (3.10/3.11) iterates its
        # argument ``.0``, an iterator made in the calling frame
        container = _read_local(frame, ".0")
    if kind == "iter" and container is not MISSING and _container_kind(container) is None:
        return _iterate_iterator(container, base, frame, rec)
    if container is MISSING:
        return [] if kind == "inplace" else _unnamed(base, f"{step.opname}", frame)
    shape = _container_kind(container)
    if kind == "inplace" and shape is None:
        return []  # ``x += 1`` on a number: the load and store are the accesses
    number = rec.objects.number(container)
    owner = _label(base, container, frame, rec)
    write = step.write or shape == "weak"  # a weak container also changes when members die
    key: Any = WHOLE
    if kind in ("item", "contains") and shape in ("dict", "list", "set"):
        candidate = evaluate(step.operands[1], frame)
        if shape == "list":
            if kind == "item" and type(candidate) is int and candidate >= 0 \
                    and step.opname != "DELETE_SUBSCR":
                key = candidate
        elif plain(candidate):
            key = candidate
    if key is WHOLE:
        return [Access(Location(OBJECT, number, WHOLE), owner, write)]
    if kind == "contains":  # ``key in d``: what the check saw, when no program code runs
        seen = contains_seen(container, key) if rec.values else None
        return [Access(Location(OBJECT, number, key), f"{_show_key(key)} in {owner}", write, seen)]
    value = MISSING
    if kind == "item" and not write and rec.values:
        value = evaluate(Item(step.operands[0], step.operands[1]), frame)
    return [Access(Location(OBJECT, number, key), f"{owner}[{_show_key(key)}]", write, _show(value, rec))]


#: Iterators whose ``__reduce__`` names the sequence they walk (without copying it).
_SEQUENCE_ITERATORS = frozenset(type(iter(x)) for x in ([], (), reversed([]), bytearray()))
#: Iterators of dicts and sets: their ``__reduce__`` copies, and their container is hidden.
_HIDDEN_ITERATORS = frozenset(type(iter(x)) for x in (set(), {}, {}.values(), {}.items()))
_LOCAL_ITERATORS = frozenset({type(iter(range(1))), type(iter(range(1 << 70))),
                              types.GeneratorType})


def _iterate_iterator(it: Any, expr: object, frame: types.FrameType, rec: "Recorder") -> list[Access]:
    """A step of ``for x in it`` over an iterator: a read of the container it walks.

    A builtin iterator names its container in its own ``__reduce__`` (C code); a generator's
    code is recorded as it runs; anything else is taken as a write of the iterator (it
    advances)."""
    kind = type(it)
    if kind in _LOCAL_ITERATORS:
        return []
    if kind in _HIDDEN_ITERATORS:
        return [Access(None, "iteration over a dict or set iterator made elsewhere", False)]
    if kind in _SEQUENCE_ITERATORS:
        try:
            reduced = it.__reduce__()
        except Exception:  # noqa: BLE001
            reduced = None
        if type(reduced) is tuple and len(reduced) >= 2 and type(reduced[1]) is tuple and reduced[1]:
            walked = reduced[1][0]
            if _container_kind(walked) is not None:
                return [Access(Location(OBJECT, rec.objects.number(walked), WHOLE),
                               f"iterate {_label(None, walked, frame, rec)}", False)]
        return []  # exhausted
    if plain(it) or callable_code(it):
        return []
    return list(_whole(it, True, f"iterate {_label(expr, it, frame, rec)}", rec))


_CONCATENATED = (list, tuple)


def _iterate_concat(concat: Concat, frame: types.FrameType, rec: "Recorder") -> list[Access]:
    """``for t in threads + [extra]``: list or tuple ``+`` (C code) makes a fresh sequence.

    Iterating it reads nothing shared; the concatenation itself read each operand, so each
    shared operand is recorded as a read of the whole (conservative: the read is attributed to
    each step of the loop).  Operands of other types (a user ``__add__`` may return anything)
    stay unmodelled."""
    out: list[Access] = []
    for part in (concat.left, concat.right):
        if part is FRESH:
            continue
        if isinstance(part, Concat):  # ``a + b + c``
            inner = _iterate_concat(part, frame, rec)
            if any(access.location is None for access in inner):
                return inner
            out.extend(inner)
            continue
        value = evaluate(part, frame)
        if type(value) not in _CONCATENATED:
            return _unnamed(part, "FOR_ITER", frame)
        out.append(Access(Location(OBJECT, rec.objects.number(value), WHOLE),
                          f"iterate {_label(part, value, frame, rec)}", False))
    return out


def _iterate_call(call: Call, frame: types.FrameType, rec: "Recorder") -> list[Access]:
    """``for x in d.items()``: a dict view reads its dict at every step; other calls return
    a fresh iterable (a generator's code is recorded as it runs)."""
    func = call.func
    if isinstance(func, MethodRef):
        receiver = evaluate(func.base, frame)
        if receiver is not MISSING and _container_kind(receiver) is not None:
            number = rec.objects.number(receiver)
            return [Access(Location(OBJECT, number, WHOLE),
                           f"iterate {_label(func.base, receiver, frame, rec)}.{func.name}()", False)]
    return []


def _call(step: PlanEntry, frame: types.FrameType, rec: "Recorder") -> Iterator[Access]:
    callee = step.operands[0] if step.operands else None
    args = step.operands[1:]
    if isinstance(callee, MethodRef):
        calls = _method_of(callee.base, callee.name, args, frame, rec)
        yield from calls if calls is not None else \
            _unnamed(callee.base, f"call of .{callee.name}()", frame)
        return
    func = evaluate(callee, frame) if callee is not None else MISSING
    if func is MISSING and isinstance(callee, Attr):
        # ``d.popitem(last=False)`` on 3.10 (``LOAD_ATTR`` + ``CALL_FUNCTION_KW``, no method
        # load): the attribute is a method the class defines, which reading back would have
        # to bind; the call is that method's call on the receiver, as a ``MethodRef`` is
        calls = _method_of(callee.base, callee.name, args, frame, rec)
        if calls is not None:
            yield from calls
            return
    if func is MISSING:
        # An unknown callee (``f()(x)``, ``f(*args)``): its code is recorded if it is the
        # program's; a container handed to it may be changed by library code.
        yield from _handed_over(args, frame, rec, containers_only=True)
        return
    yield from _call_value(func, args, frame, rec)


def _method_of(base: object, name: str, args: tuple, frame: types.FrameType,
               rec: "Recorder") -> Optional[Iterator[Access]]:
    """The accesses of ``base.name(*args)``, or ``None`` if ``base`` cannot be read back."""
    receiver = evaluate(base, frame)
    if receiver is MISSING:
        return None
    return _method(receiver, name, args, _label(base, receiver, frame, rec), frame, rec)


def _call_value(func: Any, args: tuple, frame: types.FrameType, rec: "Recorder") -> Iterator[Access]:
    """A call of the callable ``func`` (already evaluated) with argument expressions ``args``."""
    kind = type(func)
    if kind is types.BuiltinFunctionType or kind is types.MethodWrapperType:
        owner = func.__self__
        if owner is None or type(owner) is types.ModuleType or issubclass(type(owner), types.ModuleType):
            yield from _builtin(func, args, frame, rec)
        else:  # a bound C method kept in a variable: ``discard = self.data.discard``
            yield from _method(owner, func.__name__, args, _label(None, owner, frame, rec), frame, rec)
        return
    if kind in (types.MethodDescriptorType, types.WrapperDescriptorType):  # ``list.append(l, x)``
        if args:
            receiver = evaluate(args[0], frame)
            if receiver is not MISSING:
                yield from _method(receiver, func.__name__, args[1:],
                                   _label(args[0], receiver, frame, rec), frame, rec)
                return
        yield from _handed_over(args, frame, rec)
        return
    if kind is types.FunctionType:
        if not _library_code(func.__code__, rec):
            return
        yield from _handed_over(args, frame, rec)
        return
    if kind is types.MethodType:
        inner = func.__func__
        if type(inner) is types.FunctionType and not _library_code(inner.__code__, rec):
            return
        yield from _whole(func.__self__, True, f"{type_name(func.__self__)}.{getattr(inner, '__name__', '?')}()", rec)
        yield from _handed_over(args, frame, rec)
        return
    if is_type(func):
        yield from _construct(func, args, frame, rec)
        return
    call = class_lookup(kind, "__call__")  # a callable object
    if type(call) is types.FunctionType and not _library_code(call.__code__, rec):
        return
    yield from _handed_over(args, frame, rec)


def _construct(cls: type, args: tuple, frame: types.FrameType, rec: "Recorder") -> Iterator[Access]:
    if id(cls) in _CLASS_READERS and len(args) == 1:  # ``type(obj)``
        yield from _class_read(args[0], frame, rec)
        return
    if id(cls) in _READING_BUILTIN_IDS:  # ``list(x)``, ``dict(x)``, ``sorted(x)``...
        yield from _handed_over(args, frame, rec, write=False)
        return
    if id(cls) in _NEUTRAL_BUILTIN_IDS:
        return
    init = class_lookup(cls, "__init__")
    if type(init) is types.FunctionType and not _library_code(init.__code__, rec):
        return
    yield from _handed_over(args, frame, rec)


def _builtin(func: Any, args: tuple, frame: types.FrameType, rec: "Recorder") -> Iterator[Access]:
    """A builtin function: the attribute builtins precisely, readers as reads, others as writes."""
    name = func.__name__
    if func is getattr or func is hasattr or func is setattr or func is delattr:
        if len(args) < 2:
            return
        target = evaluate(args[0], frame)
        if target is MISSING:
            yield from _unnamed(args[0], f"{name}()", frame)
            return
        attr = evaluate(args[1], frame)
        write = func is setattr or func is delattr
        label = _label(args[0], target, frame, rec)
        yield from _attribute(target, attr if type(attr) is str else None, write, label, rec)
        return
    if func is vars:
        if args:
            target = evaluate(args[0], frame)
            if target is not MISSING and not is_type(target):
                rec.objects.owner(target, instance_dict(target))  # the dict joins its owner
        return
    if id(func) in _CLASS_READERS:
        if args:
            yield from _class_read(args[0], frame, rec)
        return
    if id(func) in _NEUTRAL_BUILTIN_IDS:
        return
    if func is next:
        yield from _handed_over(args[:1], frame, rec)
        return
    yield from _handed_over(args, frame, rec, write=id(func) not in _READING_BUILTIN_IDS)


def _class_read(expr: object, frame: types.FrameType, rec: "Recorder") -> Iterator[Access]:
    obj = evaluate(expr, frame)
    if obj is MISSING or plain(obj) or is_type(obj):
        return
    number = rec.objects.owner(obj, instance_dict(obj))
    yield Access(Location(OBJECT, number, "__class__"), f"{_label(expr, obj, frame, rec)}.__class__", False)


def _method(receiver: Any, name: str, args: tuple, owner: str, frame: types.FrameType,
            rec: "Recorder") -> Iterator[Access]:
    """``receiver.name(*args)``."""
    if type(receiver) is types.ModuleType or issubclass(type(receiver), types.ModuleType):
        own = instance_dict(receiver)
        func = own.get(name, MISSING) if own is not None else MISSING
        if func is not MISSING:
            yield from _call_value(func, args, frame, rec)
        return
    shape = _container_kind(receiver)
    if shape is not None:
        yield from _container_method(receiver, shape, name, args, owner, frame, rec)
        return
    if plain(receiver):
        return  # ``", ".join(parts)``: a method of an immutable value; its arguments are read
    if is_type(receiver):
        found = class_lookup(receiver, name)
        if type(found) in (staticmethod, classmethod):
            found = found.__func__
    else:
        own = instance_dict(receiver)
        found = own.get(name, MISSING) if own is not None else MISSING
        if found is not MISSING:  # a callable kept in an attribute: ``self.callback(x)``
            yield from _call_value(found, args, frame, rec)
            return
        found = class_lookup(type(receiver), name)
    if type(found) is types.FunctionType and not _library_code(found.__code__, rec):
        return  # the program's own code (recorded as it runs) or interlace's primitives
    yield from _whole(receiver, True, f"{owner}.{name}()", rec)
    yield from _handed_over(args, frame, rec)


def _container_method(receiver: Any, shape: str, name: str, args: tuple, owner: str,
                      frame: types.FrameType, rec: "Recorder") -> Iterator[Access]:
    found = class_lookup(type(receiver), name)
    if type(found) is types.FunctionType and not _library_code(found.__code__, rec):
        return  # a program's subclass overriding the method: its code is recorded
    number = rec.objects.number(receiver)
    label = f"{owner}.{name}()"
    keyed: Optional[int] = None
    write = True
    if shape in ("dict", "set"):
        reads_keyed = _DICT_KEYED_READS if shape == "dict" else _SET_KEYED_READS
        writes_keyed = _DICT_KEYED_WRITES if shape == "dict" else _SET_KEYED_WRITES
        if name in reads_keyed:
            keyed, write = reads_keyed[name], False
        elif name in writes_keyed:
            keyed = writes_keyed[name]
        else:
            write = name not in (_DICT_READS if shape == "dict" else _SET_READS)
    elif shape == "list":
        write = name not in _LIST_READS
    elif shape == "deque":
        write = name not in _DEQUE_READS
    elif shape == "bytearray":
        write = name not in _BYTEARRAY_READS
    if keyed is not None and len(args) > keyed:
        key = evaluate(args[keyed], frame)
        if plain(key):
            yield Access(Location(OBJECT, number, key), f"{owner}.{name}({_show_key(key)})", write)
            yield from _handed_over(args[:keyed] + args[keyed + 1:], frame, rec, write=False)
            return
    yield Access(Location(OBJECT, number, WHOLE), label, write or shape == "weak")
    # what is put into a container is not touched; what is read from (``extend(other)``) is
    yield from _handed_over(args, frame, rec, write=False)


def _handed_over(args: tuple, frame: types.FrameType, rec: "Recorder", write: bool = True,
                 containers_only: bool = False) -> Iterator[Access]:
    """Objects passed to code interlace does not record (C, the stdlib, site-packages):
    modelled as a read or a write of each whole object (one level deep)."""
    for expr in args:
        obj = evaluate(expr, frame)
        if obj is MISSING or plain(obj) or is_type(obj) or callable_code(obj):
            continue
        if containers_only and _container_kind(obj) is None:
            continue
        yield from _whole(obj, write, _label(expr, obj, frame, rec), rec)


def callable_code(obj: Any) -> bool:
    """Functions, methods and modules: passing one on touches no program state."""
    kind = type(obj)
    return kind in (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                    types.ModuleType, types.MethodWrapperType, types.MethodDescriptorType,
                    types.WrapperDescriptorType)


def _whole(obj: Any, write: bool, label: str, rec: "Recorder") -> Iterator[Access]:
    if plain(obj) or callable_code(obj):
        return
    number = rec.objects.owner(obj, instance_dict(obj)) if not is_type(obj) else rec.objects.number(obj)
    yield Access(Location(OBJECT, number, WHOLE), label, write)


def _library_code(code: types.CodeType, rec: "Recorder") -> bool:
    """Is this Python code outside the program (and not interlace's own primitives)?"""
    if code.co_filename.startswith(_PACKAGE_PREFIX):
        return False
    return not rec.in_scope(code)


# -- labels and values ---------------------------------------------------------------------------

def _label(expr: object, obj: Any, frame: types.FrameType, rec: "Recorder") -> str:
    """A name people can read: the variable or attribute path, made unique per object."""
    hint = None
    if isinstance(expr, Global):
        hint = expr.name
    elif isinstance(expr, Local) and expr.name != "self":
        hint = expr.name
    elif isinstance(expr, Attr):
        hint = _expr_text(expr)
    return rec.namer.name(rec.objects.number(obj), hint or type_name(obj))


def _expr_text(expr: object) -> str:
    if isinstance(expr, (Local, Global, Cell)):
        return expr.name
    if isinstance(expr, Attr):
        return f"{_expr_text(expr.base)}.{expr.name}"
    return "?"


def _show(value: Any, rec: "Recorder", limit: int = 40) -> Optional[str]:
    """The value read, for people: builtin immutable values only, anything else by type."""
    if value is MISSING or not rec.values:
        return None
    if plain(value):
        text = repr(value)  # the interpreter's own repr of a builtin value
        return text if len(text) <= limit else text[: limit - 3] + "..."
    return f"<{type_name(value)} #{rec.objects.number(value)}>"


def _show_key(key: Any) -> str:
    text = repr(key)  # keys are plain values
    return text if len(text) <= 40 else text[:37] + "..."


class Namer:
    """Stable names for objects within one execution: ``Account``, then ``Account#2``.

    Keyed by object number (see ``ObjectTable``): no reference to the object is kept."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}
        self._counts: dict[str, int] = {}

    def name(self, number: int, base: str) -> str:
        found = self._names.get(number)
        if found is None:
            n = self._counts.get(base, 0) + 1
            self._counts[base] = n
            found = self._names[number] = base if n == 1 else f"{base}#{n}"
        return found


def callee_is_python(step: PlanEntry, frame: types.FrameType) -> bool:
    """Is the call at ``step`` going to run Python code (checked at its RESUME, not after)?"""
    callee = step.operands[0] if step.operands else None
    if isinstance(callee, MethodRef):
        receiver = evaluate(callee.base, frame)
        if receiver is MISSING:
            return False
        if is_type(receiver):
            attr = class_lookup(receiver, callee.name)
        else:
            own = instance_dict(receiver)
            attr = own.get(callee.name, MISSING) if own is not None else MISSING
            if attr is MISSING:
                attr = class_lookup(type(receiver), callee.name)
        return type(attr) in (types.FunctionType, types.MethodType)
    func = evaluate(callee, frame) if callee is not None and not isinstance(callee, Call) else MISSING
    if is_type(func):
        return type(class_lookup(func, "__init__")) is types.FunctionType
    return type(func) in (types.FunctionType, types.MethodType)


__all__ = ["Access", "MISSING", "Namer", "evaluate", "resolve", "plain", "callee_is_python",
           "instance_dict", "class_lookup", "release_locals"]
