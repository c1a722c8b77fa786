"""The shrinker on synthetic attempt functions: plain Python, no execution."""

from __future__ import annotations

from interlace.outcome import Outcome
from interlace.engine.shrinker import (PASSES, Shrinker, cut_tail, drop_and_move, drop_runs, drop_single,
                                       move_earlier, move_later, other_thread, shrink, sort_key)


def outcome(devs, preemptions=None, steps=100, threads=3):
    devs = tuple(devs)
    return Outcome(failed=True, deviations=devs,
                   preemptions=len(devs) if preemptions is None else preemptions,
                   steps=steps, threads=[f"t{i}" for i in range(threads)])


def counting(predicate, preemptions=None):
    """An attempt that fails iff ``predicate(devs)``; records every call."""
    calls = []

    def attempt(devs):
        calls.append(devs)
        if not predicate(devs):
            return None
        return outcome(devs, preemptions(devs) if preemptions else None)

    return attempt, calls


def test_needs_one_deviation_shrinks_to_exactly_it():
    start = [(3, 1), (7, 2), (12, 1), (20, 2), (25, 0), (31, 1)]
    attempt, calls = counting(lambda d: (20, 2) in d)
    best, spent = shrink(outcome(start), attempt, 300)
    assert list(best.deviations) == [(20, 2)]
    assert spent == len(calls)


def test_no_candidate_runs_twice():
    start = [(i * 5, i % 3) for i in range(1, 12)]
    attempt, calls = counting(lambda d: any(t == 2 for _, t in d) and len(d) >= 2)
    best, _ = shrink(outcome(start), attempt, 10_000)
    assert len(calls) == len(set(calls))
    assert len(best.deviations) == 2


def test_bounded_by_executions_and_keeps_best_so_far():
    start = [(i, 1 + i % 2) for i in range(1, 40)]
    attempt, calls = counting(lambda d: len(d) >= 1)
    best, spent = shrink(outcome(start), attempt, 5)
    assert spent == 5 == len(calls)
    assert sort_key(best) <= sort_key(outcome(start))


def test_same_input_same_result():
    start = [(i * 3, 1 + i % 2) for i in range(1, 20)]
    pred = lambda d: sum(t for _, t in d) >= 5  # noqa: E731
    first = shrink(outcome(start), counting(pred)[0], 50)
    second = shrink(outcome(start), counting(pred)[0], 50)
    assert first[0].deviations == second[0].deviations and first[1] == second[1]


def test_move_later_turns_a_preemption_into_a_free_switch():
    # at step 10 the running thread ends: a switch there is no preemption
    def preemptions(devs):
        return sum(1 for step, _ in devs if step != 10)

    attempt, _ = counting(lambda d: len(d) == 1 and d[0][1] == 1 and d[0][0] <= 10, preemptions)
    best, _ = shrink(outcome([(3, 1)], preemptions=1, steps=40), attempt, 300)
    assert list(best.deviations) == [(10, 1)] and best.preemptions == 0


def test_move_earlier_makes_shorter_executions():
    def attempt(devs):
        if len(devs) == 1 and devs[0][0] >= 4:
            return outcome(devs, steps=devs[0][0] + 10)
        return None

    best, _ = shrink(outcome([(30, 1)], steps=40), attempt, 300)
    assert list(best.deviations) == [(4, 1)]


def test_other_thread_pass_is_tried():
    def attempt(devs):
        if devs == ((5, 2),):
            return outcome(devs, preemptions=0)
        if devs == ((5, 1),):
            return outcome(devs, preemptions=1)
        return None

    shrinker = Shrinker(outcome([(5, 1)], preemptions=1), attempt, 300)
    best = shrinker.run()
    assert list(best.deviations) == [(5, 2)]
    assert shrinker.improvements.get("other_thread") == 1


def test_replayed_normalized_deviations_count_as_tried():
    # the replay reports the deviations it really made (an entry naming the default choice
    # disappears): that schedule is not run again
    def attempt(devs):
        calls.append(devs)
        real = tuple(d for d in devs if d != (9, 0))
        return outcome(real) if (4, 1) in real else None

    calls: list = []
    shrink(outcome([(4, 1), (9, 0), (15, 2)]), attempt, 300)
    assert ((4, 1),) not in calls[calls.index(((4, 1), (9, 0))) + 1:] if ((4, 1), (9, 0)) in calls else True
    assert len(calls) == len(set(calls))


def test_passes_yield_what_their_names_say():
    devs = ((2, 1), (5, 2), (9, 1), (14, 0))
    best = outcome(devs, steps=20)
    assert list(cut_tail(devs, best)) == [(), devs[:1], devs[:2], devs[:3]]
    assert ((2, 1), (14, 0)) in list(drop_runs(devs, best))
    assert list(drop_single(devs, best))[0] == devs[:3]
    assert ((3, 1), (5, 2), (9, 1), (14, 0)) in list(move_later(devs, best))
    assert all(c[0][0] < 5 for c in move_later(devs, best) if c[1:] == devs[1:])
    assert ((2, 1), (5, 2), (8, 1), (14, 0)) in list(move_earlier(devs, best))
    assert ((2, 0), (5, 2), (9, 1), (14, 0)) in list(other_thread(devs, best))
    assert [name for name, _ in PASSES] == ["cut_tail", "drop_runs", "drop_single", "move_later",
                                            "move_earlier", "other_thread", "drop_and_move"]
    assert ((5, 2), (11, 1), (14, 0)) in list(drop_and_move(devs, best))


def test_progress_is_reported_per_attempt():
    seen = []
    attempt, _ = counting(lambda d: (6, 1) in d)
    shrink(outcome([(2, 2), (6, 1)]), attempt, 300, on_attempt=lambda s, b: seen.append((s, b)))
    assert seen and seen[0] == (1, 300) and [s for s, _ in seen] == list(range(1, len(seen) + 1))


def test_empty_failure_needs_no_execution():
    attempt, calls = counting(lambda d: True)
    best, spent = shrink(outcome([]), attempt, 300)
    assert spent == 0 and calls == [] and list(best.deviations) == []


def test_dropping_a_switch_renumbers_the_steps_after_it():
    # the failure needs one switch, 3 steps earlier once the first deviation is gone
    def attempt(devs):
        if devs == ((4, 1), (20, 2)) or devs == ((17, 2),):
            return outcome(devs)
        return None

    best, _ = shrink(outcome([(4, 1), (20, 2)]), attempt, 300)
    assert list(best.deviations) == [(17, 2)]
