"""What the pytest plugin and ``@interlace.check`` share: the session's settings, and pytest's
``skip``/``xfail`` carried across an execution.

The plugin (``pytest_plugin.py``) fills :data:`pytest_session`; ``api.check`` reads it, so a
decorated test replays ``--interlace-replay``'s token and writes ``--interlace-html``'s page.
A test body that calls ``pytest.skip`` inside an execution raises an exception pytest owns;
:func:`run_test_body` turns it into an outcome of kind ``pytest-outcome`` and
:func:`raise_pytest_outcome` raises it again in the calling test.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from .outcome import FailureKind
from .runtime import current

if TYPE_CHECKING:
    from .api import ExploreResult


@dataclass
class PytestSession:
    """What the pytest plugin tells the API about the test session (one per process)."""

    #: ``pytest --interlace-replay TOKEN``: ``check``-decorated tests replay it.
    replay_token: Optional[str] = None
    #: ``pytest --interlace-html DIR``: a failing ``check``-decorated test writes its page there.
    html_dir: Optional[str] = None
    #: The running test as a command-line argument, for replay commands (``None`` outside the
    #: plugin, or with ``-p no:interlace``).
    test_argument: Optional[str] = None


pytest_session = PytestSession()


def run_test_body(function: Callable[..., Any], args: Sequence[Any], kwargs: dict) -> None:
    """Call a test body in an execution, turning ``pytest.skip``/``xfail`` into an outcome.

    Those are exceptions (``BaseException`` subclasses) that would otherwise be reported as a
    bug in the thread that raised them.  The outcome's summary is ``"skip:MESSAGE"`` or
    ``"xfail:MESSAGE"``; it is never shown, the caller raises the pytest outcome again.
    """
    try:
        function(*args, **kwargs)
    except _pytest_outcome_types() as outcome:
        label = "xfail" if type(outcome).__name__ == "XFailed" else "skip"
        current.scheduler.fail(FailureKind.PYTEST_OUTCOME,
                               f"{label}:{getattr(outcome, 'msg', '') or ''}")


def raise_pytest_outcome(result: "ExploreResult") -> None:
    """Re-raise, in the calling test, a ``pytest.skip``/``xfail`` that an execution's body called."""
    if result.failure is None or result.failure.kind != FailureKind.PYTEST_OUTCOME:
        return
    import pytest
    label, _, message = result.failure.message.partition(":")
    if label == "xfail":
        pytest.xfail(message)
    pytest.skip(message)


def _pytest_outcome_types() -> tuple[type[BaseException], ...]:
    outcomes = sys.modules.get("_pytest.outcomes")  # only if pytest is already in use
    if outcomes is None:
        return ()
    return (outcomes.Skipped, outcomes.XFailed)
