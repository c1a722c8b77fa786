"""`interlace explain`: exactly the racy windows of each classic example, and its CLI contract."""

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import PROGRAMS, ROOT, run_cli
from interlace.explain.analysis import CTA, RMW, explain
from interlace.models import GIL_VERSIONS, Model

GIL_PROGRAMS = ROOT / "tests" / "gil_programs"
PY = sys.version_info[:2]
FT, GIL, G39 = Model.FREE_THREADED, Model.GIL, Model.GIL_39
#: 3.10 checks the eval breaker after *every* call, including ``len(x)``.
AFTER_EVERY_CALL = PY < (3, 11)


def _line(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    matches = [n for n, line in enumerate(lines, 1) if line.strip() == text]
    assert len(matches) == 1, (path, text, matches)
    return matches[0]


def _window(path, start, end, kind, location, ft, gil, g39):
    return (_line(path, start), _line(path, end), kind, location, {FT: ft, GIL: gil, G39: g39})


def _findings(path, **kwargs):
    report = explain(str(path), **kwargs)
    return [(f.line, f.end_line, f.kind, f.location,
             {model: verdict.can_switch for model, verdict in f.verdicts.items()})
            for f in report.findings]


# program -> its windows: (first statement, last statement, kind, location, free-threaded,
# gil, gil-3.9), where the last three say whether a thread switch can land inside.
CLASSIC = {
    GIL_PROGRAMS / "global_counter.py": [
        ("counter = counter + 1", "counter = counter + 1", RMW, "global counter", True, False, True)],
    GIL_PROGRAMS / "attr_counter.py": [
        ("self.a += 1", "self.a += 1", RMW, "self.a", True, False, True)],
    GIL_PROGRAMS / "add_mul.py": [
        ("a = a + 2", "a = a + 2", RMW, "global a", True, False, True),
        ("a = a * 3", "a = a * 3", RMW, "global a", True, False, True)],
    GIL_PROGRAMS / "request_ids.py": [
        ("rid = next_id", "next_id = rid + 1", RMW, "global next_id", True, False, True)],
    GIL_PROGRAMS / "append_pop_len.py": [
        ("if len(items) % 2:", "odd.append(len(items))", CTA, "the contents of items",
         True, AFTER_EVERY_CALL, True)],
    GIL_PROGRAMS / "list_concat.py": [
        ("l = l + [x]", "l = l + [x]", RMW, "global l", True, False, True)],
    GIL_PROGRAMS / "list_iadd.py": [],
    GIL_PROGRAMS / "dict_factory.py": [
        ("if key not in cache:", "cache[key] = make(key)", CTA, "cache[key]", True, True, True)],
    GIL_PROGRAMS / "dict_get_counter.py": [
        ('counts["k"] = counts.get("k", 0) + 1', 'counts["k"] = counts.get("k", 0) + 1', RMW,
         "counts['k']", True, True, True)],
    # the single-shot versions of the same examples, and their locked counterparts
    PROGRAMS / "attr_loop.py": [
        ("self.a += 1", "self.a += 1", RMW, "self.a", True, False, True)],
    PROGRAMS / "add_mul.py": [
        ("a = a + 2", "a = a + 2", RMW, "global a", True, False, True),
        ("a = a * 3", "a = a * 3", RMW, "global a", True, False, True)],
    PROGRAMS / "request_ids.py": [
        ("rid = next_id", "next_id = rid + 1", RMW, "global next_id", True, False, True)],
    PROGRAMS / "append_pop_len.py": [
        ("if len(items) % 2:", "odd.append(len(items))", CTA, "the contents of items",
         True, AFTER_EVERY_CALL, True)],
    PROGRAMS / "list_concat.py": [("l = l + [x]", "l = l + [x]", RMW, "global l", True, False, True)],
    PROGRAMS / "list_iadd.py": [],
    PROGRAMS / "attr_loop_locked.py": [],
    PROGRAMS / "add_mul_locked.py": [],
    PROGRAMS / "request_ids_locked.py": [],
    PROGRAMS / "append_pop_len_locked.py": [],
}


@pytest.mark.parametrize("path", sorted(CLASSIC), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_classic_examples_flag_exactly_the_racy_lines(path):
    expected = [_window(path, *window) for window in CLASSIC[path]]
    assert _findings(path) == expected


# -- precision on smaller patterns -------------------------------------------------------------

def _explain_source(tmp_path, source, **kwargs):
    path = tmp_path / "case.py"
    path.write_text(textwrap.dedent(source))
    return path, _findings(path, **kwargs)


def test_local_code_appends_and_in_place_list_extension_are_not_windows(tmp_path):
    _, found = _explain_source(tmp_path, """
        import threading
        shared = []

        class Box:
            def __init__(self):
                self.items = []

            def add(self, x):
                self.items += [x]      # extends the same list: nothing to lose
                self.items.append(x)   # one C call: one step
                self.items.sort()

        def work(n):
            global shared
            acc = []
            total = 0
            for i in range(n):
                total = total + i
                acc.append(total)
            if acc:
                acc.pop()
            seen = {}
            if n not in seen:
                seen[n] = total
            shared += [total]
            shared.append(total)

        box = Box()
        threading.Thread(target=work, args=(3,)).start()
        threading.Thread(target=box.add, args=(1,)).start()
    """)
    assert found == []


def test_windows_under_a_held_lock_are_not_reported(tmp_path):
    _, found = _explain_source(tmp_path, """
        import threading
        lock = threading.Lock()
        counter = 0

        class Cache:
            def __init__(self):
                self._guard = threading.RLock()
                self.value = None

            def get(self):
                with self._guard:
                    if self.value is None:
                        self.value = object()
                    return self.value

        def bump():
            global counter
            with lock:
                counter = counter + 1
            lock.acquire()
            try:
                counter += 1
            finally:
                lock.release()

        threading.Thread(target=bump).start()
        threading.Thread(target=Cache().get).start()
    """)
    assert found == []


def test_lock_protects_only_the_lines_it_covers(tmp_path):
    path, found = _explain_source(tmp_path, """
        import threading
        lock = threading.Lock()
        next_id = 0

        def handle():
            global next_id
            with lock:
                rid = next_id
            next_id = rid + 1

        threading.Thread(target=handle).start()
    """)
    # releasing the lock is a call (``__exit__``) inside the window: the GIL can go there too
    assert found == [_window(path, "rid = next_id", "next_id = rid + 1", RMW, "global next_id",
                             True, True, True)]


def test_locks_nobody_else_can_hold_and_waits_do_not_protect(tmp_path):
    """A lock made for this call alone guards nothing; ``cond.wait()`` lets the lock go."""
    path, found = _explain_source(tmp_path, """
        import threading
        lock = threading.Lock()
        cond = threading.Condition()
        count = 0

        def fresh_lock():
            global count
            with threading.Lock():
                count = count + 1

        def local_lock():
            global count
            mine = threading.Lock()
            with mine:
                count = count + 2

        def real_lock():
            global count
            with lock:
                count = count + 3

        def waits_between():
            global count
            with cond:
                seen = count
                cond.wait()
                count = seen + 4

        for f in (fresh_lock, local_lock, real_lock, waits_between):
            threading.Thread(target=f).start()
    """)
    assert [(start, end) for start, end, *_ in found] == [
        (_line(path, "count = count + 1"), _line(path, "count = count + 1")),
        (_line(path, "count = count + 2"), _line(path, "count = count + 2")),
        (_line(path, "seen = count"), _line(path, "count = seen + 4"))]


def test_lazy_init_factory_check_then_act_and_builtin_calls(tmp_path):
    path, found = _explain_source(tmp_path, """
        import threading
        shared = [3, 1, 2]
        table = {}

        def make():
            return object()

        class Lazy:
            def __init__(self):
                self.value = None

            def get(self):
                if self.value is None:
                    self.value = make()
                return self.value

        def fill(d, k):
            if k not in d:
                d[k] = 0

        def fill_global(k):
            if k not in table:
                table[k] = 0

        def resort():
            global shared
            shared = sorted(shared)

        def drain():
            if shared:
                shared.pop()

        for target in (Lazy().get, fill, fill_global, resort, drain):
            threading.Thread(target=target).start()
    """, include_all=True)
    assert found == [
        _window(path, "if self.value is None:", "self.value = make()", CTA, "self.value",
                True, True, True),  # make()'s entry checks the eval breaker
        _window(path, "if k not in d:", "d[k] = 0", CTA, "d[k]",
                True, False, False),  # only "fast" 3.9 instructions in between
        _window(path, "if k not in table:", "table[k] = 0", CTA, "table[k]",
                True, False, True),  # LOAD_GLOBAL table is not fast on 3.9
        _window(path, "shared = sorted(shared)", "shared = sorted(shared)", RMW, "global shared",
                True, True, True),  # sorted() is one C call, but the GIL can go after it
        _window(path, "if shared:", "shared.pop()", CTA, "global shared",
                True, False, True),  # truth test, LOAD_GLOBAL, LOAD_ATTR: no check on 3.10+
    ]


def test_blind_writes_and_closures(tmp_path):
    path, found = _explain_source(tmp_path, """
        import threading
        counter = 0

        def blind():
            global counter
            print(counter)
            counter = 5

        def outer():
            hits = 0

            def bump():
                nonlocal hits
                hits += 1
            threading.Thread(target=bump).start()

        threading.Thread(target=blind).start()
        threading.Thread(target=outer).start()
    """)
    assert found == [_window(path, "hits += 1", "hits += 1", RMW, "closure variable hits",
                             True, False, True)]


def test_a_yield_inside_the_window_lets_the_gil_go(tmp_path):
    path, found = _explain_source(tmp_path, """
        total = 0

        def running_total():
            global total
            while True:
                seen = total
                yield seen
                total = seen + 1
    """)
    # RESUME after ``yield`` checks the eval breaker (3.10's generator resume is not modeled)
    assert found == [_window(path, "seen = total", "total = seen + 1", RMW, "global total",
                             True, PY >= (3, 11), True)]


def test_except_path_switch_follows_each_versions_eval_loop(tmp_path):
    path, found = _explain_source(tmp_path, """
        table = {}

        def count(k):
            try:
                x = table[k]
            except KeyError:
                x = 0
            table[k] = x + 1
    """)
    # 3.12 leaves the handler with a checking JUMP_BACKWARD; 3.11 and 3.13 do not
    assert found == [_window(path, "x = table[k]", "table[k] = x + 1", RMW, "table[k]",
                             True, PY == (3, 12), True)]


def test_reachability_from_thread_targets_and_all(tmp_path):
    source = """
        import threading
        from concurrent.futures import ThreadPoolExecutor
        counter = 0

        def helper():
            global counter
            counter += 1

        def worker():
            helper()

        def pooled(x):
            global counter
            counter = counter + x

        def setup_only():
            global counter
            counter = counter * 2

        setup_only()
        threading.Thread(target=worker).start()
        with ThreadPoolExecutor() as pool:
            pool.map(pooled, [1, 2])
    """
    path = tmp_path / "case.py"
    path.write_text(textwrap.dedent(source))
    report = explain(str(path))
    assert report.functions == ["helper", "worker", "pooled"]
    assert {f.function for f in report.findings} == {"helper", "pooled"}
    assert "threading.Thread(target=worker) at line" in report.entries[0]
    everything = explain(str(path), include_all=True)
    assert {f.function for f in everything.findings} == {"helper", "pooled", "setup_only"}
    # a file that starts no threads: every function is a candidate
    path.write_text("g = 0\n\ndef f():\n    global g\n    g = g + 1\n")
    report = explain(str(path))
    assert report.selection.startswith("all functions") and len(report.findings) == 1


# -- the command line --------------------------------------------------------------------------

def test_text_report_shows_source_window_and_verdict_per_model():
    result = run_cli("explain", "tests/gil_programs/request_ids.py")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "IL001 read-modify-write of global next_id in handle_request()" in out
    assert "rid = next_id" in out and "next_id = rid + 1" in out
    assert re.search(r"LOAD_GLOBAL\s+\d+ \(next_id\)\s+<- read", out), out
    assert re.search(r"STORE_GLOBAL\s+\d+ \(next_id\)\s+<- write", out), out
    assert re.search(r"free-threaded\s+yes", out)
    assert re.search(rf"CPython {re.escape(GIL_VERSIONS)}\s+no", out)
    assert re.search(r"CPython <= 3\.9\s+yes", out)


def test_lint_format_for_editors_and_ci():
    result = run_cli("explain", "tests/gil_programs/add_mul.py", "--format", "lint")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    path = GIL_PROGRAMS / "add_mul.py"
    assert lines == [
        f"tests/gil_programs/add_mul.py:{_line(path, 'a = a + 2')}:9: IL001 read-modify-write of "
        f"global a in add() is not atomic (line {_line(path, 'a = a + 2')}); a thread switch can "
        "land inside under: free-threaded, CPython <= 3.9",
        f"tests/gil_programs/add_mul.py:{_line(path, 'a = a * 3')}:9: IL001 read-modify-write of "
        f"global a in mul() is not atomic (line {_line(path, 'a = a * 3')}); a thread switch can "
        "land inside under: free-threaded, CPython <= 3.9",
    ]
    check = run_cli("explain", "tests/gil_programs/dict_factory.py", "--format", "lint")
    assert re.fullmatch(r"tests/gil_programs/dict_factory\.py:\d+:5: IL002 check-then-act .*\n",
                        check.stdout), check.stdout


def test_model_filter_keeps_only_windows_that_model_can_split():
    gil = run_cli("explain", "tests/gil_programs/global_counter.py", "--format", "lint", "--model", "gil")
    assert gil.returncode == 0 and gil.stdout == ""
    gil = run_cli("explain", "tests/gil_programs/dict_get_counter.py", "--format", "lint", "--model", "gil")
    assert gil.returncode == 1 and gil.stdout.count("IL001") == 1


def test_clean_file_exits_0():
    result = run_cli("explain", "tests/gil_programs/list_iadd.py")
    assert result.returncode == 0, result.stdout
    assert "No read-modify-write or check-then-act window found in 1 function(s)" in result.stdout
    assert run_cli("explain", "tests/gil_programs/list_iadd.py", "--format", "lint").stdout == ""


def test_json_output():
    result = run_cli("explain", "tests/gil_programs/dict_get_counter.py", "--json", "-")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["functions"] == ["worker"] and data["python"].startswith(f"{PY[0]}.{PY[1]}.")
    (finding,) = data["findings"]
    assert finding["code"] == "IL001" and finding["kind"] == "read-modify-write"
    assert finding["location"] == "counts['k']" and finding["function"] == "worker"
    roles = [i["role"] for i in finding["instructions"] if i["role"]]
    assert roles == ["read", "write"]
    read = next(i for i in finding["instructions"] if i["role"] == "read")
    assert read["opname"].startswith("CALL") and "gil" in read["switch_after"]
    models = finding["models"]
    assert {m: models[m]["switch_inside"] for m in models} == {
        "free-threaded": True, "gil": True, "gil-3.9": True}
    assert "counts.get()" in models["gil"]["reason"]
    assert models["gil"]["sites"][0]["where"] == "after"


def test_qualname_selects_one_function(tmp_path):
    path = tmp_path / "two.py"
    path.write_text("g = 0\n\nclass C:\n    def up(self):\n        global g\n        g = g + 1\n\n"
                    "def down():\n    global g\n    g = g - 1\n")
    result = run_cli("explain", f"{path}:C.up", "--json", "-")
    data = json.loads(result.stdout)
    assert data["functions"] == ["C.up"] and [f["function"] for f in data["findings"]] == ["C.up"]


def test_explain_never_runs_the_file(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "side_effect.py"
    path.write_text(f"open({str(marker)!r}, 'w').close()\nx = 0\n\ndef f():\n    global x\n    x += 1\n")
    result = run_cli("explain", str(path))
    assert result.returncode == 1 and not marker.exists()


def test_usage_errors_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    cases = [
        (["explain", "missing.py"], "file not found: missing.py"),
        (["explain", str(bad)], f"syntax error in {bad}, line 1"),
        (["explain", str(tmp_path)], "is a directory"),
        (["explain", "tests/gil_programs/add_mul.py:nope"],
         "no function 'nope' in tests/gil_programs/add_mul.py (functions: add, mul, record)"),
        (["explain", "tests/gil_programs/add_mul.py", "--format", "xml"], "invalid choice"),
        (["explain", "tests/gil_programs/add_mul.py", "--model", "gil-2.7"], "invalid choice"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.count("interlace: error:") == 1, result.stderr  # one clear line
