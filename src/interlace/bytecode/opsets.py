"""Opcode tables: which instructions touch shared state, and where each interpreter can switch.

The one home of every opcode table and of the running interpreter's version (:data:`PY`).
Names cover CPython 3.10-3.15; an opcode absent from the running interpreter is never seen.
Sources (see docs/switch-models.md for the derivation):

* 3.9 ``Python/ceval.c``: opcodes ending in ``FAST_DISPATCH()`` never check the eval breaker.
* 3.10 ``Python/ceval.c``: ``CHECK_EVAL_BREAKER()`` after calls and on taken jumps.
* 3.11 ``Python/ceval.c``, 3.12-3.15 ``Python/bytecodes.c``: ``CHECK_EVAL_BREAKER()`` /
  ``_CHECK_PERIODIC`` in ``RESUME``, ``JUMP_BACKWARD`` and the non-inlined ``CALL`` paths.
* 3.13-3.15 ``Include/internal/pycore_opcode_metadata.h`` (generated from ``bytecodes.c`` and
  installed with every interpreter's headers): ``HAS_EVAL_BREAK_FLAG`` per opcode and its
  specialisations; ``tests/test_opsets.py`` checks these tables against it.

Every opcode of 3.10-3.15 is in exactly one of: an access table, :data:`NOT_SHARED`, or the
control-flow tables.  Anything else is *unknown* (:func:`classify`): treated as a shared access
and a switch site, with one warning naming it, so that a new interpreter is never silently
unsound.
"""

from __future__ import annotations

import dis
import sys
import warnings
from typing import Optional

#: The running interpreter, computed once for every module of interlace.
PY: tuple[int, int] = (sys.version_info[0], sys.version_info[1])
#: The interpreters these tables were derived for and checked against.
OLDEST_KNOWN = (3, 10)
NEWEST_KNOWN = (3, 15)

# -- shared accesses ---------------------------------------------------------------------------

GLOBAL_READS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS"})
GLOBAL_WRITES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL", "STORE_NAME", "DELETE_NAME"})
CELL_READS = frozenset({"LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF"})
CELL_WRITES = frozenset({"STORE_DEREF", "DELETE_DEREF"})
ATTR_READS = frozenset({"LOAD_ATTR"})
ATTR_WRITES = frozenset({"STORE_ATTR", "DELETE_ATTR"})
#: Subscript reads up to 3.13; 3.14+ reads through ``BINARY_OP`` with the ``[]`` operator
#: (:func:`is_subscript_read`).
ITEM_READS = frozenset({"BINARY_SUBSCR"})
ITEM_WRITES = frozenset({"STORE_SUBSCR", "DELETE_SUBSCR"})
SLICE_READS = frozenset({"BINARY_SLICE"})
SLICE_WRITES = frozenset({"STORE_SLICE"})
CONTAINS = frozenset({"CONTAINS_OP"})
CALLS = frozenset({
    "CALL", "CALL_KW", "CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_METHOD", "CALL_FUNCTION_EX",
})
#: In-place operators: ``l += [1]`` mutates a list in place (a write of the list).  3.11+
#: spells them ``BINARY_OP`` with an ``=`` operator (:func:`is_inplace`).
INPLACE_OPS = frozenset({
    "INPLACE_ADD", "INPLACE_SUBTRACT", "INPLACE_MULTIPLY", "INPLACE_OR", "INPLACE_AND",
    "INPLACE_XOR", "INPLACE_TRUE_DIVIDE", "INPLACE_FLOOR_DIVIDE", "INPLACE_MODULO",
    "INPLACE_POWER", "INPLACE_LSHIFT", "INPLACE_RSHIFT", "INPLACE_MATRIX_MULTIPLY",
})
#: ``for x in shared``: the iterator reads the container.
ITERATION = frozenset({"FOR_ITER"})

ACCESSES = (GLOBAL_READS | GLOBAL_WRITES | CELL_READS | CELL_WRITES | ATTR_READS | ATTR_WRITES
            | ITEM_READS | ITEM_WRITES | SLICE_READS | SLICE_WRITES | CONTAINS | CALLS
            | INPLACE_OPS | ITERATION)

#: ``BINARY_OP``'s operator index for ``[]`` (``NB_SUBSCR``, 3.14+), or ``None`` before.
NB_SUBSCR: Optional[int] = next(
    (n for n, (name, _sign) in enumerate(getattr(dis, "_nb_ops", ())) if name == "NB_SUBSCR"), None)


