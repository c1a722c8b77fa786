"""pytest plugin: ``pytest --interlace`` searches the thread interleavings of every test.

Each test runs as ``--interlace-threads`` concurrent copies of itself (the idea of
pytest-run-parallel), and any threads the test starts are scheduled too, but instead of
letting the OS pick one interleaving per run, interlace searches them: every execution is a
fork of the pytest process with its own schedule, the first failing one is minimized, and the
test fails with the interleaving and the command that replays it.  See ``docs/pytest.md``.

Fixtures are set up once, by pytest, in this process; each execution is a fork, so each one
starts from a fresh copy-on-write copy of the fixtures' objects.

Registered through the ``pytest11`` entry point, so it is loaded before conftest files and
test modules are imported: with ``--interlace`` it swaps ``threading``'s lock factories for
interlace's right away, and locks created at import time (``_lock = threading.Lock()`` at
module level) are ones the scheduler controls.  Without the flag it changes nothing.
"""

from __future__ import annotations

import argparse
import inspect
import os
import shlex
import threading
import types
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pytest

from . import api, config as search_settings
from ._args import positive_float as _positive_float, positive_int as _positive_int
from .pytest_session import pytest_session, raise_pytest_outcome, run_test_body
from .config import search_config
from .engine.schedule import Schedule
from .engine.target import Target, code_hash, code_of
from .models import Model

DEFAULT_THREADS = 2
#: Smaller than ``interlace run``'s: this is per test, for a whole test suite.
DEFAULT_BUDGET = search_settings.PYTEST_BUDGET
DEFAULT_TIMEOUT = search_settings.PYTEST_TIMEOUT
DEFAULT_STRATEGY = search_settings.DEFAULT_STRATEGY
#: Markers that make a test run once, as usual (``thread_unsafe`` is pytest-run-parallel's).
SKIP_MARKERS = ("interlace_skip", "thread_unsafe")
#: Fixtures that hold per-test global state which concurrent copies would garble (as in
#: pytest-run-parallel): tests using them run once, as usual.
THREAD_UNSAFE_FIXTURES = frozenset({"capsys", "capsysbinary", "capfd", "capfdbinary", "caplog",
                                    "recwarn"})
MARKER_ARGUMENTS = ("threads", "budget", "strategy", "model", "seed", "timeout",
                    "assume_no_timeouts", "races")
_NOT_ACTIVE = ""


class InterlaceWarning(UserWarning):
    """A caveat about an exploration: code that ran outside control, a potential deadlock..."""


@dataclass(frozen=True)
class Settings:
    """The command line's interlace options, once validated."""

    enabled: bool
    threads: int
    budget: int
    strategy: str
    model: Model
    seed: int
    timeout: float
    include: tuple[str, ...]
    replay: Optional[str]
    #: ``--interlace-html DIR``: one HTML report per failing test, in this folder.
    html: Optional[str] = None
    assume_no_timeouts: bool = False
    races: bool = False

    @property
    def active(self) -> bool:
        return self.enabled or self.replay is not None


_SETTINGS = pytest.StashKey[Settings]()
#: set on an item that reached ``pytest_pyfunc_call``: a ``unittest.TestCase`` method, a doctest
#: or another plugin's item never does, and must not pass as explored
_VISITED = pytest.StashKey[bool]()


# -- options and markers -----------------------------------------------------------------------

