"""``interlace`` command line: ``run``, ``replay`` (and the commands other modules add).

Exit codes: 0 nothing found (within the stated budget), 1 bug (or, with ``--races``, a data race)
found, 2 usage error or a
script that fails on its own (before starting any thread), 3 inconclusive (the program did not
repeat itself under systematic search) or an internal error of interlace, 130 interrupted.

``--json PATH`` means one thing in every command: write the result as JSON to PATH, checked
before the work starts; ``-`` is standard output (the text report then goes to stderr).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Optional, Sequence

from . import _args, config as settings
from ._args import positive_float as _positive_float, positive_int as _positive_int
from .models import Model
from .outcome import SearchResult, StopReason, Verdict

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: Every subcommand, for the usage line (``stress`` and ``explain`` load only when used).
COMMANDS = ("run", "replay", "stress", "explain")


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its one-line style
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"interlace: error: {message}\n")


def _model(text: str) -> Model:
    try:
        return Model.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: ``--model all``: search every model and say under which ones the bug occurs.
ALL_MODELS = "all"


def _model_or_all(text: str):
    return ALL_MODELS if text == ALL_MODELS else _model(text)


def build_parser(optional: bool = True) -> argparse.ArgumentParser:
    """``optional=False`` leaves out the commands of other modules (``run`` and ``replay``
    need not pay for importing them)."""
    parser = _Parser(prog="interlace", description="Find thread races by controlling thread scheduling.",
                     usage=f"interlace [-h] [--version] {{{','.join(COMMANDS)}}} ...")
    parser.add_argument("--version", action="version", version=f"interlace {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="{" + ",".join(COMMANDS) + "}")

    run = sub.add_parser("run", help="search the interleavings of a threaded script",
                         usage="interlace run [options] (SCRIPT | -m MODULE) [-- SCRIPT_ARGS...]")
    run.add_argument("script", nargs="?", help="a Python script that starts threads")
    run.add_argument("-m", dest="module", metavar="MODULE",
                     help="run a module as `python -m MODULE` does (a package: its __main__)")
    run.add_argument("--strategy", choices=settings.STRATEGIES, default=settings.DEFAULT_STRATEGY,
                     help=f"search strategy (default: {settings.DEFAULT_STRATEGY})")
    run.add_argument("--budget", type=_positive_int, default=None,
                     help="maximum number of executions (default: "
                          f"{settings.DEFAULT_PORTFOLIO_BUDGET} for the portfolio, "
                          f"{settings.DEFAULT_BUDGET} for pct and random, "
                          f"{settings.DEFAULT_DPOR_BUDGET} for dpor)")
    run.add_argument("--seed", type=int, default=settings.DEFAULT_SEED,
                     help=f"random seed (default: {settings.DEFAULT_SEED})")
    run.add_argument("--timeout", type=_positive_float, default=settings.DEFAULT_TIMEOUT,
                     help=f"seconds for the whole search (default: {settings.DEFAULT_TIMEOUT:g})")
    run.add_argument("--depth", type=_positive_int, default=settings.DEFAULT_DEPTH,
                     help=f"PCT bug depth (default: {settings.DEFAULT_DEPTH})")
    run.add_argument("--preemptions", type=_args.bound, default=None, metavar="K",
                     help="dpor (and the portfolio's systematic part): explore only schedules "
                          "with at most K preemptions, or 'none' for no bound "
                          f"(default: {settings.DEFAULT_PREEMPTIONS})")
    run.add_argument("--jobs", type=_args.jobs, default=1, metavar="N",
                     help="worker processes, or 'auto' for every core (default: 1)")
    run.add_argument("--shard", type=_args.shard, default=None, metavar="I/N",
                     help="run only part I of N of the search (split one search across machines)")
    _add_common(run)
    run.add_argument("--no-shrink", action="store_true", help="report the first failure as found")
    run.add_argument("--races", action="store_true",
                     help="also report data races (accesses not ordered by happens-before) in "
                          "every execution, whether or not anything failed (docs/races.md)")
    run.set_defaults(func=_cmd_run)

    replay = sub.add_parser("replay", help="re-execute one recorded interleaving",
                            usage="interlace replay --schedule TOKEN [options] (SCRIPT | -m MODULE) "
                                  "[-- SCRIPT_ARGS...]")
    replay.add_argument("--schedule", required=True, help="the token printed by `interlace run`")
    replay.add_argument("script", nargs="?")
    replay.add_argument("-m", dest="module", metavar="MODULE",
                        help="replay a module run as `python -m MODULE`")
    replay.add_argument("--races", action="store_true",
                        help="also report the data races of this execution (docs/races.md)")
    _add_common(replay, model=False)
    replay.set_defaults(func=_cmd_replay)

    for module in _optional_commands() if optional else ():
        module.add_parser(sub)
    return parser


def _add_common(parser: argparse.ArgumentParser, model: bool = True) -> None:
    if model:
        parser.add_argument("--model", type=_model_or_all, default=Model.FREE_THREADED,
                            help="switch model: free-threaded (default), gil, gil-3.9, or all "
                                 "(search each; on a bug, say under which models it occurs)")
    parser.add_argument("--max-steps", type=_positive_int, default=settings.DEFAULT_MAX_STEPS,
                        help="scheduling points chosen by the strategy; then a fair schedule for as many "
                             "again, after which an unfinished execution is a caveat")
    parser.add_argument("--assume-no-timeouts", action="store_true",
                        help="timed waits (Event.wait(5), acquire(timeout=...), join(timeout)...) "
                             "give up only when no other thread can run; sleeps are unaffected")
    parser.add_argument("--include", action="append", default=[], metavar="PACKAGE",
                        help="also put switch points inside this installed package (repeatable)")
    parser.add_argument("--json", metavar="PATH", type=_args.json_path,
                        help="write the result as JSON to PATH ('-': standard output)")
    parser.add_argument("--html", metavar="PATH",
                        help="write a self-contained HTML report (one lane per thread; docs/html-report.md)")


def _optional_commands():
    """Subcommands implemented in their own modules (each has add_parser/command)."""
    modules = []
    for name in ("stress", "explain"):
        try:
            modules.append(__import__(f"interlace.{name}", fromlist=["add_parser"]))
        except ImportError:
            continue
    return modules


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("interlace")
    except PackageNotFoundError:  # run from a source tree without installing
        return "unknown (not installed)"


def _check_script(path: str) -> None:
    """A folder is refused with a pointer to ``-m`` (python would run its ``__main__.py``;
    interlace asks for the file or the module, so the replay command names exactly one)."""
    if os.path.isdir(path):
        hint = (f": give {os.path.join(path, '__main__.py')}, or run the package with -m"
                if os.path.isfile(os.path.join(path, "__main__.py")) else ": give a Python file")
        raise UsageError(f"{path} is a directory{hint}")
    if not os.path.exists(path):
        raise UsageError(f"script not found: {path}")
    try:
        compile(_args.read_source(path), path, "exec")
    except SyntaxError as exc:
        raise UsageError(_args.syntax_error_text(path, exc)) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def _module_script(name: str) -> str:
    """The file ``python -m name`` runs: the module's, or a package's ``__main__``."""
    import importlib.util
    sys.path.insert(0, os.getcwd())  # as python -m: the current folder first
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(f"{name}.__main__")
    except (ImportError, ValueError) as exc:
        raise UsageError(f"no module named {name!r} ({exc})") from None
    finally:
        sys.path.remove(os.getcwd())
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        raise UsageError(f"no module named {name!r} with a Python source file to run")
    return spec.origin


def _resolve_program(args: argparse.Namespace) -> None:
    """Exactly one of SCRIPT and ``-m MODULE``; ``-m`` becomes the module's file."""
    if args.module and args.script:
        raise UsageError(f"give a script or -m {args.module}, not both "
                         f"(arguments for the program go after `--`)")
    if args.module:
        args.script = _module_script(args.module)
    elif not args.script:
        raise UsageError("give the script to run (or -m MODULE)")


