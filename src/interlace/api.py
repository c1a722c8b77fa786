"""The Python API: explore the interleavings of a few functions from a test, or replay one.

``explore(setup, workers, invariant)`` is the library form of ``interlace run``: instead of a
script, the program of each execution is "build fresh state, run every worker on it in its own
thread, check the invariant".  It runs in a forked child like a script does (see
``docs/design.md``), so each execution starts from the caller's state as it was when
``explore`` was called, and nothing an execution does leaks into the next one or back into the
caller.  ``check`` does the same for a test function that starts its own threads.

Every failure found becomes a value (:class:`ExploreResult`), never an exception out of
``explore``: a test decides with ``result.assert_ok()`` whether to fail, and the message it
fails with is the report the command line prints, replay call included.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import io
import shlex
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence, TypeVar, Union, overload

from . import config as settings
from .config import DEFAULT, SearchConfig, search_config
from .engine import search as search_mod
from .engine.schedule import Schedule
from .engine.target import Target, code_hash
from .models import Model
from .outcome import FailureKind, SearchResult, StopReason, Verdict
from .pytest_session import pytest_session, raise_pytest_outcome, run_test_body
from .runtime import current

State = TypeVar("State")
F = TypeVar("F", bound=Callable[..., Any])

#: ``model=`` accepts a :class:`~interlace.models.Model` or its name (``"gil"``).
ModelLike = Union[Model, str]



@dataclass(frozen=True)
class Failure:
    """What went wrong in the failing interleaving (it happened in a child process, so the
    exception itself is gone; its type, message and traceback are kept as text)."""

    #: ``exception``, ``assertion``, ``invariant``, ``deadlock``, ``livelock``, ``exit``,
    #: ``hang`` (an execution exceeded its wall-clock limit), ``crash`` (the interpreter died)
    #: or ``internal-error`` (interlace itself failed); :class:`~interlace.outcome.FailureKind`
    #: says each in words (``FailureKind(kind).prose``).
    kind: FailureKind
    #: One line, e.g. ``ValueError: overdrawn (in thread withdraw-2)``.
    message: str
    #: The thread that failed (``MainThread`` for the invariant).
    thread: Optional[str]
    #: The traceback, or the deadlock's wait-for cycle; may be empty.
    traceback: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ExploreResult:
    """The outcome of :func:`explore`, :func:`replay`, :func:`replay_script` or a ``check``."""

    #: ``"bug"``, ``"no-bug-found"``, ``"verified"`` (a systematic search that ran out of
    #: interleavings to try), ``"setup-error"`` (the program fails before starting any thread)
    #: or ``"inconclusive"``: a :class:`~interlace.outcome.Verdict`, equal to those strings.
    verdict: Verdict
    #: Executions the search ran (not counting the ones spent minimizing a failure).
    executions: int
    failure: Optional[Failure]
    #: The replay token of the (minimized) failing interleaving.
    schedule: Optional[str]
    #: The exact call or command that replays ``schedule``.
    replay_call: Optional[str]
    #: The full report, as ``interlace run`` prints it: verdict, the interleaving of the
    #: conflicting accesses, the traceback and ``replay_call``; or, without a bug, how much was
    #: explored and under which model.
    report: str
    #: Caveats: code that ran outside interlace's control, potential deadlocks, ...
    warnings: tuple[str, ...]
    seconds: float
    #: The engine's own result (what ``interlace run --json`` is made from).
    raw: SearchResult = field(repr=False, compare=False)
    #: ``races=True``: the data races found (:class:`interlace.runtime.races.Race`: the
    #: location, both accesses, a replay token), one per pair of source lines.
    races: tuple = ()
    #: Without ``races=True``: data races the search's first recorded executions showed
    #: (:class:`interlace.engine.passing_races.SeenRace`).  A note (``report`` shows it), not
    #: a failure: ``ok`` does not look at them.
    races_seen: tuple = ()

    @property
    def ok(self) -> bool:
        """No failure and no data race was found.  This is not a proof: see ``report`` for
        what was explored."""
        return self.failure is None and not self.races

    @property
    def trace(self) -> str:
        """The readable report of the failure (``""`` when none was found)."""
        return "" if self.ok else self.report

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` with the full report and the replay call if a bug was found."""
        __tracebackhide__ = True  # pytest: point at the test's call, not here
        if not self.ok:
            raise AssertionError(self.report)

    def __str__(self) -> str:
        return self.report




