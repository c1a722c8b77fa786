"""The opcode tables against the running interpreter and its own generated metadata.

``Include/internal/pycore_opcode_metadata.h`` is generated from ``Python/bytecodes.c`` and
installed with the interpreter's headers (3.13+): it says which opcodes, and which of their
specialisations, can let the GIL go (``HAS_EVAL_BREAK_FLAG``).  Where the header is absent
these tests skip, unless ``INTERLACE_REQUIRE_OPCODE_HEADER=1`` (CI installs the headers with
its interpreters: a missing header there is a failure, not a silent pass).
"""

import dis
import os
import re
import sysconfig
import textwrap
import warnings
from pathlib import Path

import pytest

from interlace.bytecode import opsets
from interlace.bytecode.plan import UNKNOWN_ACCESS, build_plan
from interlace.bytecode.symbolic import UNKNOWN, Const, Local
from interlace.models import GIL_VERSIONS, Model

HEADER = Path(sysconfig.get_path("include") or "/nonexistent") / "internal" / "pycore_opcode_metadata.h"


def _code(source: str, name: str):
    namespace: dict = {}
    exec(compile(textwrap.dedent(source), "<test>", "exec"), namespace)
    return namespace[name].__code__


def _steps(code, model):
    return [s for s in build_plan(code, model, True) if s is not None]


# -- the running interpreter ---------------------------------------------------------------------

def test_every_opcode_of_the_running_interpreter_is_in_the_tables():
    unknown = sorted(name for name in dis.opmap if not opsets.is_known(name))
    assert unknown == [], f"opcodes of this interpreter missing from bytecode/opsets.py: {unknown}"


def test_the_version_is_computed_once_in_opsets():
    src = Path(opsets.__file__).resolve().parent.parent
    offenders = [str(path.relative_to(src)) for path in src.rglob("*.py")
                 if path.name != "opsets.py" and re.search(r"^PY = sys\.version_info",
                                                           path.read_text(), re.M)]
    assert offenders == []


def test_a_subscript_read_is_an_item_access_on_every_version():
    code = _code("""
def bump(d):
    d["n"] = d["n"] + 1
""", "bump")
    steps = _steps(code, Model.FREE_THREADED)
    items = [s for s in steps if s.kind == "item"]
    reads = [s for s in items if not s.write]
    writes = [s for s in items if s.write]
    assert len(reads) == 1 and len(writes) == 1
    assert reads[0].operands == (Local("d"), Const("n")) and reads[0].switch
    assert reads[0].opname == ("BINARY_OP" if opsets.PY >= (3, 14) else "BINARY_SUBSCR")


def test_a_constant_slice_read_is_a_read_of_the_whole_container():
    code = _code("""
def head(items):
    return items[1:3]
""", "head")
    (step,) = [s for s in _steps(code, Model.FREE_THREADED) if s.kind is not None]
    assert not step.write and step.operands[0] == Local("items")
    # 3.12+: a slice access; 3.10/3.11 build the slice on the stack (an unknown key: the whole
    # container too).  Never an item keyed by a slice object, which conflicts with no index.
    assert step.kind == "slice" or (step.kind == "item" and step.operands[1] is UNKNOWN)


def test_a_constant_slice_write_is_a_write_of_the_whole_container():
    code = _code("""
def splice(items, x):
    items[1:3] = x
    del items[0:1]
""", "splice")
    steps = [s for s in _steps(code, Model.FREE_THREADED) if s.kind is not None]
    assert len(steps) == 2 and all(s.write and s.operands[0] == Local("items") for s in steps)
    assert all(s.kind == "slice" or (s.kind == "item" and s.operands[1] is UNKNOWN)
               for s in steps), steps


def test_arithmetic_binary_op_is_not_an_access():
    code = _code("""
def add(a, b):
    return a + b
""", "add")
    assert [s for s in _steps(code, Model.FREE_THREADED) if s.kind is not None] == []


# -- fail safe on what the tables do not know ----------------------------------------------------