def _config(args: argparse.Namespace, **options) -> settings.SearchConfig:
    """Translate the command line into the one checked :class:`SearchConfig`."""
    _resolve_program(args)
    _check_script(args.script)
    _check_html_path(args.html)
    try:
        return settings.search_config(script=os.path.abspath(args.script), argv=tuple(args.args),
                                      module=args.module, max_steps=args.max_steps,
                                      include=tuple(args.include),
                                      assume_no_timeouts=args.assume_no_timeouts, **options)
    except (TypeError, ValueError) as exc:
        raise UsageError(_cli_spelling(str(exc))) from None


def _cli_spelling(message: str) -> str:
    """A config message names settings as the API does; say them as options."""
    for name in ("strategy", "preemptions", "include", "model", "shard"):
        if message.startswith(f"{name}: "):
            message = message[len(name) + 2:]
    return re.sub(r"strategy='(\w+)'", r"--strategy \1", message)


def _cmd_run(args: argparse.Namespace) -> int:
    from .engine.search import search
    from .report.progress import progress_bar
    if args.preemptions is None:
        preemptions = settings.DEFAULT
    else:
        preemptions = None if args.preemptions == _args.NO_BOUND else args.preemptions
    config = _config(args, strategy=args.strategy, budget=args.budget, seed=args.seed,
                     timeout=args.timeout, model=_first_model(args.model), depth=args.depth,
                     shrink=not args.no_shrink, preemptions=preemptions, jobs=args.jobs,
                     shard=args.shard, races=args.races)
    if args.model == ALL_MODELS:
        if args.races:
            raise UsageError("--races searches one model: use it without --model all")
        return _run_all_models(config, args)
    with progress_bar(config.budget, systematic=config.strategy == "dpor",
                      timeout=config.timeout) as advance:
        result = search(config, progress=advance)
    _deliver(result, args)
    return exit_status(result)