def is_subscript_read(instr: dis.Instruction) -> bool:
    """``x[k]``: ``BINARY_SUBSCR`` up to 3.13, ``BINARY_OP []`` from 3.14."""
    if instr.opname in ITEM_READS:
        return True
    return instr.opname == "BINARY_OP" and NB_SUBSCR is not None and instr.arg == NB_SUBSCR


def is_inplace(instr: dis.Instruction) -> bool:
    """``x += y`` and friends (``INPLACE_*`` on 3.10, ``BINARY_OP`` with ``+=`` after)."""
    if instr.opname in INPLACE_OPS:
        return True
    return instr.opname == "BINARY_OP" and str(instr.argrepr).endswith("=") \
        and not is_subscript_read(instr)


#: Branches and negations that take the truth of the value on top of the stack (3.13+ spells
#: it ``TO_BOOL`` and the branch then tests an exact bool).
TRUTH_TESTS = frozenset({
    "TO_BOOL", "UNARY_NOT", "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE", "POP_JUMP_FORWARD_IF_FALSE",
    "POP_JUMP_FORWARD_IF_TRUE", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
    "JUMP_IF_FALSE_OR_POP", "JUMP_IF_TRUE_OR_POP",
})
#: Instructions that read the contents of the value on top of the stack: unpacking, ``[*x]``,
#: ``{**x}``, ``match`` on its length, formatting.
_TOP_CONTENT_READS = frozenset({
    "UNPACK_SEQUENCE", "UNPACK_EX", "LIST_EXTEND", "SET_UPDATE", "DICT_UPDATE", "DICT_MERGE",
    "GET_LEN", "FORMAT_SIMPLE", "CONVERT_VALUE",
})
#: 3.10's binary operators (3.11+ has one ``BINARY_OP``).
_BINARY_310 = frozenset({
    "BINARY_ADD", "BINARY_SUBTRACT", "BINARY_MULTIPLY", "BINARY_TRUE_DIVIDE",
    "BINARY_FLOOR_DIVIDE", "BINARY_MODULO", "BINARY_POWER", "BINARY_LSHIFT", "BINARY_RSHIFT",
    "BINARY_AND", "BINARY_OR", "BINARY_XOR", "BINARY_MATRIX_MULTIPLY",
})


def content_reads(instr: dis.Instruction) -> tuple[int, ...]:
    """Stack depths (1 = top) of the operands whose *contents* ``instr`` reads.

    ``if self.items:``, ``a, b = self.pair``, ``self.items == []``, ``self.a + self.b``: the
    load before the instruction read only the attribute or variable; the instruction itself
    reads the container behind it, which another thread may be changing.
    """
    op = instr.opname
    if op in TRUTH_TESTS or op in _TOP_CONTENT_READS:
        return (1,)
    if op == "FORMAT_WITH_SPEC" or (op == "FORMAT_VALUE" and (instr.arg or 0) & 0x04):
        return (2,)  # the format spec is on top
    if op == "FORMAT_VALUE":
        return (1,)
    if op == "COMPARE_OP" or op in _BINARY_310 or (
            op == "BINARY_OP" and not is_inplace(instr) and not is_subscript_read(instr)):
        return (2, 1)
    return ()


# -- container methods: what a call does to its receiver ---------------------------------------

#: Methods of built-in containers that only read their receiver, with the index of the
#: argument that is the key they read (``None``: the whole container).  One C call each.
READ_METHODS: dict[str, Optional[int]] = {
    "get": 0, "keys": None, "values": None, "items": None, "copy": None, "index": None,
    "count": None, "__contains__": 0, "__getitem__": 0, "__len__": None, "issubset": None,
    "issuperset": None, "isdisjoint": None, "union": None, "intersection": None,
    "difference": None, "qsize": None, "empty": None, "full": None,
}
#: Methods that change their receiver in one C call (atomic on their own), with the key
#: argument (``dict.pop(k)`` is keyed too: decided by the receiver's type at run time).
WRITE_METHODS: dict[str, Optional[int]] = {
    "append": None, "extend": None, "insert": None, "pop": None, "remove": None, "clear": None,
    "sort": None, "reverse": None, "popitem": None, "setdefault": 0, "update": None,
    "add": None, "discard": None, "appendleft": None, "popleft": None, "extendleft": None,
    "rotate": None, "__setitem__": 0, "__delitem__": 0, "difference_update": None,
    "intersection_update": None, "symmetric_difference_update": None,
}
#: Builtins that read the contents of their first argument.
READING_BUILTINS = frozenset({"len", "sum", "min", "max", "any", "all", "bool", "repr", "str",
                              "sorted", "list", "tuple", "set", "frozenset", "dict"})