def test_an_unknown_opcode_is_a_shared_access_and_a_switch_site_with_one_warning(monkeypatch):
    code = _code("""
def add(a, b):
    x = a + b
    return x * b
""", "add")
    monkeypatch.setattr(opsets, "NOT_SHARED", opsets.NOT_SHARED - {"BINARY_OP", "BINARY_ADD",
                                                                   "BINARY_MULTIPLY"})
    monkeypatch.setattr(opsets, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plans = {model: _steps(code, model) for model in Model}
    for model, steps in plans.items():
        unknown = [s for s in steps if s.kind == UNKNOWN_ACCESS]
        assert len(unknown) == 2, model
        assert all(s.switch and s.write for s in unknown), model
    messages = [str(w.message) for w in caught if "not in interlace's tables" in str(w.message)]
    # one warning per opcode, whatever the number of models: 3.11+ has one opcode for both
    # instructions (BINARY_OP), 3.10 two (BINARY_ADD, BINARY_MULTIPLY)
    opnames = sorted({s.opname for s in unknown})
    assert len(messages) == len(opnames)
    assert all(any(name in m for m in messages) for name in opnames)


def test_an_interpreter_newer_than_the_tables_is_warned_about_once(monkeypatch):
    assert opsets.newer_than_tables() is None or opsets.PY > opsets.NEWEST_KNOWN
    monkeypatch.setattr(opsets, "PY", (3, 99))
    monkeypatch.setattr(opsets, "_version_warned", False)
    message = opsets.newer_than_tables()
    assert message is not None and "3.99" in message and "3.15" in message
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opsets.warn_if_newer()
        opsets.warn_if_newer()
    assert [str(w.message) for w in caught] == [message]


def test_the_gil_model_names_the_versions_it_speaks_for():
    if opsets.PY < (3, 11):
        assert GIL_VERSIONS == "3.10"
    else:
        assert GIL_VERSIONS == "3.11-3.15"
    assert GIL_VERSIONS in Model.GIL.description


# -- the generated metadata header ---------------------------------------------------------------

def _header() -> str:
    if HEADER.is_file():
        return HEADER.read_text()
    if opsets.PY < (3, 13):
        pytest.skip("pycore_opcode_metadata.h lists HAS_EVAL_BREAK_FLAG from 3.13 on")
    if os.environ.get("INTERLACE_REQUIRE_OPCODE_HEADER", "") not in ("", "0"):
        pytest.fail(f"{HEADER} is missing (INTERLACE_REQUIRE_OPCODE_HEADER is set): install "
                    f"this interpreter's development headers")
    pytest.skip(f"{HEADER} is not installed (this interpreter's -dev headers)")


def _metadata() -> tuple[dict[str, str], dict[str, str]]:
    """``{opcode: flags}`` and ``{specialisation: its base opcode}`` from the header."""
    text = _header()
    flags = dict(re.findall(r"\[(\w+)\] = \{ true, \w+, ([^}]*)\}", text))
    deopt_table = text.split("_PyOpcode_Deopt[256] = {", 1)[1].split("};", 1)[0]
    deopt = dict(re.findall(r"\[(\w+)\] = (\w+),", deopt_table))
    assert flags and deopt, "the header's format changed: update this test"
    return flags, deopt


def _checks(flags: str) -> bool:
    return "HAS_EVAL_BREAK_FLAG" in flags


def test_header_eval_breaker_opcodes_are_the_gil_models_sites():
    flags, deopt = _metadata()
    families = {deopt.get(name, name) for name, f in flags.items()
                if _checks(f) and not name.startswith("INSTRUMENTED_")}
    assert families == opsets.EVAL_BREAK_FAMILIES & (set(flags) | set(deopt))
    # the model's sites: RESUME and the back-edges before, calls after (plan._gil_site_before)
    assert families - {"RESUME", "JUMP"} <= opsets.BACK_EDGES | opsets.CALLS


def test_header_calls_that_skip_the_check_are_the_tables_exceptions():
    flags, deopt = _metadata()
    calls = {name for name, base in deopt.items() if base in opsets.CALLS}
    silent = {name for name in calls if not _checks(flags.get(name, ""))}
    expected = opsets.PYTHON_CALL_SPECIALISATIONS | set(opsets.NO_CHECK_SPECIALISATIONS)
    assert silent <= expected, f"calls without an eval-breaker check the tables do not know: {silent - expected}"
    assert set(opsets.NO_CHECK_SPECIALISATIONS) <= silent


def test_header_subscripts_go_through_binary_op_exactly_when_the_tables_say_so():
    flags, deopt = _metadata()
    subscript_specialisations = {name for name, base in deopt.items()
                                 if base == "BINARY_OP" and "SUBSCR" in name}
    assert ("BINARY_SUBSCR" in flags) == (opsets.NB_SUBSCR is None)
    assert bool(subscript_specialisations) == (opsets.NB_SUBSCR is not None)


def test_header_opcodes_are_all_in_the_tables():
    flags, deopt = _metadata()
    base = {name for name in flags if deopt.get(name, name) == name and name in dis.opmap}
    assert sorted(name for name in base if not opsets.is_known(name)) == []


# -- end to end: a subscript read is seen by DPOR and explain (the false proof of 3.14) ---------

SUBSCRIPT_READ_RACE = """
import threading
d = {"x": 0}
seen = []
def reader():
    seen.append(d["x"])
def writer():
    d["x"] = 1
t1 = threading.Thread(target=reader)
t2 = threading.Thread(target=writer)
t1.start(); t2.start(); t1.join(); t2.join()
assert seen == [0], seen
"""

SUBSCRIPT_RMW = """
import threading
d = {"n": 0}
def work():
    d["n"] = d["n"] + 1
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


@pytest.mark.slow
def test_dpor_does_not_verify_a_program_whose_race_is_a_subscript_read(tmp_path, cli):
    script = tmp_path / "subscript_race.py"
    script.write_text(SUBSCRIPT_READ_RACE)
    result = cli("run", "--strategy", "dpor", str(script))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BUG FOUND (assertion)" in result.stdout
    assert "Verified" not in result.stdout


def test_explain_sees_a_subscript_read_modify_write(tmp_path, cli):
    script = tmp_path / "subscript_rmw.py"
    script.write_text(SUBSCRIPT_RMW)
    result = cli("explain", str(script))
    assert "read-modify-write of d['n']" in result.stdout, result.stdout