def _model(text: str) -> Model:
    try:
        return Model.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("interlace", "interlace: search the thread interleavings of tests")
    group.addoption("--interlace", action="store_true", default=False,
                    help="run every test as concurrent copies of itself (and its own threads) "
                         "under interlace's scheduler, searching interleavings")
    group.addoption("--interlace-threads", type=_positive_int, default=None, metavar="N",
                    help=f"concurrent copies of each test (default: {DEFAULT_THREADS})")
    group.addoption("--interlace-budget", type=_positive_int, default=DEFAULT_BUDGET, metavar="N",
                    help=f"executions per test (default: {DEFAULT_BUDGET})")
    group.addoption("--interlace-strategy", choices=search_settings.STRATEGIES,
                    default=DEFAULT_STRATEGY, help=f"search strategy (default: {DEFAULT_STRATEGY})")
    group.addoption("--interlace-model", type=_model, default=Model.FREE_THREADED, metavar="MODEL",
                    help="switch model: free-threaded (default), gil, gil-3.9")
    group.addoption("--interlace-seed", type=int, default=search_settings.DEFAULT_SEED, metavar="N",
                    help=f"random seed (default: {search_settings.DEFAULT_SEED})")
    group.addoption("--interlace-timeout", type=_positive_float, default=DEFAULT_TIMEOUT,
                    metavar="SECONDS",
                    help=f"seconds of search per test (default: {DEFAULT_TIMEOUT:g})")
    group.addoption("--interlace-include", action="append", default=[], metavar="PACKAGE",
                    help="also put switch points inside this installed package (repeatable)")
    group.addoption("--interlace-assume-no-timeouts", action="store_true", default=False,
                    help="timed waits (Event.wait(5), acquire(timeout=...), join(timeout)...) give "
                         "up only when no other thread can run; sleeps are unaffected")
    group.addoption("--interlace-races", action="store_true", default=False,
                    help="also fail a test on data races (accesses of one location by two "
                         "threads, not ordered by happens-before), even if nothing failed")
    group.addoption("--interlace-replay", default=None, metavar="TOKEN",
                    help="replay one recorded interleaving of the selected test (printed when "
                         "a test fails under --interlace)")
    group.addoption("--interlace-html", default=None, metavar="DIR",
                    help="write an HTML report of each failing test's interleaving into DIR "
                         "(docs/html-report.md)")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Runs before conftest files (and so test modules) are imported."""
    options = early_config.known_args_namespace
    if getattr(options, "interlace", False) or getattr(options, "interlace_replay", None):
        _lock_factories.install()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"interlace(threads={DEFAULT_THREADS}, budget={DEFAULT_BUDGET}, "
        f"strategy='{DEFAULT_STRATEGY}', model='free-threaded', seed=0, "
        f"timeout={DEFAULT_TIMEOUT:g}, assume_no_timeouts=False, races=False): explore this test's interleavings (even without --interlace), "
        "with these settings")
    config.addinivalue_line(
        "markers", "interlace_skip: under --interlace, run this test once, as usual")
    config.addinivalue_line(
        "markers", "thread_unsafe: under --interlace, run this test once, as usual "
        "(pytest-run-parallel's marker)")
    settings = _settings(config)
    config.stash[_SETTINGS] = settings
    if settings.active:
        _lock_factories.install()
        from .runtime.executor import terminate_as_interrupt
        terminate_as_interrupt()  # SIGTERM stops the session as Ctrl-C does, cleaning up
    pytest_session.replay_token = settings.replay
    pytest_session.html_dir = settings.html
    config.pluginmanager.register(_Summary(config, settings), "interlace-summary")


def pytest_unconfigure(config: pytest.Config) -> None:
    _lock_factories.uninstall()
    pytest_session.replay_token = None
    pytest_session.html_dir = None


def _settings(config: pytest.Config) -> Settings:
    replay = config.getoption("interlace_replay")
    if replay is not None:
        try:
            Schedule.parse(replay)
        except ValueError as exc:
            raise pytest.UsageError(f"--interlace-replay: {exc}") from None
    try:
        include = search_settings.check_include(tuple(config.getoption("interlace_include")))
    except ValueError as exc:  # "include: no importable package..."
        raise pytest.UsageError(f"--interlace-{exc}") from None
    threads = config.getoption("interlace_threads")
    return Settings(enabled=config.getoption("interlace"),
                    threads=threads if threads is not None else DEFAULT_THREADS,
                    budget=config.getoption("interlace_budget"),
                    strategy=config.getoption("interlace_strategy"),
                    model=config.getoption("interlace_model"),
                    seed=config.getoption("interlace_seed"),
                    timeout=config.getoption("interlace_timeout"),
                    include=include, replay=replay, html=_html_dir(config.getoption("interlace_html")),
                    assume_no_timeouts=config.getoption("interlace_assume_no_timeouts"),
                    races=config.getoption("interlace_races"))


def _html_dir(path: Optional[str]) -> Optional[str]:
    if path is None:
        return None
    path = os.path.abspath(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(f"--interlace-html: cannot use {path} as the reports' folder: "
                                f"{exc.strerror or exc}") from None
    return path


# -- running a test ----------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Tell ``@interlace.check`` tests how to name themselves in replay commands."""
    pytest_session.test_argument = _test_argument(item)
    try:
        yield
    finally:
        pytest_session.test_argument = None
    settings = item.config.stash.get(_SETTINGS, None)
    if settings is not None and settings.active and not item.stash.get(_VISITED, False):
        item.user_properties.append(("interlace_not_explored", _NOT_A_FUNCTION))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Optional[bool]:
    settings = pyfuncitem.config.stash.get(_SETTINGS, None)
    if settings is None:
        return None
    pyfuncitem.stash[_VISITED] = True
    reason = _why_not_explored(pyfuncitem, settings)
    if reason == _EXPLORES_ITSELF and settings.replay is not None \
            and not getattr(pyfuncitem.obj, "__interlace_explores__", False):
        pytest.fail("interlace: --interlace-replay: this test calls interlace.explore() itself; "
                    "replay its failure with the interlace.replay(...) call its report shows",
                    pytrace=False)
    if reason is not None:
        if reason is not _NOT_ACTIVE:
            pyfuncitem.user_properties.append(("interlace_not_explored", reason))
        return None  # pytest calls the test once, as usual
    if not _explore(pyfuncitem, settings):
        # it calls the API through something the static look could not see: run it as usual
        pyfuncitem.user_properties.append(("interlace_not_explored", _EXPLORES_ITSELF))
        return None
    return True