#: Builtins that copy their argument's contents into a new container.
BUILDING_BUILTINS = frozenset({"list", "dict", "set", "tuple", "frozenset", "sorted", "bytearray"})


# -- instructions that touch only the frame: locals, constants, the value stack ----------------

#: Known opcodes that are never a shared access of their own.  Some act on objects (an
#: arithmetic ``BINARY_OP``, ``UNPACK_SEQUENCE``, ``GET_ITER``): the load that produced the
#: object is the access, so a switch before it already separates the threads.  ``import``
#: touches ``sys.modules``, which is library state (atomic by default, docs/design.md).
NOT_SHARED = frozenset({
    # locals and constants
    "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "LOAD_FAST_LOAD_FAST",
    "LOAD_FAST_BORROW", "LOAD_FAST_BORROW_LOAD_FAST_BORROW", "STORE_FAST", "STORE_FAST_LOAD_FAST",
    "STORE_FAST_STORE_FAST", "STORE_FAST_MAYBE_NULL", "DELETE_FAST", "LOAD_CONST",
    "LOAD_SMALL_INT", "LOAD_COMMON_CONSTANT", "LOAD_ASSERTION_ERROR", "LOAD_CLOSURE",
    "MAKE_CELL", "COPY_FREE_VARS", "LOAD_LOCALS", "RETURN_CONST", "RETURN_VALUE",
    "YIELD_VALUE", "RETURN_GENERATOR", "GEN_START",
    # the value stack
    "POP_TOP", "PUSH_NULL", "COPY", "SWAP", "ROT_TWO", "ROT_THREE", "ROT_FOUR", "ROT_N",
    "DUP_TOP", "DUP_TOP_TWO", "NOP", "CACHE", "EXTENDED_ARG", "RESUME", "PRECALL", "KW_NAMES",
    "NOT_TAKEN", "RESERVED", "INTERPRETER_EXIT", "ENTER_EXECUTOR", "TRACE_RECORD",
    # values computed from operands already on the stack
    "BINARY_OP", "BINARY_ADD", "BINARY_SUBTRACT", "BINARY_MULTIPLY", "BINARY_TRUE_DIVIDE",
    "BINARY_FLOOR_DIVIDE", "BINARY_MODULO", "BINARY_POWER", "BINARY_LSHIFT", "BINARY_RSHIFT",
    "BINARY_AND", "BINARY_OR", "BINARY_XOR", "BINARY_MATRIX_MULTIPLY", "UNARY_POSITIVE",
    "UNARY_NEGATIVE", "UNARY_NOT", "UNARY_INVERT", "COMPARE_OP", "IS_OP", "TO_BOOL",
    "FORMAT_VALUE", "FORMAT_SIMPLE", "FORMAT_WITH_SPEC", "CONVERT_VALUE", "BUILD_STRING",
    "BUILD_TEMPLATE", "BUILD_INTERPOLATION", "GET_LEN", "UNPACK_SEQUENCE", "UNPACK_EX",
    "GET_ITER", "GET_YIELD_FROM_ITER", "GET_AWAITABLE", "GET_AITER", "GET_ANEXT", "END_FOR",
    "POP_ITER", "END_SEND", "SEND", "END_ASYNC_FOR", "ASYNC_GEN_WRAP", "CLEANUP_THROW",
    "MATCH_CLASS", "MATCH_MAPPING", "MATCH_SEQUENCE", "MATCH_KEYS", "COPY_DICT_WITHOUT_KEYS",
    "CALL_INTRINSIC_1", "CALL_INTRINSIC_2", "PRINT_EXPR", "EXIT_INIT_CHECK", "YIELD_FROM",
    # containers built in this frame
    "BUILD_LIST", "BUILD_TUPLE", "BUILD_SET", "BUILD_MAP", "BUILD_CONST_KEY_MAP", "BUILD_SLICE",
    "LIST_APPEND", "LIST_EXTEND", "LIST_TO_TUPLE", "SET_ADD", "SET_UPDATE", "MAP_ADD",
    "DICT_UPDATE", "DICT_MERGE",
    # functions, classes, methods (the call is the access)
    "MAKE_FUNCTION", "SET_FUNCTION_ATTRIBUTE", "LOAD_BUILD_CLASS", "SETUP_ANNOTATIONS",
    "ANNOTATIONS_PLACEHOLDER", "LOAD_METHOD", "LOAD_SPECIAL", "LOAD_SUPER_ATTR",
    "LOAD_SUPER_METHOD", "LOAD_ZERO_SUPER_ATTR", "LOAD_ZERO_SUPER_METHOD",
    "IMPORT_NAME", "IMPORT_FROM", "IMPORT_STAR",
    # exceptions and with-blocks
    "PUSH_EXC_INFO", "POP_EXCEPT", "CHECK_EXC_MATCH", "CHECK_EG_MATCH", "JUMP_IF_NOT_EXC_MATCH",
    "WITH_EXCEPT_START", "BEFORE_WITH", "BEFORE_ASYNC_WITH", "SETUP_WITH", "SETUP_ASYNC_WITH",
    "SETUP_FINALLY", "SETUP_CLEANUP", "POP_BLOCK", "RAISE_VARARGS", "RERAISE",
    "PREP_RERAISE_STAR",
})

