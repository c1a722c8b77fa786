"""The spare child: the next execution's process, forked while the current one runs
(``executor.Spare``, used by ``engine.pool.Pool``)."""

from __future__ import annotations

import os
import textwrap

import pytest

from interlace.engine.pool import Pool
from interlace.models import Model
from interlace.runtime.executor import ExecutionSpec
from interlace.runtime.policies import DEFAULT_SCHEDULE, RandomWalk


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


def test_the_next_execution_runs_in_the_spare_forked_while_the_last_one_ran(script):
    with Pool(1) as pool:
        pool.submit(0, _spec(script))
        spare = pool._spare
        assert spare is not None and _alive(spare.pid)
        _, first = pool.next_outcome()
        pool.submit(1, _spec(script, "fail", RandomWalk(3)))
        assert pool._running[1].pid == spare.pid
        _, second = pool.next_outcome()
    assert not first.failed
    assert second.failed and "asked to fail" in second.summary


def test_no_spare_outlives_its_pool(script):
    with Pool(1) as pool:
        pool.submit(0, _spec(script))
        pool.next_outcome()
        spare = pool._spare
    assert spare is not None and not _alive(spare.pid)  # killed and reaped, not a zombie


def test_a_spare_killed_from_outside_is_replaced_by_a_fresh_fork(script):
    with Pool(1) as pool:
        pool.submit(0, _spec(script))
        pool.next_outcome()
        dead = pool._spare.pid
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

    with Pool(1) as pool:
        pool.submit(0, _spec(script, target=first))
        spare = pool._spare
        _, outcome = pool.next_outcome()
        assert not outcome.failed
        pool.submit(1, _spec(script, target=second))
        assert pool._running[1].pid != spare.pid and not _alive(spare.pid)
        _, outcome = pool.next_outcome()
    assert outcome.failed and "the second target ran" in outcome.summary