_EXPLORES_ITSELF = "explores itself (interlace.explore, @interlace.check or check_linearizable)"
_NOT_A_FUNCTION = "not a plain test function (unittest.TestCase method, doctest or another plugin's item)"


def _why_not_explored(item: pytest.Function, settings: Settings) -> Optional[str]:
    """``None`` to explore the test, else why it runs as usual (``_NOT_ACTIVE``: plugin is off)."""
    marked = item.get_closest_marker("interlace") is not None
    if not (settings.active or marked):
        return _NOT_ACTIVE
    for name in SKIP_MARKERS:
        if item.get_closest_marker(name) is not None:
            return f"marked {name}"
    function = item.obj
    if _is_async(item):
        return "async test"
    if _explores_itself(function):
        return _EXPLORES_ITSELF
    unsafe = sorted(THREAD_UNSAFE_FIXTURES.intersection(item.fixturenames))
    if unsafe:
        return f"uses {', '.join(unsafe)}"
    return None


#: Markers of the async-test plugins (pytest-asyncio, anyio, pytest-trio).
ASYNC_MARKERS = ("asyncio", "anyio", "trio")


def _is_async(item: pytest.Function) -> bool:
    """An ``async def`` test, also when an async plugin has already wrapped it in a sync
    function that drives its event loop (pytest-asyncio does, in its own
    ``pytest_pyfunc_call``): concurrent copies would share that one loop."""
    candidates = [item.obj, getattr(item, "function", None)]
    parent = getattr(item.parent, "obj", None)
    if parent is not None:
        candidates.append(getattr(parent, getattr(item, "originalname", item.name), None))
    for candidate in candidates:
        if candidate is None:
            continue
        candidate = getattr(candidate, "__func__", candidate)
        try:
            candidate = inspect.unwrap(candidate)
        except ValueError:  # a cycle of __wrapped__
            pass
        if inspect.iscoroutinefunction(candidate) or inspect.isasyncgenfunction(candidate):
            return True
    return any(item.get_closest_marker(name) is not None for name in ASYNC_MARKERS)