#: Jumps and branches (control flow only; the GIL model's back-edges are below).
JUMPS = frozenset({
    "JUMP", "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_ABSOLUTE", "JUMP_NO_INTERRUPT",
    "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_IF_FALSE", "JUMP_IF_TRUE", "JUMP_IF_FALSE_OR_POP",
    "JUMP_IF_TRUE_OR_POP", "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE", "POP_JUMP_IF_NONE",
    "POP_JUMP_IF_NOT_NONE", "POP_JUMP_FORWARD_IF_FALSE", "POP_JUMP_FORWARD_IF_TRUE",
    "POP_JUMP_FORWARD_IF_NONE", "POP_JUMP_FORWARD_IF_NOT_NONE", "POP_JUMP_BACKWARD_IF_FALSE",
    "POP_JUMP_BACKWARD_IF_TRUE", "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE",
})

#: Unconditional jumps: no fall-through.
UNCONDITIONAL_JUMPS = frozenset({
    "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_ABSOLUTE", "JUMP", "JUMP_NO_INTERRUPT",
    "JUMP_BACKWARD_NO_INTERRUPT",
})
#: Instructions after which the frame's flow does not continue to the next one.
NO_SUCCESSOR = frozenset({"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE"})

# -- CPython <= 3.9: instructions that never let the GIL go -----------------------------------

#: 3.9 ``FAST_DISPATCH`` opcodes, plus their modern equivalents (superinstructions of
#: ``LOAD_FAST``, ``COPY``/``SWAP`` for ``DUP_TOP``/``ROT_*``, and the bookkeeping opcodes that
#: have no 3.9 counterpart).  Conditional jumps count as fast: 3.9 skips the check when the
#: condition is an exact bool, which is what comparisons produce.
FAST_39 = frozenset({
    "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "LOAD_FAST_LOAD_FAST",
    "LOAD_FAST_BORROW", "LOAD_FAST_BORROW_LOAD_FAST_BORROW", "LOAD_SMALL_INT",
    "LOAD_COMMON_CONSTANT", "STORE_FAST", "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST",
    "LOAD_CONST", "POP_TOP", "POP_ITER", "ROT_TWO", "ROT_THREE", "ROT_FOUR", "ROT_N", "DUP_TOP",
    "DUP_TOP_TWO", "COPY", "SWAP", "PUSH_NULL", "IS_OP", "CONTAINS_OP", "JUMP_FORWARD", "NOP",
    "CACHE", "EXTENDED_ARG", "PRECALL", "KW_NAMES", "LOAD_ASSERTION_ERROR", "END_ASYNC_FOR",
    "TO_BOOL", "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE", "POP_JUMP_IF_NONE",
    "POP_JUMP_IF_NOT_NONE", "POP_JUMP_FORWARD_IF_FALSE", "POP_JUMP_FORWARD_IF_TRUE",
    "POP_JUMP_FORWARD_IF_NONE", "POP_JUMP_FORWARD_IF_NOT_NONE", "POP_JUMP_BACKWARD_IF_FALSE",
    "POP_JUMP_BACKWARD_IF_TRUE", "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE",
    "JUMP_IF_FALSE_OR_POP", "JUMP_IF_TRUE_OR_POP", "END_FOR", "COPY_FREE_VARS", "MAKE_CELL",
    "NOT_TAKEN", "JUMP_NO_INTERRUPT", "JUMP_BACKWARD_NO_INTERRUPT", "RETURN_GENERATOR",
})

