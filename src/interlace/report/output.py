"""Where ``--json PATH`` goes: one convention for run, replay, explain and stress.

``-`` is standard output; any other path is a file, checked before the work starts
(:func:`interlace._args.json_path`) and written at the end.
"""

from __future__ import annotations

import sys

from .._args import STDOUT


class OutputError(Exception):
    """The result could not be written (a full disk, ``/dev/full``): exit status 2."""


def write_text(path: str, text: str) -> None:
    if path == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