def _explore(item: pytest.Function, settings: Settings) -> bool:
    """Explore the test and report; ``False`` if it turned out to explore itself."""
    threads, options, flags = _or_fail(lambda: _item_options(item, settings), "")
    function = item.obj
    test_argument = _test_argument(item)
    target = Target(run=_copies(item, threads),
                    code_hash=code_hash([function], extra=(f"copies={threads}",)),
                    label=item.nodeid,
                    replay_hint=lambda token: _replay_command(token, flags, test_argument))
    config = search_config(target=target, **options)
    if settings.replay is None:
        result = api.run_search(config)
    else:  # refused (ValueError) when the token was recorded for another test
        result = _or_fail(lambda: api.run_replay(settings.replay, config), "--interlace-replay: ")
    if result.failure is not None and "NestedExploration" in result.failure.message:
        return False
    item.user_properties.append(("interlace_executions", result.executions))
    item.user_properties.append(("interlace_settings", settings_text(threads, options, settings.replay)))
    if item.get_closest_marker("interlace") is not None:
        item.user_properties.append(("interlace_marked", True))
    raise_pytest_outcome(result)
    path, line, _ = item.reportinfo()  # point the warning at the test, not at the plugin
    for caveat in result.warnings:
        warnings.warn_explicit(InterlaceWarning(caveat), InterlaceWarning, filename=str(path),
                               lineno=(line or 0) + 1)
    if not result.ok:
        pytest.fail(result.report + _html_report(item, result, settings.html), pytrace=False)
    return True


def _html_report(item: pytest.Function, result: api.ExploreResult, folder: Optional[str]) -> str:
    """``--interlace-html``: write the failing test's report; the line that names it."""
    if folder is None:
        return ""
    from .report.html import write_test_report
    return write_test_report(result.raw, folder, item.nodeid)


def _or_fail(compute: Callable[[], Any], context: str) -> Any:
    """``compute()``, or fail the test with the message of its ``TypeError``/``ValueError``.

    Those come from the user's input (a marker argument, a replay token): the message says
    what to fix, and a traceback into the plugin would only bury it.
    """
    try:
        return compute()
    except (TypeError, ValueError) as exc:
        message = f"interlace: {context}{exc}"
    pytest.fail(message, pytrace=False)  # outside the except: no "during handling" noise


def _item_options(item: pytest.Function, settings: Settings) -> tuple[int, dict, list[str]]:
    """Copies, search options and the replay command's extra flags for one test."""
    values: dict[str, Any] = dict(threads=settings.threads, budget=settings.budget,
                                  strategy=settings.strategy, model=settings.model,
                                  seed=settings.seed, timeout=settings.timeout,
                                  races=settings.races)
    marker = item.get_closest_marker("interlace")
    marked = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise TypeError("@pytest.mark.interlace takes keyword arguments only, "
                        "e.g. @pytest.mark.interlace(threads=3)")
    unknown = sorted(set(marked) - set(MARKER_ARGUMENTS))
    if unknown:
        raise TypeError(f"@pytest.mark.interlace got an unknown argument {unknown[0]!r} "
                        f"(known: {', '.join(MARKER_ARGUMENTS)})")
    values.update(marked)
    threads = values.pop("threads")
    assume = values.pop("assume_no_timeouts", settings.assume_no_timeouts)
    if not isinstance(assume, bool):
        raise TypeError(f"assume_no_timeouts must be True or False, got {type(assume).__name__}")
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an integer, got {type(threads).__name__}")
    if threads < 1:
        raise ValueError(f"threads must be at least 1 (got {threads})")
    options = api.search_options(jobs=1, include=settings.include, **values)  # checked here
    options["assume_no_timeouts"] = assume
    flags = []  # what the replay needs besides the token: the token's hash covers these
    if "threads" not in marked and threads != DEFAULT_THREADS:
        flags += ["--interlace-threads", str(threads)]
    for package in settings.include:
        flags += ["--interlace-include", package]
    if assume and "assume_no_timeouts" not in marked:
        flags.append("--interlace-assume-no-timeouts")
    if settings.races and "races" not in marked:
        flags += ["--interlace-races"]
    return threads, options, flags