# -- CPython 3.10-3.15: eval-breaker sites -------------------------------------------------------

#: Loop back-edges that check the eval breaker (the switch lands before the loop header,
#: equivalent to before the jump since a jump touches no shared state).
BACK_EDGES = frozenset({
    "JUMP_BACKWARD", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
    "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE",
})
#: 3.10 checks on ``JUMP_ABSOLUTE`` and taken ``POP_JUMP_IF_TRUE/FALSE`` in either direction;
#: never on ``JUMP_FORWARD`` or the ``and``/``or`` jumps (3.10 ``ceval.c``).
JUMPS_310 = frozenset({"JUMP_ABSOLUTE", "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE"})
#: 3.11+ opcodes whose family checks the eval breaker (``HAS_EVAL_BREAK_FLAG`` on the opcode
#: or on one of its specialisations; ``JUMP`` is the compiler's pseudo-op for ``JUMP_BACKWARD``).
#: The ``gil`` model has a site before ``RESUME`` and the back-edges, and after calls into C.
EVAL_BREAK_FAMILIES = frozenset({"RESUME", "JUMP_BACKWARD", "JUMP", "CALL", "CALL_KW",
                                 "CALL_FUNCTION_EX"})
#: Call specialisations that enter a Python frame: the check happens at its ``RESUME``.
#: (3.14+'s generic ``CALL_KW`` defers to its specialisations: ``CALL_KW_NON_PY`` checks.)
PYTHON_CALL_SPECIALISATIONS = frozenset({
    "CALL_PY_EXACT_ARGS", "CALL_PY_GENERAL", "CALL_BOUND_METHOD_EXACT_ARGS",
    "CALL_BOUND_METHOD_GENERAL", "CALL_ALLOC_AND_ENTER_INIT", "CALL_KW_PY",
    "CALL_KW_BOUND_METHOD", "CALL_EX_PY", "CALL_KW", "RESUME_CHECK", "RESUME_CHECK_JIT",
})
#: Specialised calls into C that never check the eval breaker, by the callee they stand for
#: (3.11 ``PRECALL_NO_KW_LEN`` and friends, 3.12-3.15 ``CALL_LEN``/``CALL_ISINSTANCE``/
#: ``CALL_LIST_APPEND``/``CALL_TYPE_1``).
NO_CHECK_SPECIALISATIONS = {"CALL_LEN": "len", "CALL_ISINSTANCE": "isinstance",
                            "CALL_TYPE_1": "type", "CALL_LIST_APPEND": "list.append"}
NO_CHECK_CALLEES = frozenset(NO_CHECK_SPECIALISATIONS.values())


# -- classification ------------------------------------------------------------------------------

def is_jump(opname: str) -> bool:
    return "JUMP" in opname or opname == "FOR_ITER" or opname == "SEND"


def is_known(opname: str) -> bool:
    """Is ``opname`` in interlace's tables (an access, frame-only, or control flow)?"""
    return (opname in ACCESSES or opname in NOT_SHARED or opname in JUMPS
            or opname.startswith("INSTRUMENTED_"))


_warned: set[str] = set()


def warn_unknown(opname: str) -> None:
    """One warning per unknown opcode and process: it is treated as a shared access."""
    if opname in _warned:
        return
    _warned.add(opname)
    warnings.warn(
        f"interlace: opcode {opname} of Python {PY[0]}.{PY[1]} is not in interlace's tables; "
        f"it is treated as a shared access and a switch site (results stay sound, traces "
        f"name it as an unknown access)", RuntimeWarning, stacklevel=3)


def newer_than_tables() -> Optional[str]:
    """The warning for an interpreter newer than the tables, or ``None``."""
    if PY <= NEWEST_KNOWN:
        return None
    return (f"interlace: Python {PY[0]}.{PY[1]} is newer than the interpreters its opcode tables "
            f"were made for (up to {NEWEST_KNOWN[0]}.{NEWEST_KNOWN[1]}); opcodes it does not "
            f"know are treated as shared accesses and switch sites, and the gil model's "
            f"switch sites are those of {NEWEST_KNOWN[0]}.{NEWEST_KNOWN[1]}")


_version_warned = False


def warn_if_newer() -> None:
    """Once per process, when the running interpreter is newer than the tables."""
    global _version_warned
    message = newer_than_tables()
    if message is not None and not _version_warned:
        _version_warned = True
        warnings.warn(message, RuntimeWarning, stacklevel=3)
