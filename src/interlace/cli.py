"""``interlace`` command line: ``run``, ``replay`` (and the commands other modules add).

Exit codes: 0 nothing found (within the stated budget), 1 bug found, 2 usage error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from .engine import search as search_mod
from .models import Model

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its one-line style
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"interlace: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value:g}")
    return value


def _model(text: str) -> Model:
    try:
        return Model.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="interlace", description="Find thread races by controlling thread scheduling.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="search the interleavings of a threaded script",
                         usage="interlace run [options] SCRIPT [-- SCRIPT_ARGS...]")
    run.add_argument("script", help="a Python script that starts threads")
    run.add_argument("--strategy", choices=search_mod.STRATEGIES, default="pct",
                     help="search strategy (default: pct)")
    run.add_argument("--budget", type=_positive_int, default=search_mod.DEFAULT_BUDGET,
                     help=f"maximum number of executions (default: {search_mod.DEFAULT_BUDGET})")
    run.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    run.add_argument("--timeout", type=_positive_float, default=search_mod.DEFAULT_TIMEOUT,
                     help=f"seconds for the whole search (default: {search_mod.DEFAULT_TIMEOUT:g})")
    run.add_argument("--depth", type=_positive_int, default=search_mod.DEFAULT_DEPTH,
                     help="PCT bug depth (default: 3)")
    _add_common(run)
    run.add_argument("--no-shrink", action="store_true", help="report the first failure as found")
    run.set_defaults(func=_cmd_run)

    replay = sub.add_parser("replay", help="re-execute one recorded interleaving")
    replay.add_argument("--schedule", required=True, help="the token printed by `interlace run`")
    replay.add_argument("script")
    _add_common(replay, model=False)
    replay.set_defaults(func=_cmd_replay)

    for module in _optional_commands():
        module.add_parser(sub)
    return parser


def _add_common(parser: argparse.ArgumentParser, model: bool = True) -> None:
    if model:
        parser.add_argument("--model", type=_model, default=Model.FREE_THREADED,
                            help="switch model: free-threaded (default), gil, gil-3.9")
    parser.add_argument("--max-steps", type=_positive_int, default=search_mod.DEFAULT_MAX_STEPS,
                        help="scheduling steps after which an execution counts as a livelock")
    parser.add_argument("--include", action="append", default=[], metavar="PACKAGE",
                        help="also put switch points inside this installed package (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON")


def _optional_commands():
    """Subcommands implemented in their own modules (each has add_parser/command)."""
    modules = []
    for name in ("stress",):
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
        raise UsageError(f"syntax error in {path}, line {exc.lineno}: {exc.msg}") from None
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
    config = _config(args, strategy=args.strategy, budget=args.budget, seed=args.seed,
                     timeout=args.timeout, model=args.model, depth=args.depth,
                     shrink=not args.no_shrink)
    with progress_bar(config.budget) as advance:
        result = search_mod.search(config, progress=advance)
    print_result(result)
    if args.json:
        from .report.jsonreport import write_json
        write_json(result, args.json)
    if result.stopped_by == "interrupt" and not result.found:
        return EXIT_INTERRUPTED
    return EXIT_BUG if result.found else EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from .engine.replay import replay_script
    from .report.console import print_result
    result = replay_script(args.schedule, _config(args, model=Model.FREE_THREADED))
    print_result(result)
    if args.json:
        from .report.jsonreport import write_json
        write_json(result, args.json)
    return EXIT_BUG if result.found else EXIT_OK


def _ensure_hash_seed() -> None:
    """Fix PYTHONHASHSEED so set/dict iteration order, and so executions, repeat."""
    if os.environ.get("PYTHONHASHSEED") is None and os.environ.get("INTERLACE_NO_REEXEC") is None:
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, "-m", "interlace", *sys.argv[1:]], env)


def main(argv: Optional[Sequence[str]] = None) -> int:
    if argv is None:
        _ensure_hash_seed()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
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
