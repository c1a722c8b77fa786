"""Switch sites and accesses planned from bytecode, per model."""

import sys
import textwrap

from interlace.bytecode.plan import build_plan
from interlace.models import Model


def _code(source: str, name: str):
    namespace: dict = {}
    exec(compile(textwrap.dedent(source), "<test>", "exec"), namespace)
    return namespace[name].__code__


def _steps(code, model, record=True):
    return [s for s in build_plan(code, model, record) if s is not None]


ATTR_LOOP = """
class C:
    def run(self):
        for _ in range(10):
            self.a += 1
"""


def test_attr_loop_has_no_switch_inside_the_increment_under_gil():
    namespace: dict = {}
    exec(textwrap.dedent(ATTR_LOOP), namespace)
    code = namespace["C"].run.__code__
    gil = _steps(code, Model.GIL)
    switches = [s.opname for s in gil if s.switch]
    # the only switch sites are the loop back-edge / function entry, never LOAD_ATTR/STORE_ATTR
    assert "LOAD_ATTR" not in switches and "STORE_ATTR" not in switches
    assert switches, "the loop back-edge or function entry must be a switch site"
    free = _steps(code, Model.FREE_THREADED)
    assert {s.opname for s in free if s.switch} >= {"LOAD_ATTR", "STORE_ATTR"}


def test_attr_accesses_name_their_receiver():
    namespace: dict = {}
    exec(textwrap.dedent(ATTR_LOOP), namespace)
    steps = _steps(namespace["C"].run.__code__, Model.FREE_THREADED)
    store = next(s for s in steps if s.opname == "STORE_ATTR")
    assert store.kind == "attr" and store.write and store.name == "a"
    assert repr(store.operands[0]) == "Local(name='self')"


def test_range_loop_is_not_a_shared_iteration():
    code = _code("""
def f(shared):
    for i in range(3):
        pass
    for x in shared:
        pass
""", "f")
    iters = [s for s in _steps(code, Model.FREE_THREADED) if s.kind == "iter"]
    assert len(iters) == 1  # only the loop over `shared`


def test_check_then_act_on_locals_is_atomic_under_39():
    # 3.9 never checks the eval breaker between CONTAINS_OP and STORE_SUBSCR on locals
    code = _code("""
def f(d, k, v):
    if k not in d:
        d[k] = v
""", "f")
    steps = {s.opname: s for s in _steps(code, Model.GIL_39)}
    assert not steps["STORE_SUBSCR"].switch
    free = {s.opname: s for s in _steps(code, Model.FREE_THREADED)}
    assert free["STORE_SUBSCR"].switch and free["CONTAINS_OP"].switch


def test_global_read_modify_write_can_switch_under_39_and_free_threaded():
    code = _code("""
def f():
    global g
    g = g + 1
""", "f")
    for model in (Model.GIL_39, Model.FREE_THREADED):
        store = next(s for s in _steps(code, model) if s.opname == "STORE_GLOBAL")
        assert store.switch, model
    assert not any(s.switch for s in _steps(code, Model.GIL) if s.opname == "STORE_GLOBAL")


def test_calls_into_c_allow_a_switch_after_them_under_gil():
    code = _code("""
def f(d, k):
    d[k] = d.get(k, 0) + 1
""", "f")
    call = next(s for s in _steps(code, Model.GIL) if s.kind == "call")
    assert call.switch_after_c_call
    if sys.version_info >= (3, 11):
        appended = _code("""
def g(l):
    l.append(1)
""", "g")
        append_call = next(s for s in _steps(appended, Model.GIL) if s.kind == "call")
        assert not append_call.switch_after_c_call  # specialised list.append never checks


def test_local_only_code_needs_no_hook_at_all():
    code = _code("""
def f(n):
    acc = 0
    i = 0
    while i < n:
        acc += i & 7
        i += 1
    return acc
""", "f")
    assert not [s for s in _steps(code, Model.FREE_THREADED, record=False) if s.switch]


def test_model_parse_rejects_unknown_names():
    import pytest
    with pytest.raises(ValueError, match="unknown model 'gil-2.7'"):
        Model.parse("gil-2.7")
