"""Unit tests of the engine's parts, in this process: schedules and their tokens, policies,
the split of a systematic search, outcomes and settings.  No execution is forked here."""

import json
import pickle

import pytest

from interlace.config import (DEFAULT, DEFAULT_BUDGET, DEFAULT_DPOR_BUDGET, DEFAULT_PREEMPTIONS,
                              SearchConfig, search_config)
from interlace.engine.partition import Prefix, owned, split
from interlace.engine.schedule import Schedule, program_hash, python_tag
from interlace.models import Model
from interlace.outcome import FailureKind, Outcome, SearchResult, StopReason, Verdict
from interlace.runtime.policies import (DEFAULT_SCHEDULE, PCT, POS, PCTPolicy, POSPolicy,
                                        RandomPolicy, RandomWalk, Replay, ReplayPolicy,
                                        StartTogether, Systematic, SystematicPolicy,
                                        default_choice)
from interlace.runtime.threads import ManagedThread, State
from interlace.runtime.waitqueue import WaitQueue


def threads(n):
    return [ManagedThread(tid, f"t{tid}", False) for tid in range(n)]


# -- schedules and tokens ------------------------------------------------------------------------

@pytest.mark.parametrize("deviations", [(), ((3, 1),), ((1, 2), (7, 0), (40, 3))])
def test_a_schedule_survives_its_token(deviations):
    schedule = Schedule(Model.GIL, "py312", "0badc0de", deviations)
    again = Schedule.parse(schedule.token())
    assert again == schedule
    assert again.token() == schedule.token()
    assert again.policy() == Replay(deviations)


def test_a_token_reads_as_documented():
    schedule = Schedule.parse("il1:py311:free-threaded:3f2a9c1e:31.2,39.0")
    assert schedule.model is Model.FREE_THREADED and schedule.python == "py311"
    assert schedule.script_hash == "3f2a9c1e" and schedule.deviations == ((31, 2), (39, 0))
    assert Schedule.parse("il1:py311:gil:3f2a9c1e:-").deviations == ()


@pytest.mark.parametrize("token, message", [
    ("garbage", "not an interlace il1 schedule token"),
    ("il2:py311:gil:00:-", "not an interlace il1 schedule token"),
    ("il1:py311:gil:00:1.x", "bad step"),
    ("il1:py311:gil:00:1.2,", "bad step"),
    ("il1:py311:quantum:00:-", "unknown model"),
])
def test_bad_tokens_are_refused_with_the_reason(token, message):
    with pytest.raises(ValueError, match=message):
        Schedule.parse(token)


