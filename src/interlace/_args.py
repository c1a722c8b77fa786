"""argparse value types and input-error texts shared by the subcommands (``run``, ``explain``...).

These only turn text into values (with argparse's one-line errors); what a search setting may
be is decided once, in :mod:`interlace.config`, which ``run`` hands every value to.
"""

from __future__ import annotations

import argparse

__all__ = ["positive_int", "positive_float", "non_negative_int", "bound", "jobs", "shard",
           "syntax_error_text", "json_path", "STDOUT", "read_source", "MAX_SOURCE_BYTES"]


def positive_int(text: str) -> int:
    """An integer >= 1 (``--budget``, ``--runs``, ``--jobs``...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """A number of seconds > 0 (``--timeout``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:  # also rejects NaN, which compares false to everything
        raise argparse.ArgumentTypeError(f"must be positive, got {value:g}")
    if value == float("inf"):
        raise argparse.ArgumentTypeError("must be a finite number of seconds, got inf")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0 (``--preemptions``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


#: ``--preemptions none``: no bound.
NO_BOUND = "none"


def bound(text: str):
    """``--preemptions K`` (an integer >= 0) or ``--preemptions none``."""
    return NO_BOUND if text == NO_BOUND else non_negative_int(text)


def jobs(text: str) -> int:
    """``--jobs N`` or ``--jobs auto`` (every core this process may use)."""
    if text == "auto":
        from .config import cpu_count
        return cpu_count()
    return positive_int(text)


def shard(text: str) -> tuple[int, int]:
    """``--shard I/N``: the I-th of N parts of one search (1-based)."""
    from .config import check_shard
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N such as 1/4, got {text!r}") from None
    try:
        return check_shard((index, count))
    except ValueError:
        raise argparse.ArgumentTypeError(f"need 1 <= I <= N, got {text!r}") from None


def syntax_error_text(path: str, exc: SyntaxError) -> str:
    """One line for a file that does not compile (``line None`` never shows)."""
    where = f", line {exc.lineno}" if exc.lineno else ""
    return f"syntax error in {path}{where}: {exc.msg}"


#: ``--json -``: write the JSON to standard output.
STDOUT = "-"


def json_path(text: str) -> str:
    """``--json PATH``: ``-`` for standard output, else a file that can be written, checked
    now (before a search that may take minutes), not after."""
    import os
    if text == STDOUT:
        return text
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a directory: give a file name")
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"the folder of {text} does not exist: {folder}")
    if os.path.exists(text):
        if not os.access(text, os.W_OK):
            raise argparse.ArgumentTypeError(f"cannot write {text}: permission denied")
    elif not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot create {text}: the folder is not writable")
    return text


#: A Python source file larger than this is refused (``explain /dev/zero`` must not read forever).
MAX_SOURCE_BYTES = 16 * 1024 * 1024


def read_source(path: str) -> bytes:
    """The bytes of a Python source file; ``OSError``/``ValueError`` with a one-line reason for
    anything that is not a regular file of sensible size (a folder, a device, a FIFO)."""
    import os
    import stat
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"{path} is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file (a device, a pipe or a socket)")
    if info.st_size > MAX_SOURCE_BYTES:
        raise ValueError(f"{path} is {info.st_size} bytes: larger than the "
                         f"{MAX_SOURCE_BYTES // (1024 * 1024)} MB a Python source may have here")
    with open(path, "rb") as handle:
        return handle.read(MAX_SOURCE_BYTES + 1)
