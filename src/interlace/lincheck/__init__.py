"""Linearizability checking from the operations alone (``docs/linearizability.md``)."""

from .check import LinearizabilityResult, check_linearizable
from .history import History, HistoryRow
from .scenarios import Scenario

__all__ = ["check_linearizable", "LinearizabilityResult", "History", "HistoryRow", "Scenario"]
