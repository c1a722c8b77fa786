"""The settings of one search: their defaults, and the one place they are checked.

The command line, the Python API and the pytest plugin only translate what the user typed
into :func:`search_config`'s arguments; every rule about what a setting may be lives here, so
the three front ends accept the same values and say the same thing about a bad one.  A
message names the setting as the API spells it (``budget must be at least 1 (got 0)``); the
front ends prefix it with their own spelling where that differs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union

from .models import Model

if TYPE_CHECKING:
    from .engine.target import Target

#: ``portfolio`` interleaves the others over one budget (docs/design.md, "The portfolio").
STRATEGIES = ("pct", "random", "dpor", "portfolio")
DEFAULT_STRATEGY = "portfolio"
#: Strategies that accept a preemption bound (their systematic part uses it).
BOUNDED_STRATEGIES = ("dpor", "portfolio")

#: Executions of a sampling search (and of the portfolio): a plain ``interlace run`` ends
#: within about a minute.
DEFAULT_BUDGET = 1000
#: Systematic search stops when the interleavings run out, normally long before this.
DEFAULT_DPOR_BUDGET = 100_000
#: The portfolio stops when its DPOR tree runs out (safe programs) or at the time limit.
DEFAULT_PORTFOLIO_BUDGET = 10_000
#: DPOR's preemption bound unless told otherwise: most bugs need one to three (CHESS, the
#: SCTBench study; loom recommends 2-3), and without a bound a long test's interleavings
#: cannot be exhausted.  ``--preemptions none`` lifts it, for a full proof.
DEFAULT_PREEMPTIONS = 2
DEFAULT_TIMEOUT = 50.0
#: PCT's bug depth.
DEFAULT_DEPTH = 3
#: Scheduling points after which an execution counts as a livelock.
DEFAULT_MAX_STEPS = 100_000
DEFAULT_SEED = 0
#: Executions the shrinker may spend minimizing a failure (a count: same seed, same token).
DEFAULT_SHRINK_BUDGET = 300
DEFAULT_JOBS = 1
#: Wall-clock limit of one execution before it is killed as hung.
DEFAULT_EXECUTION_TIMEOUT = 30.0
#: The pytest plugin's, per test: smaller than ``interlace run``'s, for a whole test suite.
PYTEST_BUDGET = 100
PYTEST_TIMEOUT = 30.0


class _Default:
    """The "take the strategy's default" value of an option (``preemptions``)."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()


def default_budget(strategy: str) -> int:
    return {"dpor": DEFAULT_DPOR_BUDGET, "portfolio": DEFAULT_PORTFOLIO_BUDGET}.get(strategy, DEFAULT_BUDGET)


def default_preemptions(strategy: str) -> Optional[int]:
    return DEFAULT_PREEMPTIONS if strategy in BOUNDED_STRATEGIES else None


@dataclass(frozen=True)
class SearchConfig:
    #: The program: a script run as ``__main__`` (with ``argv``), or else ``target``.
    script: str = ""
    argv: tuple[str, ...] = ()
    #: ``run -m NAME``: ``script`` is NAME's file, run as ``python -m NAME`` runs it.
    module: Optional[str] = None
    strategy: str = DEFAULT_STRATEGY
    budget: int = DEFAULT_BUDGET
    seed: int = DEFAULT_SEED
    timeout: float = DEFAULT_TIMEOUT
    model: Model = Model.FREE_THREADED
    depth: int = DEFAULT_DEPTH
    max_steps: int = DEFAULT_MAX_STEPS
    include: tuple[str, ...] = ()
    shrink: bool = True
    #: Executions the shrinker may spend (a count, never seconds: same seed, same token).
    shrink_budget: int = DEFAULT_SHRINK_BUDGET
    execution_timeout: float = DEFAULT_EXECUTION_TIMEOUT
    #: dpor and the portfolio's systematic part: at most this many preemptions per execution
    #: (``None``: unbounded).
    preemptions: Optional[int] = None
    #: Worker processes that share the search (1: run in this process).
    jobs: int = DEFAULT_JOBS
    #: ``(index, count)``: run only this part of the search (1-based index), for CI sharding.
    shard: Optional[tuple[int, int]] = None
    #: A Python callable to run instead of ``script`` (the API and the pytest plugin).
    target: Optional["Target"] = None
    #: Timed waits (``Event.wait(5)``, ``acquire(timeout=...)``, ``join(timeout)``...) give up
    #: only when no other thread can run: the program assumes its timeouts never expire.
    assume_no_timeouts: bool = False
    #: Also report data races (happens-before) in every execution (``--races``).
    races: bool = False

    def validate(self) -> None:
        """Raise ``ValueError``/``TypeError`` (naming the setting) unless every field is valid."""
        check_strategy(self.strategy)
        check_int(self.budget, "budget", minimum=1)
        check_int(self.seed, "seed", minimum=None)
        check_seconds(self.timeout, "timeout")
        check_int(self.depth, "depth", minimum=1)
        check_int(self.max_steps, "max-steps", minimum=1)
        check_int(self.shrink_budget, "shrink_budget", minimum=0)
        check_seconds(self.execution_timeout, "execution_timeout")
        check_preemptions(self.preemptions, self.strategy)
        check_int(self.jobs, "jobs", minimum=1)
        check_shard(self.shard)
        if self.shard is not None and self.strategy == "portfolio":
            raise ValueError("shard: a search split across machines needs strategy='pct', "
                             "strategy='random' or strategy='dpor' (the portfolio's turns "
                             "depend on each other)")
        if not isinstance(self.model, Model):
            raise TypeError(f"model must be a Model, got {type(self.model).__name__}")


