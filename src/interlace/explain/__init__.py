"""``interlace explain FILE[:QUALNAME]``: where a thread switch can break a read-modify-write.

Static: the file is compiled, never imported or run.  For each function threads can reach, the
bytecode windows between a shared read and the write or action that depends on it are listed,
with whether free-threaded CPython, CPython 3.10-3.15 with the GIL (the rules of the running version), and CPython <= 3.9 can
switch threads inside them (the same switch tables ``interlace run --model`` uses).

Exit codes: 0 no window found, 1 windows found, 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

__all__ = ["add_parser", "command"]

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers) -> None:
    from .._args import json_path
    from ..models import Model
    parser = subparsers.add_parser(
        "explain", help="show where a thread switch can break a read-modify-write (static)",
        description="Statically find read-modify-write and check-then-act windows in FILE's "
                    "functions and say whether free-threaded CPython, CPython 3.10-3.15 and "
                    "CPython <= 3.9 can switch threads inside them. FILE is compiled, never run.")
    parser.add_argument("target", metavar="FILE[:QUALNAME]",
                        help="a Python file, optionally with one function (e.g. app.py:Cache.get)")
    parser.add_argument("--all", action="store_true", dest="include_all",
                        help="analyse every function, not only those reachable from the threads "
                             "the file starts")
    parser.add_argument("--format", choices=("text", "json", "lint"), default="text",
                        help="text (default), json, or lint: 'path:line:col: IL001 message' lines")
    parser.add_argument("--json", type=json_path, metavar="PATH", default=None,
                        help="also write the report as JSON to PATH ('-': standard output, "
                             "instead of the text report)")
    parser.add_argument("--model", choices=[m.value for m in Model], default=None,
                        help="only report windows a switch can land in under this model "
                             "(e.g. gil in CI for GIL builds)")
    parser.set_defaults(func=command)


def split_target(target: str) -> tuple[str, Optional[str]]:
    """``path/to/file.py:Class.method`` -> (path, qualname); a path that exists wins."""
    if os.path.exists(target) or ":" not in target:
        return target, None
    path, _, qualname = target.rpartition(":")
    return path, (qualname or None)


def command(args: argparse.Namespace) -> int:
    from ..models import Model
    from .analysis import UnknownFunction, explain
    from .._args import STDOUT
    from ..report.output import OutputError, write_text
    from .report import dumps, lint_lines, print_report
    from .source import SourceError
    path, qualname = split_target(args.target)
    try:
        report = explain(path, qualname, include_all=args.include_all)
    except (SourceError, UnknownFunction) as exc:
        print(f"interlace: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report.total = len(report.findings)
    if args.model:
        report.filtered_by = Model.parse(args.model)
        report.findings = [f for f in report.findings if f.verdicts[report.filtered_by].can_switch]
    if args.json is not None:
        try:
            write_text(args.json, dumps(report) + "\n")
        except OutputError as exc:
            print(f"interlace: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.format == "json":
        if args.json != STDOUT:
            print(dumps(report))
    elif args.json == STDOUT:
        pass  # the JSON took standard output
    elif args.format == "lint":
        for line in lint_lines(report, path):
            print(line)
    else:
        print_report(report)
    return EXIT_FOUND if report.findings else EXIT_OK
