"""``interlace.check_linearizable``: is a class safe to share between threads?

The question is answered from the operations alone, as JetBrains' Lincheck does for the JVM:
run small concurrent *scenarios* (each thread calls a few operations on one shared object),
explore each scenario's interleavings with interlace's own search, and check that every
outcome could have come from some sequential order of the same calls.

Where the check runs.  Each execution is a forked child (``docs/design.md``).  The
concurrent calls and their results live there, and results may be anything (unpicklable
objects, exceptions), so the history is judged there, in the main thread after every worker
joined, as ``explore``'s invariant is.  That makes a non-linearizable history an ordinary
failure of the execution: the search stops at it, shrinks its interleaving and records its
trace and replay token as for any bug.  The sequential replays the judgement needs run on
fresh ``factory()`` objects in that child, *unobserved*: no other thread is alive, the
scheduler records nothing and counts no step (so the replayed schedule and its token are
those of the concurrent part alone), and the parent process never runs the program's code.
Only text comes back to the parent: the failure's report, and the failing history's rows
(:class:`~interlace.lincheck.history.HistoryRow`), written to a file by one more replay of
the final token.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, Union

from .. import api
from ..api import ExploreResult, Failure, ModelLike
from ..config import check_int
from ..engine import search as search_mod
from ..engine.search import SearchConfig
from ..engine.target import Target, code_hash
from ..models import Model
from ..runtime import current
from .checker import Verdict, check_history
from .history import Call, History, Raised, Result, Returned, rows_of, same_result
from .operations import Operations, OperationsLike, parse_operations
from .scenarios import Scenario, plan, smaller, systematic_count

#: Default executions per scenario for the sampling strategies (a scenario is small: a few
#: calls, a few dozen scheduling points).  DPOR stops when a scenario's interleavings run out.
DEFAULT_SCENARIO_BUDGET = 100
DEFAULT_SCENARIOS = 30
#: Up to this many calls, one after another, before the threads start (Lincheck's "init part").
DEFAULT_INIT_OPS = 1
DEFAULT_STRATEGY = "dpor"
#: Random-walk executions per scenario after a DPOR search that found nothing (see
#: ``_Checker.search``).
RANDOM_AFTER_DPOR = 10
#: Failure kind of a non-linearizable history: the check is the execution's invariant.
KIND = "invariant"
SUMMARY = "not linearizable"


@dataclass(frozen=True)
class LinearizabilityResult:
    """The outcome of :func:`check_linearizable`."""

    #: ``"not-linearizable"``; ``"bug"`` (an execution failed otherwise: a deadlock, an
    #: exception escaping the check); or ``"no-violation-found"``.
    verdict: str
    #: The (minimized) failing scenario, ``None`` when nothing failed.
    scenario: Optional[Scenario]
    #: The failing execution's calls: ``str(history)`` is the table of thread, operation,
    #: result and order.  ``None`` when nothing failed, or when the failure was not a
    #: history that could be judged (a deadlock, say).
    history: Optional[History]
    failure: Optional[Failure]
    #: The replay token of the failing interleaving of ``scenario``, and the call replaying it.
    schedule: Optional[str]
    replay_call: Optional[str]
    #: Scenarios searched (not counting the ones tried while minimizing), and their executions.
    scenarios: int
    executions: int
    #: Every interleaving of every scenario searched was explored (``strategy="dpor"``
    #: searches that ran out of interleavings, within its preemption bound).
    exhaustive: bool
    #: Everything, as ``assert_ok()`` raises it: verdict, scenario, history, interleaving,
    #: replay call; or, without a failure, how much was checked.
    report: str
    warnings: tuple[str, ...]
    seconds: float
    #: The scenario as first found, before it was minimized.
    found_scenario: Optional[Scenario] = None
    #: The search of the failing scenario (its interleaving is ``search.trace``).
    search: Optional[ExploreResult] = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """No failure was found.  Not a proof: ``report`` says what was checked."""
        return self.failure is None

    @property
    def trace(self) -> str:
        """The failing interleaving's report (``""`` when nothing failed)."""
        return self.search.report if self.search is not None and not self.ok else ""

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` with the scenario, history, interleaving and replay call."""
        __tracebackhide__ = True  # pytest: point at the test's call, not here
        if not self.ok:
            raise AssertionError(self.report)

    def __str__(self) -> str:
        return self.report


def check_linearizable(factory: Callable[[], Any], operations: OperationsLike, *,
                       threads: int = 2, ops_per_thread: int = 2,
                       init_ops: int = DEFAULT_INIT_OPS,
                       scenarios: int = DEFAULT_SCENARIOS, seed: int = 0,
                       budget: Optional[int] = None, strategy: str = DEFAULT_STRATEGY,
                       model: ModelLike = Model.FREE_THREADED,
                       timeout: float = search_mod.DEFAULT_TIMEOUT, jobs: int = 1,
                       include: Sequence[str] = (),
                       preemptions: Union[int, None, str] = "default",
                       scenario: Union[Sequence[Sequence[Union[str, int]]],
                                       Mapping[str, Any], None] = None,
                       replay: Optional[str] = None) -> LinearizabilityResult:
    """Check that ``factory()``'s objects are linearizable under ``operations``.

    Each scenario gives each of ``threads`` threads a few of the ``operations`` (callables
    taking the object and returning a value; a dict name -> callable names them in reports)
    to call on one fresh object, after up to ``init_ops`` calls made one after another before
    the threads start.  Small scenarios are tried first, systematically, then random ones
    of ``ops_per_thread`` operations per thread from ``seed``; ``scenarios`` is how many in
    all.  Each scenario's interleavings are searched as by
    :func:`interlace.explore` (``strategy``, ``budget`` -- executions *per scenario*,
    default 100, or DPOR's until its interleavings run out -- ``model``, ``jobs``,
    ``include``, ``preemptions``), and every execution's history is checked: some order of
    its calls that keeps real-time order must give the same results (``==``; an exception
    by type and message) when replayed one by one on a fresh ``factory()``.

    The first failing scenario is minimized (fewer threads, fewer operations) and returned
    with its history, interleaving and replay call; ``assert_ok()`` raises with all of it.
    ``timeout`` bounds the search in seconds (minimizing a failure may take up to half as
    long again).  ``scenario=[["put", "get"], ["get"]]`` (names or indices; with an init part
    ``{"init": ["put"], "threads": [["get"], ["get"]]}``) checks only that scenario, and with
    ``replay=TOKEN`` re-runs one recorded interleaving of it.
    """
    __tracebackhide__ = True
    api._refuse_nesting("interlace.check_linearizable()")
    started = time.monotonic()
    api._check_callable(factory, "factory")
    ops = parse_operations(operations)
    check_int(threads, "threads", minimum=2)
    check_int(ops_per_thread, "ops_per_thread", minimum=1)
    check_int(init_ops, "init_ops", minimum=0)
    check_int(scenarios, "scenarios", minimum=1)
    if budget is None and strategy != "dpor":
        budget = DEFAULT_SCENARIO_BUDGET
    options = api.search_options(strategy=strategy, budget=budget, seed=seed, model=model,
                                 timeout=timeout, jobs=jobs, include=include,
                                 preemptions=preemptions)
    chosen = _parse_scenario(scenario, ops) if scenario is not None else None
    if replay is not None:
        api._parse_token(replay, "replay")
        if chosen is None:
            raise ValueError("replay needs the scenario it was recorded for: pass the "
                             "scenario=... of the report's replay call too")
    checker = _Checker(factory, ops, options, started)
    if replay is not None:
        return checker.replay(chosen, replay)
    if chosen is not None:
        return checker.run([chosen.key], shrink=False, shape=None)
    planned = plan(len(ops.functions), threads, ops_per_thread, scenarios, seed, init_ops)
    everything = systematic_count(len(ops.functions), threads, ops_per_thread,
                                  init_ops) <= scenarios
    return checker.run(planned, shrink=True,
                       shape=(threads, ops_per_thread, init_ops, everything))


# -- the parent: scenarios, searches, minimizing -------------------------------------------------

class _Checker:
    def __init__(self, factory: Callable[[], Any], ops: Operations, options: dict,
                 started: float) -> None:
        self.factory = factory
        self.ops = ops
        self.options = options
        self.started = started
        self.deadline = started + options["timeout"]
        self.factory_name = api._source_name(factory, "factory")

    # one scenario

    def target(self, scenario: Scenario, capture: Optional[str] = None) -> Target:
        hash_ = code_hash([self.factory, *self.ops.functions],
                          extra=("linearizable", repr(scenario.key)))
        call = f"interlace.check_linearizable({self.factory_name}, operations, " \
               f"scenario={scenario.argument()}"
        return Target(run=_program(self.factory, self.ops, scenario, capture), code_hash=hash_,
                      label=f"check_linearizable({self.factory_name}, ...) scenario "
                            f"{scenario.argument()}",
                      replay_hint=lambda token: f"{call}, replay={token!r})")

    def search(self, scenario: Scenario, deadline: float) -> "_Searched":
        """Search one scenario; after a DPOR search that found nothing, a few random walks.

        DPOR reorders only the accesses interlace records; an access it does not see (the
        truth value of a list read by ``if self.items:``, say) can hide a race from it, never
        from a random walk.  The walks are cheap next to a missed bug.
        """
        searched = _Searched(None, 0, False, False, [])
        for options in self.portfolio():
            left = deadline - time.monotonic()
            if searched.result is not None and left <= 0:
                searched.timed_out = True
                break
            config = SearchConfig(target=self.target(scenario),
                                  **dict(options, timeout=max(1.0, left)))
            result = api.run_search(config)
            searched.result = result
            searched.executions += result.executions
            _add(searched.warnings, result.warnings)
            if options["strategy"] == "dpor":
                searched.exhaustive = result.verdict == "verified"
            searched.timed_out = result.raw.stopped_by == "timeout"
            if not result.ok or searched.timed_out:
                break
        return searched

    def portfolio(self) -> list[dict]:
        if self.options["strategy"] != "dpor" or not RANDOM_AFTER_DPOR:
            return [self.options]
        walks = dict(self.options, strategy="random", budget=RANDOM_AFTER_DPOR, preemptions=None)
        return [self.options, walks]

    def history(self, scenario: Scenario, token: str) -> tuple[Optional[History], ExploreResult]:
        """Replay ``token`` once more, writing the failing history's rows to a file."""
        folder = tempfile.mkdtemp(prefix="interlace-lincheck-")
        path = os.path.join(folder, "history")
        try:
            config = SearchConfig(target=self.target(scenario, capture=path),
                                  include=self.options["include"])
            replayed = api.run_replay(token, config)
            if not os.path.exists(path):
                return None, replayed
            with open(path, "rb") as stream:
                return History(pickle.load(stream)), replayed
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def scenario(self, key: tuple) -> Scenario:
        return Scenario.of(key, self.ops.names)

    # the whole check

    def run(self, planned: list[tuple], shrink: bool, shape: Optional[tuple]
            ) -> LinearizabilityResult:
        executions = 0
        searched = 0
        exhaustive = True
        warnings: list[str] = []
        stopped = "all"
        for key in planned:
            if time.monotonic() >= self.deadline and searched:
                stopped = "timeout"
                break
            scenario = self.scenario(key)
            outcome = self.search(scenario, self.deadline)
            searched += 1
            executions += outcome.executions
            exhaustive = exhaustive and outcome.exhaustive
            _add(warnings, outcome.warnings)
            if not outcome.result.ok:
                return self.failed(scenario, outcome.result, shrink, searched, executions,
                                   warnings)
            if outcome.timed_out:
                stopped = "timeout"
                break
        return self.passed(searched, len(planned), executions, exhaustive, warnings, stopped,
                           shape)

    def failed(self, scenario: Scenario, result: ExploreResult, shrink: bool, searched: int,
               executions: int, warnings: list[str]) -> LinearizabilityResult:
        found = scenario
        tried = 0
        if shrink:
            scenario, result, tried = self.minimize(scenario, result)
            _add(warnings, result.warnings)
        history, replayed = self.history(scenario, result.schedule) if result.schedule \
            else (None, None)
        if replayed is not None and (replayed.failure is None
                                     or replayed.failure.kind != result.failure.kind):
            _add(warnings, ["replaying the failing interleaving once more did not fail the same "
                            "way (the operations may be nondeterministic): no history shown"])
            history = None
        return self.finish(scenario, result, history, searched, executions, warnings,
                           found=found, tried=tried)

    def minimize(self, scenario: Scenario, result: ExploreResult
                 ) -> tuple[Scenario, ExploreResult, int]:
        """Fewer threads, fewer operations, while the scenario still fails the same way."""
        kind = result.failure.kind
        deadline = time.monotonic() + max(10.0, self.options["timeout"] / 2)
        tried = 0
        improved = True
        while improved:
            improved = False
            for key in smaller(scenario.key):
                if time.monotonic() >= deadline:
                    return scenario, result, tried
                candidate = self.scenario(key)
                attempt = self.search(candidate, deadline).result
                tried += 1
                if attempt.failure is not None and attempt.failure.kind == kind:
                    scenario, result, improved = candidate, attempt, True
                    break
        return scenario, result, tried

    def replay(self, scenario: Scenario, token: str) -> LinearizabilityResult:
        history, result = self.history(scenario, token)
        if result.ok:
            return self.passed(1, 1, 1, False, list(result.warnings), "replay", None,
                               replayed=result)
        return self.finish(scenario, result, history, 1, 1, list(result.warnings))

    # reports

    def finish(self, scenario: Scenario, result: ExploreResult, history: Optional[History],
               searched: int, executions: int, warnings: list[str], found: Optional[Scenario] = None,
               tried: int = 0) -> LinearizabilityResult:
        failure = result.failure
        linearizability = failure.kind == KIND and failure.message.startswith(SUMMARY)
        verdict = "not-linearizable" if linearizability else "bug"
        head = (f"NOT LINEARIZABLE: {self.factory_name}" if linearizability else
                f"BUG FOUND while checking linearizability of {self.factory_name}")
        lines = [head, "", f"Scenario ({scenario.shape()}):"]
        lines += [f"  {line}" for line in str(scenario).splitlines()]
        if found is not None and found.key != scenario.key:
            lines.append(f"  minimized from {found.shape()} ({found.argument()}) with {tried} "
                         "more scenario searches")
        if found is not None:
            lines.append(f"  found in scenario {searched} after {executions} executions")
        lines += ["", result.report.rstrip()]
        lines += [f"warning: {w}" for w in warnings if w not in result.report]
        report = "\n".join(lines) + "\n"
        return LinearizabilityResult(
            verdict, scenario, history, failure, result.schedule, result.replay_call, searched,
            executions, False, report, tuple(warnings), time.monotonic() - self.started,
            found_scenario=found, search=result)

    def passed(self, searched: int, planned: int, executions: int, exhaustive: bool,
               warnings: list[str], stopped: str, shape: Any,
               replayed: Optional[ExploreResult] = None) -> LinearizabilityResult:
        seconds = time.monotonic() - self.started
        options = self.options
        if replayed is not None:
            report = (f"The replayed interleaving did not fail: no linearizability violation "
                      f"in it.\n{replayed.report}")
        else:
            what = f"{searched} scenario{'s' if searched != 1 else ''}"
            if shape is not None:
                threads, per_thread, init_ops, everything = shape
                after = f", after 0 to {init_ops} init calls" if init_ops else ""
                what += (f" (every scenario of {threads} threads x 1 to {per_thread} operations"
                         f"{after})" if everything and searched == planned else
                         f" (the smallest first, then random ones of {threads} threads x "
                         f"{per_thread} operations{after}; {planned} planned)")
            how = (f"every interleaving of each explored ({_bound(options)})" if exhaustive
                   else f"strategy {options['strategy']}, up to {options['budget']} executions each")
            if len(self.portfolio()) > 1:
                how += f", then {RANDOM_AFTER_DPOR} random walks each"
            why = {"timeout": f"; the {options['timeout']:g} s time limit was reached",
                   "all": ""}.get(stopped, "")
            report = (f"No linearizability violation found in {what}: {executions} executions, "
                      f"{how}, model {options['model'].value}, seed {options['seed']}, "
                      f"{seconds:.1f} s{why}.\nThis is not a proof: larger scenarios, or other "
                      "interleavings, may still fail.\n")
        for warning in warnings:
            report += f"warning: {warning}\n"
        return LinearizabilityResult(
            "no-violation-found", None, None, None, None, None, searched, executions,
            exhaustive, report, tuple(warnings), seconds)


@dataclass
class _Searched:
    """The searches of one scenario: the last (or failing) result, and what they covered."""

    result: Optional[ExploreResult]
    executions: int
    #: DPOR explored every interleaving (within its bound).
    exhaustive: bool
    timed_out: bool
    warnings: list[str]


def _bound(options: dict) -> str:
    bound = options.get("preemptions")
    return f"preemption bound {bound}" if bound is not None else "no preemption bound"


def _add(warnings: list[str], more: Sequence[str]) -> None:
    for warning in more:
        if warning not in warnings:
            warnings.append(warning)


def _parse_scenario(scenario: Any, ops: Operations) -> Scenario:
    """``[[...], [...]]`` (the threads) or ``{"init": [...], "threads": [[...], [...]]}``."""
    init: tuple[int, ...] = ()
    if isinstance(scenario, Mapping):
        unknown = sorted(set(scenario) - {"init", "threads"})
        if unknown or "threads" not in scenario:
            raise ValueError("scenario as a dict has the keys 'threads' and optionally 'init', "
                             f"got {sorted(scenario)}")
        raw_init = scenario.get("init", [])
        if isinstance(raw_init, (str, bytes)) or not isinstance(raw_init, (list, tuple)):
            raise TypeError("scenario['init'] must be a list of operation names or indices")
        init = tuple(ops.index(op, "scenario['init']") for op in raw_init)
        scenario = scenario["threads"]
    if isinstance(scenario, (str, bytes)) or not isinstance(scenario, (list, tuple)):
        raise TypeError("scenario must be a list of threads, each a list of operation names "
                        f"or indices, e.g. [['put', 'get'], ['get']]; got {type(scenario).__name__}")
    if not scenario:
        raise ValueError("scenario is empty: give at least one thread")
    threads = []
    for t, thread in enumerate(scenario):
        if isinstance(thread, (str, bytes)) or not isinstance(thread, (list, tuple)):
            raise TypeError(f"scenario[{t}] must be a list of operation names or indices, "
                            f"got {type(thread).__name__}")
        if not thread:
            raise ValueError(f"scenario[{t}] is empty: every thread runs at least one operation")
        threads.append(tuple(ops.index(op, f"scenario[{t}]") for op in thread))
    return Scenario(tuple(threads), ops.names, init)


# -- the child: one execution of a scenario -------------------------------------------------------

def _program(factory: Callable[[], Any], ops: Operations, scenario: Scenario,
             capture: Optional[str]) -> Callable[[], None]:
    """The main thread's body of one execution: the concurrent calls, then the judgement."""
    functions = ops.functions

    def execution() -> None:
        shared = factory()
        clock = itertools.count(1)  # only one thread runs at a time: this is real-time order

        raw: list[list[tuple]] = [[] for _ in scenario.thread_names]

        def calls(t: int, sequence: tuple[int, ...]) -> None:
            for op in sequence:
                called = next(clock)
                try:
                    outcome: tuple = (True, functions[op](shared))
                except Exception as exc:  # noqa: BLE001 - an exception is the call's result
                    outcome = (False, exc)
                raw[t].append((op, outcome, called, next(clock)))

        def thread_body(t: int) -> None:
            calls(t, scenario.ops[t])

        calls(len(scenario.ops), scenario.init)  # the init part, before any thread starts

        workers = [threading.Thread(target=thread_body, args=(t,), name=name)
                   for t, name in enumerate(scenario.thread_names[:len(scenario.ops)])]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        with _unobserved():
            failure = _judge(factory, ops, scenario, raw, capture)
        if failure is not None:
            current.scheduler.fail(KIND, *failure)

    return execution


def _judge(factory: Callable[[], Any], ops: Operations, scenario: Scenario, raw: list,
           capture: Optional[str]) -> Optional[tuple[str, str]]:
    """``None`` if the history is linearizable, else the failure's summary and details."""
    calls = [Call(t, op, Returned(value) if ok else Raised.of(value), called, returned)
             for t, thread in enumerate(raw) for op, (ok, value), called, returned in thread]
    verdict = check_history(calls, SequentialSpec(factory, ops.functions))
    if verdict.linearizable:
        return None
    rows = rows_of(calls, scenario.thread_names, ops.names)
    if capture is not None:
        _write(capture, rows)
    return (f"{SUMMARY}: no order of the {len(calls)} calls that respects real time gives "
            "the results they had",
            "History (order: when each call started -> returned):\n"
            + _indent(str(History(rows))) + "\n"
            + explain(verdict, calls, scenario.thread_names, ops.names))


class SequentialSpec:
    """The sequential results: sequences of operations replayed on fresh objects, cached.

    ``spec(sequence)`` is the result of the sequence's last operation; one replay fills in
    every prefix.  A prefix that replays to a different result than before means the
    operations are not deterministic on their own, and nothing can be concluded.
    """

    def __init__(self, factory: Callable[[], Any], functions: Sequence[Callable[[Any], Any]]):
        self.factory = factory
        self.functions = functions
        self.results: dict[tuple[int, ...], Result] = {}
        self.replays = 0

    def __call__(self, sequence: tuple[int, ...]) -> Result:
        known = self.results.get(sequence)
        if known is not None:
            return known
        self.replays += 1
        shared = self.factory()
        for length in range(1, len(sequence) + 1):
            try:
                result: Result = Returned(self.functions[sequence[length - 1]](shared))
            except Exception as exc:  # noqa: BLE001 - an exception is the call's result
                result = Raised.of(exc)
            prefix = sequence[:length]
            before = self.results.setdefault(prefix, result)
            if before is not result and not same_result(before, result):
                raise NondeterministicOperations(
                    "the operations give different results when the same sequence runs twice "
                    f"on fresh objects (operation indices {list(prefix)}: {before.text()}, "
                    f"then {result.text()}); linearizability cannot be judged")
        return self.results[sequence]


class NondeterministicOperations(Exception):
    """The sequential replays disagree with themselves (randomness, time, shared state)."""


@contextlib.contextmanager
def _unobserved() -> Iterator[None]:
    """Judge the history outside the schedule: record nothing, count no step.

    Every worker has finished, so the main thread is alone and no choice can arise; what is
    left is the recorder (``_recording`` makes the hooks return at once, as they do inside
    the recorder itself) and the livelock bound (a long judgement's lock acquisitions must
    not count as scheduling points).  A sequential replay that blocks forever is reported as
    a deadlock of the thread named here.
    """
    sched = current.scheduler
    if sched is None:
        yield
        return
    saved = (sched._recording, sched.max_steps, sched.threads[0].name)
    sched._recording = True
    sched.max_steps = sys.maxsize
    sched.threads[0].name = "MainThread (sequential replay of check_linearizable)"
    try:
        yield
    finally:
        sched._recording, sched.max_steps, sched.threads[0].name = saved


def _write(path: str, rows: list) -> None:
    temporary = f"{path}.{os.getpid()}"
    with open(temporary, "wb") as stream:
        pickle.dump(rows, stream)
    os.replace(temporary, path)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def explain(verdict: Verdict, calls: Sequence[Call], thread_names: Sequence[str],
            op_names: Sequence[str]) -> str:
    """Why no order works: the longest order that matched, and what each next call would give."""
    def name(i: int) -> str:
        return f"{thread_names[calls[i].thread]} {op_names[calls[i].op]}"

    if verdict.order:
        steps = ", ".join(f"{name(i)} -> {calls[i].result.text()}" for i in verdict.order)
        lines = [f"The longest order that gives the recorded results: {steps}.",
                 "After it, no call can come next:"]
    else:
        lines = ["No call can come first:"]
    for mismatch in verdict.mismatches:
        lines.append(f"  {name(mismatch.call)} would give {mismatch.sequential.text()} there, "
                     f"but gave {calls[mismatch.call].result.text()}")
    if not verdict.mismatches:
        lines.append("  (the calls real time allows next lead to dead ends further on)")
    return "\n".join(lines)
