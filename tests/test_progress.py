"""The progress bar follows whichever limit ends the run first; it says when it minimizes."""

import io
import sys

from interlace.report import progress as progress_mod
from interlace.report.progress import fraction_done, progress_bar


def test_a_huge_budget_fills_with_time():
    # budget 100,000 under a 50 s limit: after 25 s and 300 executions the bar is half full
    assert fraction_done(300, 100_000, 25.0, 50.0) == 0.5


def test_a_small_budget_fills_with_executions():
    assert fraction_done(900, 1000, 1.0, 50.0) == 0.9


def test_without_a_time_limit_only_executions_count_and_it_never_overflows():
    assert fraction_done(30, 300, 999.0, None) == 0.1
    assert fraction_done(5, 0, 1.0, None) == 0.0
    assert fraction_done(10, 5, 100.0, 1.0) == 1.0


def test_the_bar_accepts_the_minimizing_phase_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    with progress_bar(100, timeout=10.0) as advance:
        advance(5, 100)
        advance(7, 300, 1, phase="minimizing")


def test_off_a_terminal_it_is_silent(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_bar(100, timeout=10.0) as advance:
        advance(1, 100, phase="minimizing")
    assert capsys.readouterr().err == "" and progress_mod is not None
