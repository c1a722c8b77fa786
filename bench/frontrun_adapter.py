"""Generic adapter: run any corpus script under frontrun's ``explore()``.

Runs *inside* the frontrun venv (bench/.cache/venv-frontrun) as a subprocess:

    python frontrun_adapter.py SCRIPT --strategy dpor|random --seed N \
        --budget B --json OUT.json [--preemption-bound K|none]

How a plain "module-level threads" script becomes setup/workers/invariant
(no per-program tuning; see bench/README.md for the limits):

* The script's top-level statements are split with ``ast`` into
  - prefix: everything before the first statement that calls ``.start()``;
  - middle: from there through the last statement that calls ``.join()``;
  - tail:   everything after (the final asserts).
* ``setup()`` executes the prefix in a fresh module namespace where
  ``import threading`` yields a proxy module whose ``Thread`` is a recording
  subclass: ``start()`` only records the thread, ``join()`` is a no-op.
  Middle statements that manage threads (mention ``Thread``, ``.start()`` or
  ``.join()``) also run in setup, so every started thread gets recorded.
* Each recorded thread becomes one frontrun worker that calls ``thread.run()``
  (target + args, or an overridden ``run``).  The remaining middle statements
  (work the main thread does while the threads run) become one extra
  worker "main".
* ``invariant(state)`` executes the tail; any exception there, and any
  exception raised by a worker (caught and recorded, as a real thread's
  uncaught exception would be printed), makes the invariant false.
  Deadlocks are reported by frontrun itself.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import json
import sys
import threading as _real_threading
import time
import traceback
import types

_RealThread = _real_threading.Thread


def _calls_attr(node: ast.AST, names: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in names:
            return True
    return False


def _mentions_thread(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id == "Thread":
            return True
        if isinstance(sub, ast.Attribute) and sub.attr == "Thread":
            return True
    return False


class Program:
    def __init__(self, path: str):
        self.path = path
        with open(path, encoding="utf-8") as fh:
            self.source = fh.read()
        tree = ast.parse(self.source, path)
        body = tree.body
        starts = [i for i, st in enumerate(body) if _calls_attr(st, {"start"})]
        joins = [i for i, st in enumerate(body) if _calls_attr(st, {"join"})]
        if not starts:
            raise SystemExit("adapter: no top-level statement starts a thread; unsupported program shape")
        first = starts[0]
        last = max(joins[-1] if joins else first, first)
        self.prefix = self._compile(body[:first])
        mid = body[first:last + 1]
        is_setup = [_calls_attr(st, {"start", "join"}) or _mentions_thread(st) for st in mid]
        # A main-thread statement that binds a name a thread-management statement
        # reads (e.g. ``pool = []`` before ``for t in pool: t.join()``) is setup too.
        changed = True
        while changed:
            changed = False
            needed = set()
            for st, flag in zip(mid, is_setup):
                if flag:
                    needed |= {n.id for n in ast.walk(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            for i, st in enumerate(mid):
                if not is_setup[i]:
                    stored = {n.id for n in ast.walk(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                    if stored & needed:
                        is_setup[i] = changed = True
        setup_mid = [st for st, f in zip(mid, is_setup) if f]
        main_mid = [st for st, f in zip(mid, is_setup) if not f]
        self.setup_mid = self._compile(setup_mid)
        self.main_work = self._compile(main_mid) if main_mid else None
        self.tail = self._compile(body[last + 1:])

    def _compile(self, stmts):
        mod = ast.Module(body=list(stmts), type_ignores=[])
        return compile(mod, self.path, "exec")


class State:
    def __init__(self):
        self.ns: dict = {}
        self.threads: list = []
        self.errors: list = []


def _make_namespace(state: State, path: str) -> dict:
    class RecordingThread(_RealThread):
        def start(self):  # noqa: D401 - recorded, run later by frontrun
            state.threads.append(self)

        def join(self, timeout=None):
            return None

        def is_alive(self):
            return False

    proxy = types.ModuleType("threading")

    def _getattr(name):  # forward to the (possibly frontrun-patched) real module
        return getattr(sys.modules["threading"], name)

    proxy.__getattr__ = _getattr  # type: ignore[attr-defined]
    proxy.Thread = RecordingThread

    real_import = builtins.__import__

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "threading" and level == 0:
            return proxy
        return real_import(name, globals, locals, fromlist, level)

    bdict = dict(vars(builtins))
    bdict["__import__"] = _import
    return {"__name__": "__main__", "__file__": path, "__builtins__": bdict}


def build(prog: Program):
    def setup():
        state = State()
        state.ns = _make_namespace(state, prog.path)
        exec(prog.prefix, state.ns)
        exec(prog.setup_mid, state.ns)
        return state

    probe = setup()
    n_threads = len(probe.threads)

    def make_worker(i):
        def worker(state):
            try:
                state.threads[i].run()
            except BaseException as e:  # noqa: BLE001 - recorded as a failure
                state.errors.append(f"thread {i}: {type(e).__name__}: {e}")
        return worker

    workers = [make_worker(i) for i in range(n_threads)]
    if prog.main_work is not None:
        def main_worker(state):
            try:
                exec(prog.main_work, state.ns)
            except BaseException as e:  # noqa: BLE001
                state.errors.append(f"main: {type(e).__name__}: {e}")
        workers.append(main_worker)

    def invariant(state):
        if state.errors:
            return False
        try:
            exec(prog.tail, state.ns)
        except BaseException as e:  # noqa: BLE001
            state.errors.append(f"final: {type(e).__name__}: {e}")
            return False
        return True

    return setup, workers, invariant


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("script")
    ap.add_argument("--strategy", default="dpor", choices=["dpor", "random"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--json", required=True)
    ap.add_argument("--preemption-bound", default=None,
                    help="dpor: frontrun's preemption_bound, an int or 'none' (default: frontrun's own, 2)")
    args = ap.parse_args(argv)

    out = {"tool": "frontrun", "strategy": args.strategy, "seed": args.seed, "found": False,
           "verdict": "error", "executions": None, "executions_to_bug": None,
           "seconds_to_bug": None, "seconds": None, "workers": None, "error": None}
    t0 = time.perf_counter()
    try:
        import frontrun
        out["frontrun_version"] = getattr(frontrun, "__version__", "?")
        prog = Program(args.script)
        setup, workers, invariant = build(prog)
        out["workers"] = len(workers)
        kw = dict(setup=setup, workers=workers, invariant=invariant, strategy=args.strategy,
                  total_timeout=args.timeout, reproduce_on_failure=0, deadlock_timeout=2.0,
                  timeout_per_run=10.0)
        if args.strategy == "dpor":
            kw.update(max_executions=args.budget)
            if args.preemption_bound is not None:
                bound = args.preemption_bound
                kw.update(preemption_bound=None if bound == "none" else int(bound))
        else:
            kw.update(max_attempts=args.budget, seed=args.seed)
        t1 = time.perf_counter()
        res = frontrun.explore(**kw)
        t2 = time.perf_counter()
        out["seconds"] = round(t2 - t0, 4)
        out["explore_seconds"] = round(t2 - t1, 4)  # explore() alone (bench/speed.py)
        out["executions"] = res.num_explored
        if res.property_holds is False:
            out["found"] = True
            out["verdict"] = "bug"
            n = res.failures[0][0] if res.failures else res.num_explored
            out["executions_to_bug"] = n
            out["seconds_to_bug"] = round(t2 - t1, 4)
            out["explanation"] = (res.explanation or "")[:600]
        elif res.property_holds is None:
            out["verdict"] = "inconclusive"
            out["error"] = (res.inconclusive_reason or "")[:300]
        else:
            out["verdict"] = "no-bug-found"
    except SystemExit as e:
        out["error"] = str(e)
    except BaseException as e:  # noqa: BLE001
        out["error"] = f"{type(e).__name__}: {e}"[:300]
        out["traceback"] = traceback.format_exc()[-1500:]
    if out["seconds"] is None:
        out["seconds"] = round(time.perf_counter() - t0, 4)
    with open(args.json, "w") as fh:
        json.dump(out, fh, indent=1)
    return 1 if out["found"] else 0


if __name__ == "__main__":
    sys.exit(main())