# -- the public functions ---------------------------------------------------------------------

def explore(setup: Callable[[], State], workers: Sequence[Callable[[State], Any]],
            invariant: Optional[Callable[[State], Any]] = None, *,
            strategy: str = settings.DEFAULT_STRATEGY, budget: Optional[int] = None,
            seed: int = settings.DEFAULT_SEED, model: ModelLike = Model.FREE_THREADED,
            timeout: float = settings.DEFAULT_TIMEOUT, jobs: int = settings.DEFAULT_JOBS,
            include: Sequence[str] = (),
            preemptions: Union[int, None, str] = "default", races: bool = False) -> ExploreResult:
    """Search the interleavings of ``workers`` running concurrently on the state ``setup`` builds.

    Each execution calls ``setup()`` for fresh state, runs each worker as ``worker(state)`` in
    its own thread, and when all have finished checks ``invariant(state)``, which fails by
    raising (an ``assert``) or by returning a false value other than ``None``.  An uncaught
    exception in a worker, a deadlock, or a failed invariant is a bug; the search stops at the
    first, minimizes it and returns it (it does not raise: call ``assert_ok()`` for that).

    ``strategy`` (default ``"portfolio"``), ``budget`` (executions; default 10,000 for the
    portfolio, 1000 for pct and random, 100,000 for dpor), ``seed``, ``model``,
    ``timeout`` (seconds for the whole search), ``jobs`` (worker processes) and ``preemptions``
    (the bound of dpor and of the portfolio's systematic part: an int, ``None`` for none,
    default 2) mean what they mean for ``interlace run``; ``include`` names installed packages whose code gets switch points too (by default
    only code outside the standard library and site-packages does).

    ``races=True`` also reports data races: two threads accessing one location, at least one
    writing, with nothing ordering them (docs/races.md).  Each is in ``result.races`` and
    makes the result not ``ok``, whether or not anything failed.
    """
    _refuse_nesting("interlace.explore()")
    workers = _check_program(setup, workers, invariant)
    options = search_options(strategy=strategy, budget=budget, seed=seed, model=model,
                             timeout=timeout, jobs=jobs, include=include, preemptions=preemptions,
                             races=races)
    target = _explore_target(setup, workers, invariant)
    if races:  # its tokens replay with the races shown
        hint = target.replay_hint
        target = dataclasses.replace(target, replay_hint=lambda token: hint(token)[:-1] + ", races=True)")
    return run_search(search_config(target=target, **options))


def replay(schedule: str, setup: Callable[[], State], workers: Sequence[Callable[[State], Any]],
           invariant: Optional[Callable[[State], Any]] = None, *,
           include: Sequence[str] = (), races: bool = False) -> ExploreResult:
    """Re-run exactly the interleaving ``schedule`` (a token from :func:`explore`).

    ``setup``, ``workers`` and ``invariant`` must be the ones the token was recorded with:
    a token recorded for other code is refused with ``ValueError`` rather than followed into
    an unrelated interleaving.  ``races=True`` also reports the execution's data races.
    """
    _refuse_nesting("interlace.replay()")
    workers = _check_program(setup, workers, invariant)
    _parse_token(schedule)
    if not isinstance(races, bool):
        raise TypeError(f"races must be True or False, got {type(races).__name__}")
    config = SearchConfig(target=_explore_target(setup, workers, invariant),
                          include=settings.check_include(include), races=races)
    return run_replay(schedule, config)


