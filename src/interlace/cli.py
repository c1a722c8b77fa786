"""``interlace`` command line: ``run``, ``replay`` (and the commands other modules add).

Exit codes: 0 nothing found (within the stated budget), 1 bug (or, with ``--races``, a data
race) found, 2 usage error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from . import _args
from ._args import positive_float as _positive_float, positive_int as _positive_int
from .engine import search as search_mod
from .models import Model

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


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
    parser = _Parser(prog="interlace", description="Find thread races by controlling thread scheduling.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="search the interleavings of a threaded script",
                         usage="interlace run [options] SCRIPT [-- SCRIPT_ARGS...]")
    run.add_argument("script", help="a Python script that starts threads")
    run.add_argument("--strategy", choices=search_mod.STRATEGIES, default="pct",
                     help="search strategy (default: pct)")
    run.add_argument("--budget", type=_positive_int, default=None,
                     help=f"maximum number of executions (default: {search_mod.DEFAULT_BUDGET}; "
                          f"dpor: {search_mod.DEFAULT_DPOR_BUDGET})")
    run.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    run.add_argument("--timeout", type=_positive_float, default=search_mod.DEFAULT_TIMEOUT,
                     help=f"seconds for the whole search (default: {search_mod.DEFAULT_TIMEOUT:g})")
    run.add_argument("--depth", type=_positive_int, default=search_mod.DEFAULT_DEPTH,
                     help="PCT bug depth (default: 3)")
    run.add_argument("--preemptions", type=_args.bound, default=None, metavar="K",
                     help="dpor: explore only schedules with at most K preemptions, or 'none' "
                          f"for no bound (default: {search_mod.DEFAULT_PREEMPTIONS})")
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

    replay = sub.add_parser("replay", help="re-execute one recorded interleaving")
    replay.add_argument("--schedule", required=True, help="the token printed by `interlace run`")
    replay.add_argument("script")
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
    parser.add_argument("--max-steps", type=_positive_int, default=search_mod.DEFAULT_MAX_STEPS,
                        help="scheduling steps after which an execution counts as a livelock")
    parser.add_argument("--include", action="append", default=[], metavar="PACKAGE",
                        help="also put switch points inside this installed package (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON")


def _optional_commands():
    """Subcommands implemented in their own modules (each has add_parser/command)."""
    modules = []
    for name in ("stress", "explain"):
        try:
            modules.append(__import__(f"interlace.{name}", fromlist=["add_parser"]))
        except ImportError:
            continue
    return modules


def _check_script(path: str) -> None:
    if not os.path.isfile(path):
        raise UsageError(f"script not found: {path}")
    try:
        with open(path, "rb") as handle:
            compile(handle.read(), path, "exec")
    except SyntaxError as exc:
        raise UsageError(_args.syntax_error_text(path, exc)) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def _check_include(names: Sequence[str]) -> None:
    from .hooks.scope import _package_dir
    for name in names:
        try:
            _package_dir(name)
        except (ValueError, ImportError) as exc:
            raise UsageError(str(exc)) from None


def _config(args: argparse.Namespace, **overrides) -> search_mod.SearchConfig:
    _check_script(args.script)
    _check_include(args.include)
    fields = dict(script=os.path.abspath(args.script), argv=tuple(args.args),
                  max_steps=args.max_steps, include=tuple(args.include))
    fields.update(overrides)
    return search_mod.SearchConfig(**fields)


def _cmd_run(args: argparse.Namespace) -> int:
    from .report.console import print_result
    from .report.progress import progress_bar
    budget = args.budget if args.budget is not None else search_mod.default_budget(args.strategy)
    if args.preemptions is None:
        preemptions = search_mod.default_preemptions(args.strategy)
    elif args.strategy != "dpor":
        raise UsageError("--preemptions bounds systematic search: use it with --strategy dpor")
    else:
        preemptions = None if args.preemptions == _args.NO_BOUND else args.preemptions
    config = _config(args, strategy=args.strategy, budget=budget, seed=args.seed,
                     timeout=args.timeout, model=_first_model(args.model), depth=args.depth,
                     shrink=not args.no_shrink, preemptions=preemptions, jobs=args.jobs,
                     shard=args.shard, races=args.races)
    if args.model == ALL_MODELS:
        if args.races:
            raise UsageError("--races searches one model: use it without --model all")
        return _run_all_models(config, args)
    with progress_bar(config.budget, systematic=config.strategy == "dpor") as advance:
        result = search_mod.search(config, progress=advance)
    print_result(result)
    if args.json:
        from .report.jsonreport import write_json
        write_json(result, args.json)
    if result.stopped_by == "interrupt" and not (result.found or result.races):
        return EXIT_INTERRUPTED
    return EXIT_BUG if result.found or result.races else EXIT_OK


def _first_model(model) -> Model:
    return Model.FREE_THREADED if model == ALL_MODELS else model


def _run_all_models(config: search_mod.SearchConfig, args: argparse.Namespace) -> int:
    """``run --model all``: one bounded search per model, the first bug printed in full."""
    from .engine.allmodels import search_all_models
    from .report.console import print_model_verdicts, print_result
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
    print_result(result)
    print_model_verdicts(verdicts)
    if args.json:
        from .report.jsonreport import write_json_models
        write_json_models(result, verdicts, args.json)
    found = any(v.result is not None and v.result.found for v in verdicts)
    if result.stopped_by == "interrupt" and not found:
        return EXIT_INTERRUPTED
    return EXIT_BUG if found else EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from .engine.replay import replay_script
    from .report.console import print_result
    result = replay_script(args.schedule, _config(args, model=Model.FREE_THREADED,
                                                  races=args.races))
    print_result(result)
    if args.json:
        from .report.jsonreport import write_json
        write_json(result, args.json)
    return EXIT_BUG if result.found or result.races else EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(optional=not argv or argv[0] not in ("run", "replay"))
    script_args: list[str] = []
    if "--" in argv:  # everything after `--` belongs to the script
        split = argv.index("--")
        argv, script_args = argv[:split], argv[split + 1:]
    args = parser.parse_args(argv)
    args.args = script_args
    try:
        return args.func(args)
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
