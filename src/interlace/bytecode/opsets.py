"""Opcode tables: which instructions touch shared state, and where each interpreter can switch.

Names cover 3.10-3.13; an opcode absent from the running interpreter is simply never seen.
Sources (see docs/switch-models.md for the derivation):

* 3.9 ``Python/ceval.c``: opcodes ending in ``FAST_DISPATCH()`` never check the eval breaker.
* 3.10 ``Python/ceval.c``: ``CHECK_EVAL_BREAKER()`` after calls and on taken jumps.
* 3.11 ``Python/ceval.c``, 3.12/3.13 ``Python/bytecodes.c``: ``CHECK_EVAL_BREAKER()`` /
  ``_CHECK_PERIODIC`` in ``RESUME``, ``JUMP_BACKWARD`` and the non-inlined ``CALL`` paths.
"""

from __future__ import annotations

import sys

PY = sys.version_info[:2]

# -- shared accesses ---------------------------------------------------------------------------

GLOBAL_READS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
GLOBAL_WRITES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL", "STORE_NAME", "DELETE_NAME"})
CELL_READS = frozenset({"LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF"})
CELL_WRITES = frozenset({"STORE_DEREF", "DELETE_DEREF"})
ATTR_READS = frozenset({"LOAD_ATTR"})
ATTR_WRITES = frozenset({"STORE_ATTR", "DELETE_ATTR"})
ITEM_READS = frozenset({"BINARY_SUBSCR"})
ITEM_WRITES = frozenset({"STORE_SUBSCR", "DELETE_SUBSCR"})
SLICE_READS = frozenset({"BINARY_SLICE"})
SLICE_WRITES = frozenset({"STORE_SLICE"})
CALLS = frozenset({
    "CALL", "CALL_KW", "CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_METHOD", "CALL_FUNCTION_EX",
})
#: In-place operators: ``l += [1]`` mutates a list in place (a write of the list).
INPLACE_OPS = frozenset({
    "INPLACE_ADD", "INPLACE_SUBTRACT", "INPLACE_MULTIPLY", "INPLACE_OR", "INPLACE_AND",
    "INPLACE_XOR", "INPLACE_TRUE_DIVIDE", "INPLACE_FLOOR_DIVIDE", "INPLACE_MODULO",
    "INPLACE_POWER", "INPLACE_LSHIFT", "INPLACE_RSHIFT", "INPLACE_MATRIX_MULTIPLY",
})

# -- CPython <= 3.9: instructions that never let the GIL go -----------------------------------

#: 3.9 ``FAST_DISPATCH`` opcodes, plus their modern equivalents (superinstructions of
#: ``LOAD_FAST``, ``COPY``/``SWAP`` for ``DUP_TOP``/``ROT_*``, and the bookkeeping opcodes that
#: have no 3.9 counterpart).  Conditional jumps count as fast: 3.9 skips the check when the
#: condition is an exact bool, which is what comparisons produce.
FAST_39 = frozenset({
    "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "LOAD_FAST_LOAD_FAST",
    "STORE_FAST", "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST", "LOAD_CONST",
    "POP_TOP", "ROT_TWO", "ROT_THREE", "ROT_FOUR", "ROT_N", "DUP_TOP", "DUP_TOP_TWO", "COPY",
    "SWAP", "PUSH_NULL", "IS_OP", "CONTAINS_OP", "JUMP_FORWARD", "NOP", "CACHE",
    "EXTENDED_ARG", "PRECALL", "KW_NAMES", "LOAD_ASSERTION_ERROR", "END_ASYNC_FOR", "TO_BOOL",
    "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE", "POP_JUMP_IF_NONE", "POP_JUMP_IF_NOT_NONE",
    "POP_JUMP_FORWARD_IF_FALSE", "POP_JUMP_FORWARD_IF_TRUE", "POP_JUMP_FORWARD_IF_NONE",
    "POP_JUMP_FORWARD_IF_NOT_NONE", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
    "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE", "JUMP_IF_FALSE_OR_POP",
    "JUMP_IF_TRUE_OR_POP", "END_FOR", "COPY_FREE_VARS", "MAKE_CELL",
    "NOT_TAKEN", "JUMP_NO_INTERRUPT", "JUMP_BACKWARD_NO_INTERRUPT", "RETURN_GENERATOR",
})

# -- CPython 3.10-3.13: eval-breaker sites -------------------------------------------------------

#: Loop back-edges that check the eval breaker (the switch lands before the loop header,
#: equivalent to before the jump since a jump touches no shared state).
BACK_EDGES = frozenset({
    "JUMP_BACKWARD", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
    "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE",
})
#: 3.10 checks on ``JUMP_ABSOLUTE`` and taken ``POP_JUMP_IF_TRUE/FALSE`` in either direction;
#: never on ``JUMP_FORWARD`` or the ``and``/``or`` jumps (3.10 ``ceval.c``).
JUMPS_310 = frozenset({"JUMP_ABSOLUTE", "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE"})
#: C functions whose specialised calls skip the check (3.11 ``PRECALL_NO_KW_LEN`` and friends,
#: 3.12/3.13 ``CALL_LEN``/``CALL_ISINSTANCE``/``CALL_LIST_APPEND``/``CALL_TYPE_1``).
NO_CHECK_CALLEES = frozenset({"len", "isinstance", "type", "list.append"})

# -- instructions that only touch locals, constants and the stack ------------------------------

#: Never a shared access, never a scheduling decision: DISABLEd after their first execution.
#: Everything not listed in an access set above is treated this way, except what the model
#: needs to see (calls, back-edges, jumps on 3.10).


def is_jump(opname: str) -> bool:
    return "JUMP" in opname or opname == "FOR_ITER" or opname == "SEND"