def search_config(*, strategy: str = DEFAULT_STRATEGY, budget: Optional[int] = None,
                  seed: int = DEFAULT_SEED, timeout: float = DEFAULT_TIMEOUT,
                  model: Union[Model, str] = Model.FREE_THREADED, depth: int = DEFAULT_DEPTH,
                  max_steps: int = DEFAULT_MAX_STEPS, include: Any = (),
                  preemptions: Any = DEFAULT, jobs: int = DEFAULT_JOBS,
                  shard: Optional[tuple[int, int]] = None, shrink: bool = True,
                  script: str = "", argv: tuple[str, ...] = (), module: Optional[str] = None,
                  target: Optional["Target"] = None,
                  assume_no_timeouts: bool = False, races: bool = False) -> SearchConfig:
    """The one translation of user settings into a :class:`SearchConfig`, checked.

    ``budget=None`` and ``preemptions=DEFAULT`` take the strategy's defaults;
    ``preemptions=None`` means no bound.  Raises ``TypeError``/``ValueError`` naming the
    setting, before any execution starts.
    """
    strategy = check_strategy(strategy)
    if budget is None:
        budget = default_budget(strategy)
    if preemptions is DEFAULT:
        preemptions = default_preemptions(strategy)
    config = SearchConfig(script=script, argv=tuple(argv), module=module, strategy=strategy,
                          budget=budget,
                          seed=seed, timeout=check_seconds(timeout, "timeout"),
                          model=check_model(model), depth=depth, max_steps=max_steps,
                          include=check_include(include), shrink=shrink,
                          preemptions=preemptions, jobs=jobs, shard=shard, target=target,
                          assume_no_timeouts=assume_no_timeouts, races=bool(races))
    config.validate()
    return config


# -- the rules, one function per kind of setting -----------------------------------------------

def check_strategy(strategy: Any) -> str:
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        raise ValueError(f"strategy: unknown strategy {strategy!r}: choose one of "
                         f"{', '.join(STRATEGIES)}")
    return strategy


def check_int(value: Any, name: str, minimum: Optional[int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {_short_repr(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum} (got {value})")
    return value


def check_seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not value > 0:  # also rejects NaN, which compares false to everything
        raise ValueError(f"{name} must be positive (got {value})")
    if math.isinf(value):
        raise ValueError(f"{name} must be a finite number of seconds (got {value})")
    return float(value)


def check_preemptions(value: Any, strategy: str) -> Optional[int]:
    if value is None:
        return None
    if strategy not in BOUNDED_STRATEGIES:
        raise ValueError("preemptions: a preemption bound limits systematic search: use it with "
                         + " or ".join(f"strategy='{s}'" for s in BOUNDED_STRATEGIES))
    return check_int(value, "preemptions", minimum=0)


def check_shard(shard: Any) -> Optional[tuple[int, int]]:
    if shard is None:
        return None
    index, count = shard
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"shard must be I/N with 1 <= I <= N (got {index}/{count})")
    return index, count


def check_model(model: Any) -> Model:
    if isinstance(model, Model):
        return model
    if not isinstance(model, str):
        raise TypeError(f"model must be a Model or its name, got {type(model).__name__}")
    try:
        return Model.parse(model)
    except ValueError as exc:
        raise ValueError(f"model: {exc}") from None


def check_include(include: Any) -> tuple[str, ...]:
    """Names of installed packages whose code gets switch points too."""
    from .hooks.scope import _package_dir
    if isinstance(include, str):
        raise TypeError(f"include must be a list of package names, e.g. [{include!r}]")
    names = tuple(include)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"include must hold package names, got {type(name).__name__}")
        try:
            _package_dir(name)
        except (ValueError, ImportError):
            raise ValueError(f"include: no importable package or module named {name!r}") from None
    return names


def cpu_count() -> int:
    """Cores this process may use (``--jobs auto``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _short_repr(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real message
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[:limit - 3] + "..."
