"""The hooks layer: its imports point one way, the accelerator binds or fails loudly, and a
program that switches the hooks off is reported as not controlled."""

import ast
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SRC = ROOT / "src" / "interlace"
BUILT = importlib.util.find_spec("interlace._accel") is not None
needs_accel = pytest.mark.skipif(not BUILT, reason="the C accelerator is not built here")
#: Binding the scheduler to the accelerator: not when the environment switches it off.
_PURE = os.environ.get("INTERLACE_PURE_PYTHON") not in (None, "", "0")
needs_accel_on = pytest.mark.skipif(not BUILT or _PURE,
                                    reason="the C accelerator is not built or not in use here")


def _imports(path: Path) -> set:
    """Absolute module names ``path`` imports (relative imports resolved within interlace)."""
    package = ["interlace", *path.relative_to(SRC).parent.parts]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("folder", ["hooks", "bytecode"])
def test_lower_layers_import_nothing_from_runtime(folder):
    offenders = {str(path.relative_to(SRC)): sorted(n for n in _imports(path)
                                                    if n.startswith("interlace.runtime"))
                 for path in (SRC / folder).glob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_accel_module_imports_neither_hooks_nor_runtime():
    names = _imports(SRC / "accel.py")
    assert not any(n.startswith(("interlace.hooks", "interlace.runtime")) for n in names)
    assert (SRC / "_accel.pyi").is_file()


@needs_accel
def test_the_stub_names_what_the_module_has():
    from interlace import _accel
    stub = ast.parse((SRC / "_accel.pyi").read_text())
    names = {n.name for n in stub.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    names |= {n.target.id for n in stub.body if isinstance(n, ast.AnnAssign)}
    names.discard("settrace") if sys.version_info >= (3, 12) else None
    assert names and all(hasattr(_accel, name) for name in names), names


def _hook():
    from interlace import _accel
    if sys.version_info >= (3, 12):
        return _accel.Hook(lambda s, f: None, monitoring=True, tool=4,
                           set_local_events=lambda *a: None)
    return _accel.Hook(lambda s, f: None, builder=lambda c: None)


@needs_accel_on
def test_bind_scheduler_fails_loudly_when_the_flags_disagree():
    from interlace.accel import FlagMismatch
    from interlace.hooks import bind_scheduler
    from interlace.runtime.policies import Policy
    from interlace.runtime.scheduler import Scheduler

    class Stale(Scheduler):
        ACCEL_FLAGS = Scheduler.ACCEL_FLAGS[:-1]  # a flag the C side mirrors is missing

    class Keep(Policy):
        def choose(self, step, current, runnable):
            return current

    sched = Stale(Keep(), record=False, max_steps=10, finish=lambda outcome: None)
    with pytest.raises(FlagMismatch, match="rebuild"):
        bind_scheduler(_hook(), sched.dispatch)
    assert type(sched) is Stale  # nothing half-bound


@needs_accel_on
def test_bind_scheduler_mirrors_the_flags_of_a_real_scheduler():
    from interlace.hooks import bind_scheduler
    from interlace.runtime.policies import Policy
    from interlace.runtime.scheduler import Scheduler

    class Keep(Policy):
        def choose(self, step, current, runnable):
            return current

    sched = Scheduler(Keep(), record=False, max_steps=10, finish=lambda outcome: None)
    hook = _hook()
    bind_scheduler(hook, sched.dispatch)
    assert type(sched).__mro__[1] is Scheduler
    assert type(type(sched).__dict__["step"]).__name__ == "Flag"
    sched.step = 7
    assert sched.step == 7


def test_bind_scheduler_refuses_a_dispatch_without_a_scheduler():
    from interlace.hooks import bind_scheduler
    with pytest.raises((TypeError, RuntimeError)):
        bind_scheduler(object(), lambda step, frame: None)


# -- a program that switches interlace's hooks off (issue 16) -----------------------------------

SETTRACE_OFF = """
import sys, threading
counter = 0
def work():
    global counter
    sys.settrace(None)
    for _ in range(3):
        counter = counter + 1
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
assert counter == 6, counter
"""

MONITORING_OFF = """
import sys, threading
for tool in range(6):
    if sys.monitoring.get_tool(tool) is not None:
        sys.monitoring.set_events(tool, 0)
counter = 0
def work():
    global counter
    for _ in range(3):
        counter = counter + 1
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
assert counter == 6, counter
"""


def _switch_off_program() -> tuple[str, str]:
    if sys.version_info >= (3, 12):
        return MONITORING_OFF, "sys.monitoring.set_events()"
    return SETTRACE_OFF, "sys.settrace(None)"


@pytest.mark.slow
@pytest.mark.parametrize("pure", [False, True])
def test_a_program_switching_the_hooks_off_is_never_verified(tmp_path, cli, monkeypatch, pure):
    if pure:
        monkeypatch.setenv("INTERLACE_PURE_PYTHON", "1")
    source, call = _switch_off_program()
    script = tmp_path / "switch_off.py"
    script.write_text(source)
    result = cli("run", "--strategy", "dpor", str(script))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "Verified" not in out and "verified" not in out.lower().replace("not verified", "")
    assert f"warning: the program called {call}" in out
    assert "outside interlace's control" in out


@pytest.mark.slow
@pytest.mark.parametrize("pure", [False, True])
def test_a_program_that_keeps_the_hooks_is_not_reported(tmp_path, cli, monkeypatch, pure):
    if pure:
        monkeypatch.setenv("INTERLACE_PURE_PYTHON", "1")
    script = tmp_path / "plain.py"
    script.write_text(SETTRACE_OFF.replace("    sys.settrace(None)\n", ""))
    result = cli("run", "--strategy", "dpor", "--preemptions", "none", str(script))
    assert "outside interlace's control" not in result.stdout + result.stderr
    assert result.returncode == 1  # the lost update is found