def _deliver(result: SearchResult, args: argparse.Namespace, verdicts=None) -> None:
    """The text report, then ``--json`` and ``--html``.

    A reader that stops early (``interlace run x.py | head``) closes the pipe: that ends the
    text, not the files after it nor the exit status, which still says what was found.
    """
    from .report.console import print_model_verdicts, print_result
    console = _console(args)

    def text() -> None:
        print_result(result, console)
        if verdicts is not None:
            print_model_verdicts(verdicts, console)
    _unless_pipe_closed(text)
    if args.json:
        from .report import jsonreport
        if verdicts is None:
            _unless_pipe_closed(lambda: jsonreport.write_json(result, args.json))
        else:
            _unless_pipe_closed(lambda: jsonreport.write_json_models(result, verdicts, args.json))
    _write_html(result, args.html, verdicts, stream=sys.stderr if args.json == _args.STDOUT else sys.stdout)


def _unless_pipe_closed(write) -> None:
    """Run ``write``; if standard output's reader went away, send the rest of it nowhere."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def exit_status(result: SearchResult) -> int:
    """The exit status of one search's result (see the module docstring)."""
    if result.verdict in (Verdict.INCONCLUSIVE, Verdict.INTERNAL_ERROR) or result.internal_error:
        return EXIT_INCONCLUSIVE
    if result.found or result.races:
        return EXIT_BUG
    if result.verdict is Verdict.SETUP_ERROR:
        return EXIT_USAGE
    if result.stopped_by is StopReason.INTERRUPT:
        return EXIT_INTERRUPTED
    return EXIT_OK


def _first_model(model) -> Model:
    return Model.FREE_THREADED if model == ALL_MODELS else model


def _run_all_models(config: settings.SearchConfig, args: argparse.Namespace) -> int:
    """``run --model all``: one bounded search per model, the first bug printed in full."""
    from .engine.allmodels import search_all_models
    from .report.progress import progress_bar
    bars: list = []  # one bar per model's search, each closed before the next opens

    def progress_for(model):
        while bars:
            bars.pop().__exit__(None, None, None)
        bars.append(progress_bar(config.budget, systematic=config.strategy == "dpor"))
        return bars[-1].__enter__()

    try:
        result, verdicts = search_all_models(config, progress_for)
    finally:
        while bars:
            bars.pop().__exit__(None, None, None)
    _deliver(result, args, verdicts)
    found = any(v.result is not None and v.result.found for v in verdicts)
    if found:
        return EXIT_BUG
    if any(v.result is not None and v.result.verdict in (Verdict.INCONCLUSIVE, Verdict.INTERNAL_ERROR)
           for v in verdicts):
        return EXIT_INCONCLUSIVE
    return exit_status(result)


def _cmd_replay(args: argparse.Namespace) -> int:
    from .engine.replay import replay_script
    result = replay_script(args.schedule, _config(args, model=Model.FREE_THREADED,
                                                  races=args.races))
    _deliver(result, args)
    return exit_status(result)


def _check_html_path(path: Optional[str]) -> None:
    """``--html PATH``: refused before the search when the report could not be written."""
    if path is None:
        return
    from .report.html import check_writable
    problem = check_writable(path)
    if problem is not None:
        raise UsageError(f"--html: cannot write {path}: {problem}")


def _write_html(result: SearchResult, path: Optional[str], verdicts=None, stream=None) -> None:
    """Write the page; say where on ``stream`` (stderr when ``--json -`` owns stdout)."""
    if path is None:
        return
    from .report.html import write_html
    try:
        write_html(result, path, verdicts)
    except OSError as exc:
        raise UsageError(f"--html: cannot write {path}: {exc.strerror or exc}") from None
    _unless_pipe_closed(lambda: print(f"HTML report: {path}", file=stream or sys.stdout))


def _console(args: argparse.Namespace):
    """The text report's console: stderr when ``--json -`` takes standard output."""
    from .report.console import report_console
    return report_console(stderr=args.json == _args.STDOUT)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(optional=not argv or argv[0] not in ("run", "replay"))
    script_args: list[str] = []
    if "--" in argv:  # everything after `--` belongs to the script
        split = argv.index("--")
        argv, script_args = argv[:split], argv[split + 1:]
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command in ("run", "replay") and not any(a.startswith("-") for a in extra):
            parser.error(f"unexpected argument{'s' if len(extra) > 1 else ''} {' '.join(extra)}: "
                         f"arguments for the program go after `--`, as in "
                         f"interlace {args.command} ... SCRIPT -- {' '.join(extra)}")
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.args = script_args
    from .report.output import OutputError
    from .runtime.executor import share_standard_input, terminate_as_interrupt
    terminate_as_interrupt()
    share_standard_input()
    try:
        return args.func(args)
    except OutputError as exc:
        print(f"interlace: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"interlace: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"interlace: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interlace: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `interlace explain --json | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