def _copies(item: pytest.Function, count: int) -> Callable[[], None]:
    """One execution's program: fresh function-scoped fixtures, then ``count`` threads each
    running the test on them, then the fixtures' teardown."""
    def execution() -> None:
        kwargs, teardown = _fresh_fixtures(item)
        copies = [threading.Thread(target=run_test_body, args=(item.obj, (), kwargs),
                                   name=f"copy-{index}") for index in range(1, count + 1)]
        for copy in copies:
            copy.start()
        for copy in copies:
            copy.join()
        teardown()

    return execution


def _fresh_fixtures(item: pytest.Function) -> tuple[dict, Callable[[], None]]:
    """Set up the test's function-scoped fixtures again, in this execution (a forked child).

    pytest set them up once, in the parent, before the search; sharing those would let one
    execution see what another left (a file in ``tmp_path``) and report it as a race.  The
    parent's values are forgotten here, not torn down: the parent tears them down itself.
    Fixtures of wider scope stay as they are: set up once, as pytest promises.
    """
    from _pytest import fixtures
    defs = [d for ds in item._fixtureinfo.name2fixturedefs.values() for d in ds
            if d.scope == "function"]
    for d in defs:
        d.cached_result = None
        d._finalizers.clear()
    request_type = getattr(fixtures, "TopRequest", None) or fixtures.FixtureRequest
    item._request = request_type(item, _ispytest=True)
    item.funcargs = {}
    item._request._fillfixtures()
    kwargs = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}

    def teardown() -> None:
        for d in reversed(defs):
            if d.cached_result is not None:
                d.finish(item._request)

    return kwargs, teardown


def _test_argument(item: pytest.Item) -> str:
    """The test as a command-line argument that works from the directory pytest ran in."""
    path = os.path.relpath(item.path, item.config.invocation_params.dir)
    _, _, name = item.nodeid.partition("::")
    return f"{path}::{name}" if name else path


def _replay_command(token: str, flags: list[str], test_argument: str) -> str:
    return " ".join(shlex.quote(part) for part in
                    ["pytest", "--interlace-replay", token, *flags, test_argument])


def _explores_itself(function: Any) -> bool:
    """Does the test call interlace's API itself?  Then exploring it again would nest."""
    if getattr(function, "__interlace_explores__", False):
        return True
    import interlace
    from .lincheck import check_linearizable
    api_objects = {id(api.explore), id(api.replay), id(api.replay_script), id(api.check),
                   id(check_linearizable)}
    code = code_of(function)
    if code is None:
        return False
    namespace = getattr(inspect.unwrap(getattr(function, "__func__", function)), "__globals__", {})
    names = _names_used(code)
    if any(id(namespace.get(name)) in api_objects for name in names):
        return True  # from interlace import explore
    # interlace.explore(...); a test that only names interlace.Model is explored as usual
    return any(namespace.get(name) is interlace for name in names) and bool(names & _API_NAMES)


_API_NAMES = frozenset({"explore", "replay", "replay_script", "check", "check_linearizable"})


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


# -- lock factories for the whole session ------------------------------------------------------