def replay_script(schedule: str, path: str, argv: Sequence[str] = (), *,
                  include: Sequence[str] = ()) -> ExploreResult:
    """Re-run the interleaving ``schedule`` of the script at ``path`` (``interlace replay``)."""
    import os

    from .engine.replay import replay_script as replay_script_token
    _refuse_nesting("interlace.replay_script()")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be the path of a script, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise ValueError(f"path: script not found: {path}")
    if isinstance(argv, str):
        raise TypeError("argv must be a sequence of arguments, e.g. ['--fast'], not one string")
    _parse_token(schedule)
    config = SearchConfig(script=os.path.abspath(path), argv=tuple(str(a) for a in argv),
                          include=settings.check_include(include))
    return _to_result(replay_script_token(schedule, config))


@overload
def check(func: F, /) -> F: ...


@overload
def check(*, budget: Optional[int] = ..., strategy: str = ..., seed: int = ..., model: ModelLike = ...,
          timeout: float = ..., jobs: int = ..., include: Sequence[str] = ...,
          replay: Optional[str] = ...) -> Callable[[F], F]: ...


def check(func: Optional[F] = None, /, *, budget: Optional[int] = None,
          strategy: str = settings.DEFAULT_STRATEGY, seed: int = settings.DEFAULT_SEED,
          model: ModelLike = Model.FREE_THREADED, timeout: float = settings.DEFAULT_TIMEOUT,
          jobs: int = settings.DEFAULT_JOBS, include: Sequence[str] = (),
          replay: Optional[str] = None) -> Any:
    """Decorate a test that starts its own threads: calling it explores its interleavings.

    The function body runs as the main thread of each execution, so the threads it starts
    are the ones scheduled; it fails (``AssertionError`` with the report) if any interleaving
    raises, fails an ``assert`` or deadlocks.  Use as ``@interlace.check`` or
    ``@interlace.check(budget=500)``; ``replay="il1:..."`` re-runs one recorded interleaving
    instead of searching.  Arguments (pytest fixtures included) are passed through.
    """
    options = search_options(strategy=strategy, budget=budget, seed=seed, model=model,
                             timeout=timeout, jobs=jobs, include=include)
    if replay is not None:
        _parse_token(replay, "replay")

    def decorate(function: F) -> F:
        _check_callable(function, "the function decorated with @interlace.check")
        if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
            raise TypeError(f"@interlace.check cannot explore {function.__qualname__}: it is "
                            "async; interlace schedules threads, not event-loop tasks")

        @functools.wraps(function)
        def explored(*args: Any, **kwargs: Any) -> None:
            __tracebackhide__ = True  # pytest: the failure is the report, not this frame
            _refuse_nesting(f"@interlace.check test {function.__qualname__}")
            target = Target(run=lambda: run_test_body(function, args, kwargs),
                            code_hash=code_hash([function], extra=("check",)),
                            label=function.__qualname__, replay_hint=_check_replay_hint)
            config = search_config(target=target, **options)
            token = replay or pytest_session.replay_token
            result = run_replay(token, config) if token else run_search(config)
            raise_pytest_outcome(result)
            if not result.ok and pytest_session.html_dir is not None:
                from .report.html import write_test_report
                label = pytest_session.test_argument or function.__qualname__
                raise AssertionError(result.report + write_test_report(
                    result.raw, pytest_session.html_dir, label))
            result.assert_ok()

        explored.__interlace_explores__ = True  # type: ignore[attr-defined]
        return explored  # type: ignore[return-value]

    if func is not None:
        return decorate(func)
    return decorate


# -- shared with the pytest plugin ------------------------------------------------------------

