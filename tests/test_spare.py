"""The spare child: the next execution's process, forked while the current one runs
(``executor.Spare``, used by ``engine.pool.Pool``)."""

from __future__ import annotations

import os
import textwrap
from dataclasses import replace

import pytest

from conftest import ROOT

from interlace.engine.pool import Pool
from interlace.models import Model
from interlace.runtime.executor import ExecutionSpec, run_execution, shape
from interlace.runtime.policies import DEFAULT_SCHEDULE, PCT, POS, RandomWalk, Replay


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def script(tmp_path):
    """A two-thread program that fails when ``argv[1]`` says so, and checks it runs in a
    temporary directory of its own."""
    path = tmp_path / "two.py"
    path.write_text(textwrap.dedent("""
        import sys, tempfile, threading
        assert "interlace-execution-" in tempfile.gettempdir(), tempfile.gettempdir()
        box = []
        t = threading.Thread(target=box.append, args=(1,))
        t.start(); t.join()
        assert box == [1]
        assert sys.argv[1] != "fail", "asked to fail"
    """))
    return str(path)


def _spec(script: str, argv: str = "pass", policy=DEFAULT_SCHEDULE, **kw) -> ExecutionSpec:
    return ExecutionSpec(script, (argv,), Model.FREE_THREADED, policy, **kw)


def _spare(pool: Pool, spec: ExecutionSpec):
    return pool._spares.get(shape(spec))


def test_the_next_execution_runs_in_the_spare_forked_while_the_last_one_ran(script):
    with Pool(1, fork_ahead=True) as pool:
        pool.submit(0, _spec(script, "fail"))
        spare = _spare(pool, _spec(script, "fail"))
        assert spare is not None and _alive(spare.pid)
        _, first = pool.next_outcome()
        pool.submit(1, _spec(script, "fail", RandomWalk(3)))
        assert pool._running[1].pid == spare.pid
        _, second = pool.next_outcome()
    for outcome in (first, second):
        assert outcome.failed and "asked to fail" in outcome.summary


def test_no_spare_outlives_its_pool(script):
    with Pool(1, fork_ahead=True) as pool:
        pool.submit(0, _spec(script))
        pool.next_outcome()
        spare = _spare(pool, _spec(script))
    assert spare is not None and not _alive(spare.pid)  # killed and reaped, not a zombie


def test_a_spare_killed_from_outside_is_replaced_by_a_fresh_fork(script):
    with Pool(1, fork_ahead=True) as pool:
        pool.submit(0, _spec(script))
        pool.next_outcome()
        dead = _spare(pool, _spec(script)).pid
        os.kill(dead, 9)
        os.waitpid(dead, 0)
        pool.submit(1, _spec(script, "fail"))
        assert pool._running[1].pid != dead
        _, outcome = pool.next_outcome()
    assert outcome.failed and "asked to fail" in outcome.summary


def test_a_spare_forked_for_another_target_is_not_used(script):
    ran = []

    def first() -> None:
        ran.append(1)

    def second() -> None:
        raise AssertionError("the second target ran")

    with Pool(1, fork_ahead=True) as pool:
        pool.submit(0, _spec(script, target=first))
        spare = _spare(pool, _spec(script, target=first))
        _, outcome = pool.next_outcome()
        assert not outcome.failed
        pool.submit(1, _spec(script, target=second))
        assert pool._running[1].pid != spare.pid
        _, outcome = pool.next_outcome()
    assert outcome.failed and "the second target ran" in outcome.summary
    assert not _alive(spare.pid)


def test_a_pool_keeps_at_most_two_spares(script):
    with Pool(1, fork_ahead=True) as pool:
        specs = [_spec(script, str(n)) for n in range(3)]
        for n, spec in enumerate(specs):
            pool.submit(n, spec)
            pool.next_outcome()
        oldest = [s.pid for s in pool._spares.values()]
        assert len(pool._spares) == 2 and _spare(pool, specs[0]) is None
    assert not any(_alive(pid) for pid in oldest)


def test_recorded_and_unrecorded_executions_each_have_their_spare(script):
    """The portfolio alternates recorded (DPOR) and unrecorded turns: a spare of each."""
    recorded, plain = _spec(script, record=True), _spec(script)
    with Pool(1, fork_ahead=True) as pool:
        for n, spec in enumerate([recorded, plain, recorded, plain]):
            expected = _spare(pool, spec)
            pool.submit(n, spec)
            if n >= 2:
                assert pool._running[n].pid == expected.pid
            _, outcome = pool.next_outcome()
            assert not outcome.failed
            assert (outcome.events is not None) == spec.record


#: Two threads, three unlocked ``counter += 1`` each: many scheduling points, no assertion.
RACY = str(ROOT / "tests" / "race_programs" / "lost_update.py")


@pytest.mark.parametrize("policy", [RandomWalk(1), RandomWalk(2, switch_probability=1.0),
                                    PCT(5, 3, 60), PCT(6, 3, 60, together=True), POS(7),
                                    Replay(((3, 1), (5, 0), (6, 1)))],
                         ids=repr)
def test_a_spare_runs_a_policy_exactly_as_a_fresh_fork_does(policy):
    """The spare's scheduler is made before its policy is known and adopts it later (and
    the C accelerator reads it again): the schedule must be the same choice for choice."""
    spec = ExecutionSpec(RACY, (), Model.FREE_THREADED, policy, record=True)
    fresh = run_execution(spec)
    with Pool(1, fork_ahead=True) as pool:
        pool.submit(0, replace(spec, policy=DEFAULT_SCHEDULE))
        pool.next_outcome()
        pool.submit(1, spec)
        _, spared = pool.next_outcome()
    assert spared.steps == fresh.steps and spared.steps > 10
    assert spared.choices == fresh.choices
    assert spared.deviations == fresh.deviations
    assert (spared.failed, spared.summary) == (fresh.failed, fresh.summary)


def test_children_are_forked_ahead_only_with_a_core_to_spare(script, monkeypatch):
    import interlace.engine.pool as pool_module
    monkeypatch.setattr(pool_module, "cpu_count", lambda: 2)
    assert Pool(1).fork_ahead and not Pool(2).fork_ahead
    monkeypatch.setattr(pool_module, "cpu_count", lambda: 1)
    assert not Pool(1).fork_ahead
    with Pool(1) as pool:
        pool.submit(0, _spec(script))
        assert not pool._spares
        _, outcome = pool.next_outcome()
    assert not outcome.failed
