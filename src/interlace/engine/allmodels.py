"""``interlace run --model all``: search every switch model, say under which ones the bug occurs.

Each model gets its own search with the same execution budget and an equal share of the time
that is left (so the whole command stays within ``--timeout``).  Free-threaded goes first: it
allows every interleaving the GIL models allow, so it finds bugs fastest, and its result is
the one printed in full.  The other models only need a yes/no, so their failures are not
shrunk.

A model's answer is "yes" (a failing execution was found), "no" (only when a search without a
preemption bound was exhaustive, verdict ``verified``), "no within the preemption bound" (a
bounded systematic search ran out), or "not found within budget": a random or PCT search that
found nothing is no proof that the model cannot fail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, Optional

from ..config import SearchConfig
from ..models import MODEL_LABELS, Model
from ..outcome import SearchResult, Verdict
from .sampling import ProgressFn
from .search import search

#: Search order: the most permissive model first.
ORDER = (Model.FREE_THREADED, Model.GIL_39, Model.GIL)
#: Report order: newest interpreters first.
DISPLAY = (Model.FREE_THREADED, Model.GIL, Model.GIL_39)

YES, NO, NOT_FOUND, NOT_SEARCHED = "yes", "no", "not found within budget", "not searched"
#: A bounded systematic search ran out: no within the bound, which is not a plain "no".
NO_WITHIN_BOUND = "no within the preemption bound"


@dataclass
class ModelVerdict:
    model: Model
    #: ``None`` when the search was not run (interrupted before it).
    result: Optional[SearchResult]

    @property
    def label(self) -> str:
        return MODEL_LABELS[self.model]

    @property
    def status(self) -> str:
        result = self.result
        if result is None:
            return NOT_SEARCHED
        if result.found:
            return YES
        if result.verdict is Verdict.VERIFIED:
            return NO if result.verified_bound is None else NO_WITHIN_BOUND
        return NOT_FOUND

    def scope(self) -> str:
        """How much was explored, for an answer that is not a plain yes."""
        result = self.result
        if result is None:
            return "interrupted before this model"
        if result.verdict is Verdict.VERIFIED:
            why = (f"every interleaving the search reaches within preemption bound "
                   f"{result.verified_bound} explored; --preemptions none for a plain no")
        else:
            why = result.stopped_by.short(result.config)
        return f"{result.executions} execution(s), {why}"

    def as_dict(self) -> dict:
        result = self.result
        data = {"model": self.model.value, "label": self.label, "status": self.status}
        if result is not None:
            data.update(verdict=result.verdict.value, executions=result.executions,
                        seconds=round(result.seconds, 3), stopped_by=result.stopped_by.value,
                        kind=result.kind.value if result.kind is not None else None,
                        summary=result.summary,
                        schedule=result.schedule.token() if result.schedule else None)
        return data


def search_all_models(config: SearchConfig,
                      progress_for: Optional[Callable[[Model], ProgressFn]] = None,
                      ) -> tuple[SearchResult, list[ModelVerdict]]:
    """Search each model in :data:`ORDER`; return the result to show and every model's verdict."""
    deadline = time.monotonic() + config.timeout
    verdicts: list[ModelVerdict] = []
    primary: Optional[SearchResult] = None
    interrupted = False
    for n, model in enumerate(ORDER):
        left = deadline - time.monotonic()
        if interrupted:  # one Ctrl-C stops the whole run: every later model is not searched
            verdicts.append(ModelVerdict(model, None))
            continue
        # an equal share of what is left: time a fast model did not use goes to the others
        share = max(left / (len(ORDER) - n), 1.0)
        shrink = config.shrink and primary is None
        model_config = replace(config, model=model, timeout=share, shrink=shrink)
        progress = progress_for(model) if progress_for is not None else None
        result = search(model_config, progress=progress)
        verdicts.append(ModelVerdict(model, result))
        interrupted = result.stopped_by == "interrupt"
        if primary is None and result.found:
            primary = result
    if primary is None:
        primary = next(v.result for v in verdicts if v.result is not None)
    verdicts.sort(key=lambda v: DISPLAY.index(v.model))
    return primary, verdicts


def summary_line(verdicts: list[ModelVerdict]) -> str:
    """``free-threaded: yes, CPython 3.11-3.13: not found within budget, CPython <= 3.9: yes``."""
    return ", ".join(f"{v.label}: {v.status}" for v in verdicts)