def test_a_schedule_of_a_script_names_its_program_and_interpreter(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("x = 1\n")
    config = SearchConfig(script=str(script), model=Model.GIL)
    schedule = Schedule.of(config, [[5, 1], [9, 0]])  # lists, as they come out of JSON
    assert schedule.deviations == ((5, 1), (9, 0))
    assert schedule.python == python_tag() and schedule.model is Model.GIL
    assert schedule.script_hash == program_hash(config) and len(schedule.script_hash) == 8
    script.write_text("x = 2\n")
    assert Schedule.of(config, ()).script_hash != schedule.script_hash


# -- policies ------------------------------------------------------------------------------------

def test_the_default_choice_keeps_the_running_thread_else_the_lowest():
    t = threads(3)
    assert default_choice(t, t[1]) is t[1]
    assert default_choice([t[0], t[2]], t[1]) is t[0]
    assert default_choice(t, None) is t[0]
    t[1].state = State.BLOCKED
    t[1].deadline = 1.0  # runnable only because its timeout may fire: not kept
    assert default_choice(t, t[1]) is t[0]


def test_the_default_schedule_is_a_replay_of_nothing():
    assert DEFAULT_SCHEDULE == Replay(())
    policy = DEFAULT_SCHEDULE.build()
    t = threads(3)
    assert all(policy.choose(step, t, t[2]) is t[2] for step in range(1, 50))


def test_replay_follows_its_deviations_and_ignores_impossible_ones():
    t = threads(3)
    policy = ReplayPolicy([(2, 1), (5, 2)])
    assert policy.choose(1, t, t[0]) is t[0]
    assert policy.choose(2, t, t[0]) is t[1]
    assert policy.choose(5, [t[0], t[1]], t[1]) is t[1]  # thread 2 cannot run: default
    # quiet until the step before the next deviation; never after the last
    assert policy.quiet_until(2) == 4 and policy.quiet_until(0) == 1
    assert policy.quiet_until(5) > 10**9


def test_a_random_walk_is_its_seed():
    t = threads(4)

    def walk(seed):
        policy = RandomWalk(seed).build()
        current, out = t[0], []
        for step in range(1, 200):
            current = policy.choose(step, t, current)
            out.append(current.tid)
        return out

    assert walk(7) == walk(7)
    assert walk(7) != walk(8)
    assert set(walk(7)) == {0, 1, 2, 3}
    assert isinstance(RandomWalk(1).build(), RandomPolicy)


def test_pct_runs_the_highest_priority_thread_until_a_change_point():
    t = threads(3)
    policy = PCT(seed=3, depth=2, step_bound=10).build()
    assert isinstance(policy, PCTPolicy)
    for thread in t:
        policy.thread_created(thread)
    (change,) = policy._changes  # depth 2: one change point, within the bound
    assert 1 <= change <= 10
    first = policy.choose(1, t, t[0])
    assert all(policy.choose(s, t, first) is first for s in range(2, change))
    assert policy.quiet_until(1) == min(change - 1, 10)
    after = policy.choose(change, t, first)
    assert after is not first  # it dropped below every initial priority
    assert policy.choose(change + 1, t, after) is after


def test_pct_turns_into_a_random_walk_past_its_step_bound():
    policy = PCT(seed=1, depth=3, step_bound=5).build()
    t = threads(2)
    for thread in t:
        policy.thread_created(thread)
    assert policy.quiet_until(5) == 5 and policy.random_walk()[2] == 6
    picks = {policy.choose(step, t, t[0]).tid for step in range(6, 200)}
    assert picks == {0, 1}


def test_pos_is_its_seed_and_keeps_a_thread_until_its_priority_is_redrawn():
    t = threads(3)

    def run(seed):
        policy = POS(seed).build()
        assert isinstance(policy, POSPolicy)
        for thread in t:
            policy.thread_created(thread)
        current, out = t[0], []
        for step in range(1, 300):
            current = policy.choose(step, t, current)
            out.append(current.tid)
        return out

    assert run(4) == run(4) and run(4) != run(5)
    assert set(run(4)) == {0, 1, 2}


def test_start_together_holds_new_threads_until_their_creator_blocks():
    t = threads(4)
    policy = RandomWalk(seed=2, switch_probability=1.0, together=True).build()
    assert isinstance(policy, StartTogether)
    policy.thread_created(t[0])
    for thread in t[1:]:  # the main thread starts three threads, one by one
        policy.thread_created(thread)
        assert all(policy.choose(step, t, t[0]) is t[0] for step in range(1, 30))
    t[0].state = State.BLOCKED  # it joins: all three are released at once, for good
    picks = [policy.choose(step, t[1:], None).tid for step in range(30, 40)]
    t[0].state = State.RUNNABLE
    picks += [policy.choose(step, t, t[0]).tid for step in range(40, 200)]
    assert set(picks) == {0, 1, 2, 3}


def test_start_together_gives_up_on_a_creator_that_never_blocks():
    t = threads(2)
    policy = StartTogether(PCTPolicy(seed=1, depth=1, step_bound=1000), patience=10)
    for thread in t:
        policy.thread_created(thread)
    policy._inner._priority = {0: 1.0, 1: 2.0}  # the new thread would run first
    assert [policy.choose(s, t, t[0]).tid for s in range(1, 11)] == [0] * 10
    assert policy.choose(11, t, t[0]) is t[1]  # a spin loop waiting for it ends


class _FakeScheduler:
    def __init__(self):
        self.concluded = []
        self.log = None

    def conclude(self, outcome):
        self.concluded.append(outcome)
        raise _Concluded


class _Concluded(Exception):
    pass


def test_systematic_follows_its_prefix_then_the_default_choice():
    t = threads(3)
    policy = Systematic(prefix=(1, 2)).build()
    assert isinstance(policy, SystematicPolicy)
    policy.attach(_FakeScheduler())
    assert policy.choose(1, t, t[0]) is t[1]
    assert policy.choose(2, t, t[1]) is t[2]
    assert policy.choose(3, t, t[2]) is t[2]


def test_systematic_reports_a_prefix_it_cannot_follow_as_divergence():
    t = threads(3)
    policy = Systematic(prefix=(2,)).build()
    sched = _FakeScheduler()
    policy.attach(sched)
    with pytest.raises(_Concluded):
        policy.choose(1, t[:2], t[0])
    (outcome,) = sched.concluded
    assert outcome.diverged and not outcome.failed and "thread 2 could not run" in outcome.summary


def test_systematic_stops_when_every_runnable_thread_sleeps():
    t = threads(2)
    sched = _FakeScheduler()
    policy = SystematicPolicy((), {0: object(), 1: object()}, stop_when_asleep=True)
    policy._wake_dependents = lambda: None  # nothing ran that could wake them
    policy.attach(sched)
    with pytest.raises(_Concluded):
        policy.choose(1, t, t[0])
    assert sched.concluded[0].sleep_blocked
    bounded = SystematicPolicy((), {0: object(), 1: object()}, stop_when_asleep=False)
    bounded._wake_dependents = lambda: None
    bounded.attach(sched)
    assert bounded.choose(4, t, t[1]) is t[1]  # runs on under a bound, and says from where
    out = Outcome()
    bounded.report(out)
    assert out.asleep_from == 4


# -- the split of a systematic search ------------------------------------------------------------

def _tree_runner(enabled_at, fail_at=None):
    """A fake ``run_all``: every prefix runs into choice points where ``enabled_at(prefix)``
    threads can run (the running thread is the last chosen one), for three choice points."""
    calls = []

    def run_all(prefixes):
        calls.append([p.choices for p in prefixes])
        out = []
        for prefix in prefixes:
            choices = []
            path = list(prefix.choices)
            for depth in range(3):
                enabled = enabled_at(tuple(path[:depth]))
                if depth == len(path):
                    path.append(path[-1] if path else enabled[0])  # then the default: keep going
                running = path[depth - 1] if depth else None
                choices.append((enabled, path[depth], running, 0))
            failed = fail_at is not None and prefix.choices == fail_at
            out.append(Outcome(failed=failed, kind=FailureKind.ASSERTION if failed else None,
                               choices=choices, events=[]))
        return out

    return run_all, calls


def test_split_expands_choice_points_until_every_part_has_a_subtree():
    run_all, calls = _tree_runner(lambda path: (0, 1))
    parts = split(run_all, wanted=4, preemption_bound=None)
    assert parts.failure is None and parts.divergence is None
    assert len(parts.roots) >= 4
    choices = [r.choices for r in parts.roots]
    assert len(set(choices)) == len(choices)  # no subtree twice
    assert parts.executions == sum(len(c) for c in calls)


def test_split_respects_the_preemption_bound():
    run_all, _ = _tree_runner(lambda path: (0, 1, 2))
    parts = split(run_all, wanted=50, preemption_bound=0)
    assert all(r.preemptions == 0 for r in parts.roots)


def test_split_stops_at_the_first_failure():
    run_all, _ = _tree_runner(lambda path: (0, 1), fail_at=(1,))
    parts = split(run_all, wanted=8, preemption_bound=None)
    assert parts.failure is not None and parts.failure.failed


def test_shards_own_disjoint_roots_that_cover_all_of_them():
    roots = [Prefix((i,), live=i % 3 != 0) for i in range(10)]
    shares = [owned(roots, (k, 3)) for k in (1, 2, 3)]
    assert sorted(i for share in shares for i in share) == list(range(10))
    assert all(share for share in shares)
    assert owned(roots, None) == list(range(10))


# -- the wait queue ------------------------------------------------------------------------------

class _Parking:
    """A scheduler stand-in: ``block`` records who parks on what; the test decides the end."""

    def __init__(self, timed_out=False):
        self.parked, self.timed_out = [], timed_out

    def block(self, resource, deadline=None):
        self.parked.append((resource, deadline))
        return self.timed_out


def test_a_wait_queue_wakes_in_arrival_order_and_never_twice():
    queue = WaitQueue("the lock")
    first, second, third = queue.enter("a"), queue.enter("b"), queue.enter("c")
    woken = []
    assert queue.wake(woken.append, 2) == 2 and woken == ["a", "b"]
    assert first.woken and second.woken and not third.woken
    assert queue.wake(woken.append, 2) == 1 and woken == ["a", "b", "c"]  # a and b were woken
    queue.leave(second)
    queue.leave(second)  # leaving twice is harmless (a wait that ended twice over)
    assert [t.thread for t in queue] == ["a", "c"] and len(queue) == 2


def test_a_wait_queue_marks_tickets_once_nobody_can_be_woken():
    queue = WaitQueue("cond")
    ticket = queue.enter(None)  # a thread interlace does not manage: it polls its ticket
    assert queue.wake(None) == 1 and ticket.woken


def test_waiting_parks_on_the_resource_and_leaves_the_queue():
    queue, sched = WaitQueue("the lock"), _Parking(timed_out=True)
    assert queue.wait(sched, "a", deadline=5.0) is True
    assert sched.parked == [("the lock", 5.0)] and len(queue) == 0
    assert queue.wait(_Parking(), "a") is False and len(queue) == 0


# -- outcomes and results ------------------------------------------------------------------------

def test_an_outcome_pickles_with_its_types():
    outcome = Outcome(failed=True, kind=FailureKind.DEADLOCK, summary="stuck", steps=4,
                      deviations=((2, 1),), threads=["MainThread", "t"], choices=[((0, 1), 1, 0, 0)])
    again = pickle.loads(pickle.dumps(outcome))
    assert again == outcome and again.kind is FailureKind.DEADLOCK
    assert again.steps == 4 and again.events is None and again.started_threads
    assert not hasattr(again, "get")  # typed fields only: no dict-style reading left


def test_enums_are_their_strings_and_carry_their_prose():
    assert Verdict.BUG == "bug" and Verdict("no-bug-found") is Verdict.NO_BUG_FOUND
    assert Verdict.INCONCLUSIVE.value == "inconclusive"
    assert FailureKind.INTERNAL_ERROR.value == "internal-error"
    assert f"{StopReason.TIMEOUT}" == "timeout" and json.dumps([Verdict.VERIFIED]) == '["verified"]'
    assert all(v.prose for v in Verdict) and all(k.prose for k in FailureKind)
    config = SearchConfig(budget=7, timeout=3)
    assert "7 executions" in StopReason.BUDGET.sentence(config)
    assert all(r.sentence(config) and r.short(config) for r in StopReason)
    assert not FailureKind.HANG.replays and FailureKind.EXIT.replays


def test_a_result_takes_strings_for_its_enums():
    result = SearchResult("bug", SearchConfig(), 3, 0.5, "bug", kind="exception")
    assert result.verdict is Verdict.BUG and result.stopped_by is StopReason.BUG
    assert result.kind is FailureKind.EXCEPTION and result.found and not result.internal_error
    with pytest.raises(ValueError):
        SearchResult("sort-of", SearchConfig(), 0, 0.0, "budget")


# -- settings ------------------------------------------------------------------------------------

def test_defaults_follow_the_strategy():
    assert search_config(strategy="pct").budget == DEFAULT_BUDGET
    assert search_config(strategy="pct").preemptions is None
    dpor = search_config(strategy="dpor")
    assert dpor.budget == DEFAULT_DPOR_BUDGET and dpor.preemptions == DEFAULT_PREEMPTIONS
    assert search_config(strategy="dpor", preemptions=None).preemptions is None
    assert search_config(strategy="dpor", preemptions=DEFAULT).preemptions == DEFAULT_PREEMPTIONS


@pytest.mark.parametrize("options, error, message", [
    (dict(budget=0), ValueError, r"budget must be at least 1 \(got 0\)"),
    (dict(budget=True), TypeError, "budget must be an integer"),
    (dict(strategy="magic"), ValueError, "strategy: unknown strategy 'magic'"),
    (dict(timeout=float("nan")), ValueError, "timeout must be positive"),
    (dict(timeout=float("inf")), ValueError, "finite"),
    (dict(timeout="10"), TypeError, "timeout must be a number of seconds"),
    (dict(depth=0), ValueError, "depth must be at least 1"),
    (dict(jobs=0), ValueError, "jobs must be at least 1"),
    (dict(strategy="pct", preemptions=2), ValueError, "use it with strategy='dpor'"),
    (dict(strategy="dpor", preemptions=-1), ValueError, "preemptions must be at least 0"),
    (dict(shard=(3, 2)), ValueError, "shard must be I/N"),
    (dict(model="gil-2.7"), ValueError, "model: unknown model"),
    (dict(include="requests"), TypeError, "include must be a list"),
])
def test_one_validation_names_the_setting(options, error, message):
    with pytest.raises(error, match=message):
        search_config(**options)


def test_a_config_built_directly_is_checked_by_the_search():
    with pytest.raises(ValueError, match="budget must be at least 1"):
        SearchConfig(budget=0).validate()


@pytest.mark.parametrize("verdict, stopped_by, kind, status", [
    ("bug", "bug", "assertion", 1),
    ("no-bug-found", "budget", None, 0),
    ("verified", "exhausted", None, 0),
    ("no-bug-found", "single-threaded", None, 0),
    ("setup-error", "setup-error", "exit", 2),
    ("inconclusive", "nondeterminism", None, 3),
    ("bug", "bug", "internal-error", 3),
    ("no-bug-found", "interrupt", None, 130),
    ("bug", "bug", "exception", 1),  # interrupted while shrinking: the bug still counts
])
def test_exit_statuses(verdict, stopped_by, kind, status):
    from interlace.cli import exit_status
    assert exit_status(SearchResult(verdict, SearchConfig(), 1, 0.0, stopped_by, kind=kind)) == status
