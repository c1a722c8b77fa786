"""The search: pick the loop for the configured strategy, run it, return what it established.

- ``pct`` and ``random``: :mod:`.sampling` (independent executions from ``(seed, index)``);
- ``dpor``: :mod:`.systematic` (the branches of DPOR trees);
- ``portfolio``: :mod:`.portfolio` (bounded DPOR, PCT, random walks and POS over one budget).

Around every loop, :mod:`.failure` shrinks the first failure and replays it with full
recording.  Settings and their defaults live in :mod:`interlace.config`, results in
:mod:`interlace.outcome`; both are re-exported here for callers of the engine.
"""

from __future__ import annotations

from typing import Optional

from ..config import (DEFAULT_BUDGET, DEFAULT_DEPTH, DEFAULT_DPOR_BUDGET, DEFAULT_MAX_STEPS,
                      DEFAULT_PREEMPTIONS, DEFAULT_STRATEGY, DEFAULT_TIMEOUT, STRATEGIES,
                      SearchConfig, default_budget, default_preemptions)
from ..outcome import SearchResult
from .failure import replay_recorded
from .sampling import ProgressFn, execution_seed, learned_from, own_indices

__all__ = ["search", "SearchConfig", "SearchResult", "ProgressFn", "STRATEGIES",
           "DEFAULT_STRATEGY", "DEFAULT_BUDGET", "DEFAULT_DPOR_BUDGET", "DEFAULT_PREEMPTIONS",
           "DEFAULT_TIMEOUT", "DEFAULT_DEPTH", "DEFAULT_MAX_STEPS", "default_budget",
           "default_preemptions", "execution_seed", "learned_from", "own_indices",
           "replay_recorded"]


def search(config: SearchConfig, progress: Optional[ProgressFn] = None) -> SearchResult:
    config.validate()
    if config.strategy == "dpor":
        from .systematic import search_systematic
        return search_systematic(config, progress)
    if config.strategy == "portfolio":
        from .portfolio import search_portfolio
        return search_portfolio(config, progress)
    from .sampling import search_sampling
    return search_sampling(config, progress)
