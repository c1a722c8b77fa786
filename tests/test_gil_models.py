"""Per-model verdicts of `interlace run` on the classic GIL examples, and `run --model all`.

The expectations are what each interpreter really does: `interlace stress` on CPython 3.13 and
3.9 fails on exactly the programs marked "bug" for `gil` and `gil-3.9` (docs/gil.md has the
measured table).  The programs loop N times (default sized for stress); here N = 3.
"""

import json
import sys
import textwrap

import pytest

from conftest import NO_TIME_LIMIT, ROOT, run_cli
from expect import expectation
from interlace.bytecode.plan import build_plan
from interlace.models import GIL_VERSIONS, Model

GIL_PROGRAMS = ROOT / "tests" / "gil_programs"

BUG, NONE = "bug", "no-bug-found"

MODELS = ("free-threaded", "gil", "gil-3.9")
#: each program declares its verdict per model on its first line (tests/expect.py)
CASES = [(p.name, model, BUG if expectation(p).verdict(model) == "bug" else NONE)
         for p in sorted(GIL_PROGRAMS.glob("*.py")) for model in MODELS]


def _run(tmp_path, *args, n="3"):
    out = tmp_path / "r.json"
    result = run_cli("run", *NO_TIME_LIMIT, *args, "--json", str(out), "--", n)
    assert out.exists(), result.stdout + result.stderr
    return result, json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name,model,verdict", CASES, ids=[f"{n}-{m}" for n, m, _ in CASES])
def test_verdict_per_model(tmp_path, name, model, verdict):
    budget = "400" if verdict == BUG else "80"
    result, data = _run(tmp_path, str(GIL_PROGRAMS / name), "--model", model, "--budget", budget,
                        "--strategy", "pct")
    assert data["model"] == model
    assert data["verdict"] == verdict, (name, model, data["summary"])
    if verdict == BUG:
        assert result.returncode == 1 and data["kind"] == "assertion", data["summary"]
    else:
        assert result.returncode == 0 and data["executions"] == 80


@pytest.mark.slow
def test_model_all_states_under_which_models_the_bug_occurs(tmp_path):
    result, data = _run(tmp_path, str(GIL_PROGRAMS / "global_counter.py"), "--model", "all",
                        "--budget", "60", "--strategy", "pct")
    assert result.returncode == 1, result.stdout + result.stderr
    assert data["verdict"] == "bug" and data["model"] == "free-threaded"  # the one shown in full
    models = data["models"]
    assert list(models) == ["free-threaded", "gil", "gil-3.9"]
    assert models["free-threaded"]["status"] == "yes" and models["free-threaded"]["schedule"]
    assert models["gil-3.9"]["status"] == "yes" and models["gil-3.9"]["kind"] == "assertion"
    # a bounded random search that found nothing is not a "no"
    assert models["gil"]["status"] == "not found within budget"
    assert models["gil"]["executions"] == 60 and models["gil"]["verdict"] == "no-bug-found"
    out = result.stdout
    assert "Can it happen under each switch model?" in out
    assert (f"free-threaded: yes, CPython {GIL_VERSIONS}: not found within budget, "
            "CPython <= 3.9: yes") in out
    assert "interlace replay --schedule il1:" in out


@pytest.mark.slow
def test_model_all_on_a_correct_program_finds_nothing_anywhere(tmp_path):
    result, data = _run(tmp_path, str(GIL_PROGRAMS / "list_iadd.py"), "--model", "all",
                        "--budget", "20", "--strategy", "pct", n="2")
    assert result.returncode == 0, result.stdout
    assert {m: v["status"] for m, v in data["models"].items()} == {
        "free-threaded": "not found within budget", "gil": "not found within budget",
        "gil-3.9": "not found within budget"}
    assert all(v["executions"] == 20 for v in data["models"].values())
    assert "No bug found in 20 executions" in result.stdout