def search_options(*, strategy: str, budget: Optional[int], seed: int, model: ModelLike,
                   timeout: float, jobs: int, include: Sequence[str],
                   preemptions: Union[int, None, str] = "default",
                   races: bool = False) -> dict[str, Any]:
    """Check search settings (:func:`interlace.config.search_config`, the one validation);
    return them as its keyword arguments, defaults filled in.

    Raises ``TypeError``/``ValueError`` naming the argument, before any execution starts.
    ``budget=None`` and ``preemptions="default"`` take the strategy's defaults.
    """
    if not isinstance(races, bool):
        raise TypeError(f"races must be True or False, got {type(races).__name__}")
    config = search_config(strategy=strategy, budget=budget, seed=seed, model=model,
                           timeout=timeout, jobs=jobs, include=include,
                           preemptions=DEFAULT if preemptions == "default" else preemptions,
                           races=races)
    return dict(strategy=config.strategy, budget=config.budget, seed=config.seed,
                model=config.model, timeout=config.timeout, jobs=config.jobs,
                include=config.include, preemptions=config.preemptions, races=config.races)


def run_search(config: SearchConfig) -> ExploreResult:
    result = search_mod.search(config)
    if result.stopped_by is StopReason.INTERRUPT and not result.found:
        # The engine turns Ctrl-C into "stopped early" for the command line's report; in a
        # test run or a program it must stop the caller, not look like a passing search.
        raise KeyboardInterrupt
    return _to_result(result)


def run_replay(token: str, config: SearchConfig) -> ExploreResult:
    """Replay ``token`` against ``config.target``; ``ValueError`` if it was recorded for other code."""
    from .engine.replay import replay_target
    return _to_result(replay_target(token, config))


def render(result: SearchResult) -> str:
    """The terminal report of ``result`` as plain text (no colors, no terminal needed)."""
    from rich.console import Console

    from .report.console import print_result
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None, highlight=False, emoji=False,
                      force_terminal=False, soft_wrap=True)  # never a newline inside a sentence
    print_result(result, console)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip() + "\n"


# -- building the program of one execution ----------------------------------------------------

def _explore_target(setup: Callable[[], Any], workers: list[Callable[[Any], Any]],
                    invariant: Optional[Callable[[Any], Any]]) -> Target:
    names = [_thread_name(worker, index) for index, worker in enumerate(workers, 1)]

    def execution() -> None:
        state = setup()
        threads = [threading.Thread(target=worker, args=(state,), name=name)
                   for worker, name in zip(workers, names)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if invariant is not None:
            _check_invariant(invariant, state)

    parts = [setup, *workers] + ([invariant] if invariant is not None else [])
    call_arguments = replay_arguments(setup, workers, invariant)
    return Target(run=execution, code_hash=code_hash(parts, extra=("explore",)),
                  label=f"explore({call_arguments or 'setup, workers, invariant'})",
                  replay_hint=lambda token: replay_hint(token, call_arguments))


def replay_arguments(setup: Callable[[], Any], workers: Sequence[Callable[[Any], Any]],
                     invariant: Optional[Callable[[Any], Any]]) -> Optional[str]:
    """``setup, [Counter.increment, Counter.increment], check``: the arguments as a caller
    would type them (qualified names: a method is ``Counter.increment``),
    or ``None`` when one of them has no name to type (a lambda, a local function, a partial)."""
    names = [_typeable_name(f) for f in [setup, *workers]]
    if invariant is not None:
        names.append(_typeable_name(invariant))
    if any(name is None for name in names):
        return None
    listed = "[" + ", ".join(names[1:1 + len(workers)]) + "]"
    return ", ".join([names[0], listed] + names[1 + len(workers):])


def replay_hint(token: str, call_arguments: Optional[str]) -> str:
    """A line to paste: with the arguments spelled out when they can be, else with a comment
    saying which ones (a lambda cannot be named)."""
    if call_arguments is not None:
        return f"interlace.replay({token!r}, {call_arguments})"
    return (f"interlace.replay({token!r}, setup, workers, invariant)  "
            "# the same setup, workers and invariant as the explore() call")


def _typeable_name(function: Any) -> Optional[str]:
    """``Counter.increment`` or ``worker``; ``None`` for lambdas, local functions, partials."""
    name = getattr(function, "__qualname__", None)
    if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
        return None
    return name


def _check_invariant(invariant: Callable[[Any], Any], state: Any) -> None:
    """Runs in the execution's main thread after every worker finished."""
    name = _source_name(invariant, "")
    which = f"invariant {name}()" if name else "the invariant"
    try:
        verdict = invariant(state)
    except Exception as exc:  # noqa: BLE001 - an assert or any error in the check is its failure
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        _fail_invariant(f"{which} failed: {message}", _traceback_text(exc))
        return
    if verdict is not None and not verdict:
        _fail_invariant(f"{which} returned {verdict!r} for state {_short_repr(state)}", "")


def _fail_invariant(summary: str, details: str) -> None:
    sched = current.scheduler
    if sched is None:  # not inside an execution: cannot happen through explore()
        raise AssertionError(summary)
    sched.fail(FailureKind.INVARIANT, summary, details)


def _traceback_text(exc: BaseException) -> str:
    from .hooks.scope import PACKAGE_DIR
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(PACKAGE_DIR)]
    return ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
            + "".join(traceback.format_exception_only(type(exc), exc)))