class _LockFactories:
    """``threading.Lock``/``RLock`` replaced by interlace's for the session (``--interlace``).

    Outside an execution they behave as real locks (no scheduler is active), so pytest and the
    tests' setup are unaffected; inside one, a lock created at import time is as controlled as
    one created by the test.  ``threading.Condition`` (and so ``Event``, ``Semaphore``,
    ``queue.Queue``) need no replacing here: built on these locks they park and wake through
    the scheduler, and executions install interlace's own Condition for new ones anyway.
    """

    _NAMES = ("Lock", "_allocate_lock", "RLock")

    def __init__(self) -> None:
        self._saved: Optional[dict[str, Any]] = None
        self._fork_handlers = False

    def install(self) -> None:
        if self._saved is not None:
            return
        self._saved = {name: getattr(threading, name) for name in self._NAMES}
        self._apply()
        if not self._fork_handlers:  # handlers cannot be unregistered: they check _saved
            # A forked child runs threading's own after-fork handler first, which makes new
            # internal locks (the one Thread.start holds, among others).  Those must be real:
            # the scheduler would otherwise take a switch inside Thread.start.  So the real
            # factories are back in place across each fork (before-fork handlers run in reverse
            # registration order, after-fork ones in order, threading's first).
            os.register_at_fork(before=self._restore, after_in_parent=self._apply,
                                after_in_child=self._apply)
            self._fork_handlers = True

    def uninstall(self) -> None:
        self._restore()
        self._saved = None

    def _apply(self) -> None:
        if self._saved is None:
            return
        from .runtime import sync
        threading.Lock = sync.Lock  # type: ignore[misc,assignment]
        threading._allocate_lock = sync.Lock  # type: ignore[attr-defined]
        threading.RLock = sync.RLock  # type: ignore[misc,assignment]

    def _restore(self) -> None:
        if self._saved is None:
            return
        for name, value in self._saved.items():
            setattr(threading, name, value)


_lock_factories = _LockFactories()


# -- the terminal summary ----------------------------------------------------------------------

class _Summary:
    """Counts what was explored from the test reports (so it also works under pytest-xdist)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self._settings = settings
        self._explored = 0
        self._executions = 0
        self._marked = 0
        self._not_explored: dict[str, int] = {}
        #: the settings each test really ran with (markers override the command line) -> tests
        self._by_settings: dict[str, int] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == "interlace_settings":
                self._by_settings[value] = self._by_settings.get(value, 0) + 1
            elif name == "interlace_executions":
                self._explored += 1
                self._executions += int(value)
            elif name == "interlace_marked":
                self._marked += 1
            elif name == "interlace_not_explored":
                self._not_explored[value] = self._not_explored.get(value, 0) + 1

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not (self._explored or self._not_explored):
            return
        settings = self._settings
        if self._explored:
            what = "replayed" if settings.replay else "explored"
            line = (f"interlace: {what} {_plural(self._explored, 'test')} in "
                    f"{_plural(self._executions, 'execution')}")
            groups = sorted(self._by_settings.items(), key=lambda item: (-item[1], item[0]))
            if len(groups) == 1:
                line += f" ({groups[0][0]})"
            terminalreporter.write_line(line)
            if len(groups) > 1:
                for text, count in groups:
                    terminalreporter.write_line(f"  {_plural(count, 'test')}: {text}")
        if self._not_explored:
            reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(self._not_explored.items()))
            count = sum(self._not_explored.values())
            terminalreporter.write_line(f"interlace: {_plural(count, 'test')} ran once, "
                                        f"unexplored: {reasons}")


def settings_text(threads: int, options: dict, replay: Optional[str]) -> str:
    """What one test ran with, after its marker: one line of the summary."""
    if replay is not None:
        return f"replay of {replay}, {_plural(threads, 'thread')}"
    model = options.get("model")
    return (f"strategy {options.get('strategy')}, model {getattr(model, 'value', model)}, "
            f"seed {options.get('seed')}, budget {options.get('budget')}, "
            f"{_plural(threads, 'thread')}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