@pytest.mark.slow
def test_model_all_keeps_the_total_time_bounded(tmp_path):
    # the time limit is shared: three searches of a bug-free program stay within --timeout
    result, data = _run(tmp_path, str(GIL_PROGRAMS / "list_iadd.py"), "--model", "all",
                        "--budget", "100000", "--timeout", "6", "--strategy", "pct", n="2")
    assert result.returncode == 0
    models = data["models"].values()
    seconds = sum(v["seconds"] for v in models)
    # each search may overrun its share by about one execution, however long one takes here
    overrun = sum(2 * v["seconds"] / max(1, v["executions"]) for v in models) + 1
    assert seconds < 6 + overrun, (seconds, overrun)
    assert all(v["stopped_by"] == "timeout" for v in data["models"].values())


def test_bad_model_and_timeout_values_are_usage_errors():
    for args, message in [(["--model", "gil-2.7"], "unknown model 'gil-2.7'"),
                          (["--timeout", "nan"], "must be positive"),
                          (["--timeout", "inf"], "finite"),
                          (["--budget", "x"], "expected an integer")]:
        result = run_cli("run", "tests/gil_programs/list_iadd.py", *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    result = run_cli("stress", "tests/gil_programs/list_iadd.py", "--runs", "0")
    assert result.returncode == 2 and "must be at least 1, got 0" in result.stderr


# -- the plan places the GIL's switch sites where the runtime can take them ----------------------

def _code(source: str, name: str):
    namespace: dict = {}
    exec(compile(textwrap.dedent(source), "<test>", "exec"), namespace)
    return namespace[name].__code__


def test_switch_after_a_c_call_is_taken_before_the_next_shared_access():
    code = _code("""
        counts = {}
        def bump(k):
            counts[k] = counts.get(k, 0) + 1
    """, "bump")
    plan = [s for s in build_plan(code, Model.GIL, record=False) if s is not None]
    call = next(i for i, s in enumerate(plan) if s.switch_after_c_call)
    # the owed switch needs a hook call before the next shared access (the store's LOAD_GLOBAL),
    # not only at the next call or back-edge
    assert plan[call + 1].kind == "global" and plan[call + 1].name == "counts"


def test_function_entry_switch_lands_before_the_first_shared_access():
    # neither sys.monitoring nor settrace report RESUME (3.11+), so the entry site must move
    code = _code("""
        created = []
        def make(key):
            value = [key]
            created.append(key)
            return value
    """, "make")
    plan = [s for s in build_plan(code, Model.GIL, record=False) if s is not None]
    if sys.version_info < (3, 11):  # no RESUME: the entry site is the first instruction itself
        assert plan[0].offset == 0 and plan[0].switch
        return
    first_access = next(s for s in plan if s.kind is not None)
    assert first_access.switch and first_access.kind == "global" and first_access.name == "created"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="RESUME exists from 3.11")
def test_resume_after_yield_is_a_switch_site_whatever_the_upper_oparg_bits():
    code = _code("""
        total = 0
        def gen():
            global total
            try:
                seen = total
                yield seen
                total = seen + 1
            except ValueError:
                pass
    """, "gen")
    store = next(s for s in build_plan(code, Model.GIL, record=True)
                 if s is not None and s.opname == "STORE_GLOBAL")
    assert store.switch  # first shared access after the RESUME that follows the yield


@pytest.mark.slow
def test_model_all_under_a_preemption_bound_never_says_a_plain_no(tmp_path):
    """A bounded systematic search that runs out is "no within the preemption bound"."""
    result, data = _run(tmp_path, str(GIL_PROGRAMS / "global_counter.py"), "--model", "all",
                        "--strategy", "dpor", "--preemptions", "0", n="2")
    statuses = {m: v["status"] for m, v in data["models"].items()}
    assert "no" not in statuses.values(), statuses
    assert statuses["gil"] == "no within the preemption bound"
    assert "--preemptions none for a plain no" in result.stdout


@pytest.mark.slow
def test_model_all_with_an_unbounded_systematic_search_proves_the_gil_answer(tmp_path):
    result, data = _run(tmp_path, str(GIL_PROGRAMS / "global_counter.py"), "--model", "all",
                        "--strategy", "dpor", "--preemptions", "none", n="2")
    statuses = {m: v["status"] for m, v in data["models"].items()}
    assert statuses == {"free-threaded": "yes", "gil": "no", "gil-3.9": "yes"}
    assert f"free-threaded: yes, CPython {GIL_VERSIONS}: no, CPython <= 3.9: yes" in result.stdout