def _check_replay_hint(token: str) -> str:
    if pytest_session.test_argument is not None:
        return f"pytest --interlace-replay {token} {shlex.quote(pytest_session.test_argument)}"
    return f"@interlace.check(replay={token!r})"


def _to_result(result: SearchResult) -> ExploreResult:
    failure = None
    if result.found or result.verdict is Verdict.SETUP_ERROR:
        failure = Failure(result.kind or FailureKind.EXCEPTION, result.summary or "",
                          result.failure.thread if result.failure is not None else None,
                          result.details)
    replay_call = None
    if result.found and result.schedule is not None:
        from .report.console import replay_command
        replay_call = replay_command(result)
    report = render(result) if failure is None or failure.kind != FailureKind.PYTEST_OUTCOME else failure.message
    return ExploreResult(result.verdict, result.executions, failure,
                         result.schedule.token() if result.found and result.schedule else None,
                         replay_call, report, tuple(result.warnings) + tuple(
                             f"potential deadlock (lock-order inversion): {p}"
                             for p in result.potential_deadlocks),
                         result.seconds, result, tuple(result.races), tuple(result.races_seen))


# -- argument checks: clear errors before anything runs --------------------------------------

class NestedExploration(RuntimeError):
    """``explore``/``replay``/``check`` called inside an execution: explorations do not nest."""


def _refuse_nesting(what: str) -> None:
    if current.scheduler is not None:
        raise NestedExploration(
            f"{what} was called inside an execution that interlace already controls (a test "
            "run by `pytest --interlace`, or a worker of another explore()); explorations do "
            "not nest. Mark the test @pytest.mark.interlace_skip, or call it from the test itself.")


def _check_program(setup: Any, workers: Any, invariant: Any) -> list[Callable[[Any], Any]]:
    _check_callable(setup, "setup")
    if callable(workers):
        raise TypeError("workers must be a list of callables, got a single callable: "
                        "pass [worker, worker] to run it in two threads")
    if isinstance(workers, (str, bytes)) or not isinstance(workers, Iterable):
        raise TypeError(f"workers must be a list of callables, got {type(workers).__name__}")
    workers = list(workers)
    if not workers:
        raise ValueError("workers is empty: pass at least one callable (two to find races)")
    for index, worker in enumerate(workers):
        _check_callable(worker, f"workers[{index}]")
    if invariant is not None:
        _check_callable(invariant, "invariant")
    return workers


def _check_callable(value: Any, name: str) -> None:
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__} {_short_repr(value)}")


def _parse_token(token: Any, name: str = "schedule") -> Schedule:
    if not isinstance(token, str):
        raise TypeError(f"{name} must be a replay token string, got {type(token).__name__}")
    try:
        return Schedule.parse(token)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


# -- naming ------------------------------------------------------------------------------------

def _source_name(function: Any, fallback: str) -> str:
    """The name a caller would type for ``function``, or ``fallback`` (lambdas, partials...)."""
    name = getattr(function, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else fallback


def _thread_name(worker: Any, index: int) -> str:
    return f"{_source_name(worker, 'worker')}-{index}"


def _short_repr(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real message
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[:limit - 3] + "..."
