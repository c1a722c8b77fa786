"""interlace.check_linearizable: the history checker on hand-written histories, scenarios,
operation names, wrong arguments, and whole checks of classes with and without races."""

import collections
import functools
import math
import queue
import threading

import pytest

import interlace
from interlace.lincheck.check import NondeterministicOperations, SequentialSpec
from interlace.lincheck.checker import check_history
from interlace.lincheck.history import Call, History, HistoryRow, Raised, Returned, same_result
from interlace.lincheck.operations import parse_operations
from interlace.lincheck.scenarios import plan, smaller, systematic, systematic_count


# -- classes under test ----------------------------------------------------------------------

class Counter:
    """``inc`` returns the new value; unlocked: two increments can both return 1."""

    def __init__(self):
        self.value = 0

    def inc(self):
        self.value = self.value + 1
        return self.value

    def get(self):
        return self.value


class LockedCounter(Counter):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def inc(self):
        with self.lock:
            self.value = self.value + 1
            return self.value


class HalfLockedStack:
    """``push`` takes the lock, ``pop`` does not: two pops can take the same item."""

    def __init__(self):
        self.items = []
        self.lock = threading.Lock()

    def push(self, item):
        with self.lock:
            self.items.append(item)

    def pop(self):
        if not self.items:
            return None
        top = self.items[-1]
        del self.items[-1]
        return top


class LRUCache:
    """An ``OrderedDict`` LRU without a lock: ``get`` checks, then reads, while a ``put`` evicts."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.data = collections.OrderedDict()

    def get(self, key):
        if key not in self.data:
            return None
        self.data.move_to_end(key)
        return self.data[key]

    def put(self, key, value):
        self.data[key] = value
        self.data.move_to_end(key)
        if len(self.data) > self.capacity:
            self.data.popitem(last=False)


def inc(counter):
    return counter.inc()


COUNTER_OPS = {"inc": inc, "get": lambda c: c.get()}


# -- the checker on hand-written histories (no execution) --------------------------------------

def calls(*rows):
    """``(thread, op, result, called, returned)`` rows; an exception type as result raises."""
    out = []
    for thread, op, result, called, returned in rows:
        if isinstance(result, type) and issubclass(result, BaseException):
            result = Raised(result, "")
        else:
            result = Returned(result)
        out.append(Call(thread, op, result, called, returned))
    return out


def counter_spec():
    return SequentialSpec(Counter, [inc, lambda c: c.get()])


def test_overlapping_increments_that_both_return_one_are_not_linearizable():
    history = calls((0, 0, 1, 1, 4), (1, 0, 1, 2, 3))
    verdict = check_history(history, counter_spec())
    assert not verdict.linearizable
    assert len(verdict.order) == 1  # one of them can go first (returning 1)...
    assert [m.sequential.value for m in verdict.mismatches] == [2]  # ...the other would get 2


def test_overlapping_calls_may_take_effect_in_either_order():
    # T1 returned 2 although it was called first: fine, they overlapped
    verdict = check_history(calls((0, 0, 2, 1, 4), (1, 0, 1, 2, 3)), counter_spec())
    assert verdict.linearizable
    assert verdict.order == (1, 0)


def test_real_time_order_is_kept_when_calls_do_not_overlap():
    # T1 returned (at 2) before T2 was called (at 3), so T1's increment comes first
    assert not check_history(calls((0, 0, 2, 1, 2), (1, 0, 1, 3, 4)), counter_spec()).linearizable
    assert check_history(calls((0, 0, 1, 1, 2), (1, 0, 2, 3, 4)), counter_spec()).linearizable


def test_program_order_of_one_thread_is_kept():
    # one thread: get -> 1 then inc -> 1 is impossible in that order, though each result occurs
    history = calls((0, 1, 1, 1, 2), (0, 0, 1, 3, 4))
    assert not check_history(history, counter_spec()).linearizable


def test_exceptions_are_results_compared_by_type_and_message():
    spec = SequentialSpec(queue.Queue, [lambda q: q.put_nowait(1), lambda q: q.get_nowait()])
    # get overlaps put: it may run first and raise Empty
    assert check_history(calls((0, 0, None, 1, 4), (1, 1, queue.Empty, 2, 3)), spec).linearizable
    # get called after put returned must see the item
    late = calls((0, 0, None, 1, 2), (1, 1, queue.Empty, 3, 4))
    verdict = check_history(late, spec)
    assert not verdict.linearizable
    assert verdict.mismatches[0].sequential.value == 1
    # the same exception type with another message is another result
    assert not same_result(Raised(KeyError, "'a'"), Raised(KeyError, "'b'"))
    assert same_result(Raised(KeyError, "'a'"), Raised(KeyError, "'a'"))
    assert not same_result(Raised(KeyError, "'a'"), Raised(LookupError, "'a'"))


def test_results_compare_with_equality_and_identity():
    assert same_result(Returned([1, 2]), Returned([1, 2]))
    nan = math.nan
    assert same_result(Returned(nan), Returned(nan))
    assert not same_result(Returned(1), Raised(ValueError, "1"))

    class Broken:
        def __eq__(self, other):
            raise RuntimeError("no comparing")

    with pytest.raises(RuntimeError):  # never a guess either way
        same_result(Returned(Broken()), Returned(Broken()))


def test_the_cache_makes_many_overlapping_increments_cheap():
    # eight overlapping increments returning 1..8 in a scrambled order: linearizable, and the
    # configurations explored stay near the number of calls (calls of one operation commute
    # in the state, which is the sequence of operations applied)
    n = 8
    results = [3, 1, 8, 2, 7, 4, 6, 5]
    history = [Call(t, 0, Returned(results[t]), t + 1, 2 * n - t) for t in range(n)]
    spec = counter_spec()
    verdict = check_history(history, spec)
    assert verdict.linearizable
    assert [results[i] for i in verdict.order] == list(range(1, n + 1))
    # not linearizable: two calls return 8; the search must exhaust, and the cache bounds it
    results[0] = 8
    history = [Call(t, 0, Returned(results[t]), t + 1, 2 * n - t) for t in range(n)]
    verdict = check_history(history, counter_spec())
    assert not verdict.linearizable
    assert verdict.explored <= 2 ** n  # one per set of placed calls at most, not n! orders


def test_malformed_histories_are_refused():
    with pytest.raises(ValueError, match="return after it was called"):
        check_history(calls((0, 0, 1, 3, 2)), counter_spec())
    with pytest.raises(ValueError, match="share one point"):
        check_history(calls((0, 0, 1, 1, 2), (1, 0, 2, 2, 3)), counter_spec())


def test_nondeterministic_operations_are_reported_not_judged():
    import itertools
    ticket = itertools.count()
    spec = SequentialSpec(object, [lambda o: next(ticket)])
    assert spec((0, 0)).value == 1 and spec((0,)).value == 0  # one replay fills every prefix
    del spec.results[(0, 0)]
    with pytest.raises(NondeterministicOperations, match="different results"):
        spec((0, 0))  # replayed again, its first call now gives 2


def test_the_explanation_names_the_longest_matching_order_and_what_would_come_next():
    from interlace.lincheck.check import explain
    history = calls((2, 0, 1, 1, 2), (0, 0, 2, 3, 6), (1, 0, 2, 4, 5))  # init inc, then T1 | T2
    verdict = check_history(history, counter_spec())
    text = explain(verdict, history, ("T1", "T2", "init"), ("inc", "get"))
    assert text.splitlines() == [
        "The longest order that gives the recorded results: init inc -> 1, T2 inc -> 2.",
        "After it, no call can come next:",
        "  T1 inc would give 3 there, but gave 2",
    ]


def test_history_table():
    history = History([HistoryRow("T2", "q.get_nowait()", "raised Empty", 2, 3),
                       HistoryRow("T1", "q.put_nowait(1)", "None", 1, 4)])
    assert [row.thread for row in history] == ["T1", "T2"]  # in call order
    assert str(history).splitlines() == [
        "thread  operation        result        order",
        "T1      q.put_nowait(1)  None          1 -> 4",
        "T2      q.get_nowait()   raised Empty  2 -> 3",
    ]


# -- scenarios -----------------------------------------------------------------------------------

def test_scenarios_small_first_and_symmetric_ones_once():
    all_of_them = list(systematic(2, 2, 2))
    assert all_of_them[:3] == [((), ((0,), (0,))), ((), ((0,), (1,))), ((), ((1,), (1,)))]
    assert len(all_of_them) == len(set(all_of_them)) == systematic_count(2, 2, 2) == 3 + 10
    assert all(list(ops) == sorted(ops) for _, ops in all_of_them)  # canonical: threads sorted
    with_init = list(systematic(2, 2, 2, init_ops=1))
    assert len(with_init) == systematic_count(2, 2, 2, 1) == 3 + 2 * 3 + 10 + 2 * 10
    sizes = [len(init) + sum(map(len, ops)) for init, ops in with_init]
    assert sizes == sorted(sizes)  # fewest calls first: one init call comes before 2 x 2
    assert with_init[3] == ((0,), ((0,), (0,)))


def test_plan_is_systematic_when_it_fits_then_random_from_the_seed():
    assert plan(2, 2, 2, 50, seed=0) == list(systematic(2, 2, 2))
    first = plan(3, 2, 3, 20, seed=1, init_ops=2)
    assert len(first) == len(set(first)) == 20
    assert first[:10] == list(systematic(3, 2, 3, 2))[:10]
    assert all(len(thread) == 3 and len(init) <= 2 for init, ops in first[10:] for thread in ops)
    assert plan(3, 2, 3, 20, seed=1, init_ops=2) == first
    assert plan(3, 2, 3, 20, seed=2, init_ops=2) != first


def test_smaller_scenarios_drop_an_init_call_a_thread_or_an_operation():
    assert list(smaller(((1,), ((0, 1), (2,))))) == [
        ((), ((0, 1), (2,))), ((1,), ((2,),)), ((1,), ((0, 1),)), ((1,), ((1,), (2,))),
        ((1,), ((0,), (2,)))]
    assert list(smaller(((), ((0,),)))) == []


# -- operation names ---------------------------------------------------------------------------

def test_operations_are_named_after_functions_and_lambda_source():
    ops = parse_operations([inc, lambda c: c.get(), lambda q: q.put_nowait(1),
                            functools.partial(inc)])
    assert ops.names == ("inc", "c.get()", "q.put_nowait(1)", "op3")
    named = parse_operations({"put": lambda q: q.put(1), "put again": lambda q: q.put(1)})
    assert named.names == ("put", "put again")
    assert parse_operations([inc, inc]).names == ("inc", "inc #2")
    assert parse_operations([inc]).index("inc", "scenario") == 0


# -- wrong arguments: clear errors before anything runs -----------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: interlace.check_linearizable(42, [inc]), TypeError, "factory must be callable"),
    (lambda: interlace.check_linearizable(Counter, inc), TypeError, "single callable"),
    (lambda: interlace.check_linearizable(Counter, []), ValueError, "operations is empty"),
    (lambda: interlace.check_linearizable(Counter, {inc}), TypeError, "not a set"),
    (lambda: interlace.check_linearizable(Counter, "inc"), TypeError, "got str"),
    (lambda: interlace.check_linearizable(Counter, [inc, 3]), TypeError, r"operations\[1\] must be callable"),
    (lambda: interlace.check_linearizable(Counter, {1: inc}), TypeError, "non-empty string"),
    (lambda: interlace.check_linearizable(Counter, [inc], threads=1), ValueError, "threads must be at least 2"),
    (lambda: interlace.check_linearizable(Counter, [inc], threads="2"), TypeError, "threads must be an integer"),
    (lambda: interlace.check_linearizable(Counter, [inc], ops_per_thread=0), ValueError, "ops_per_thread"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenarios=0), ValueError, "scenarios"),
    (lambda: interlace.check_linearizable(Counter, [inc], budget=0), ValueError, "budget"),
    (lambda: interlace.check_linearizable(Counter, [inc], strategy="bfs"), ValueError, "unknown strategy"),
    (lambda: interlace.check_linearizable(Counter, [inc], timeout=0), ValueError, "timeout"),
    (lambda: interlace.check_linearizable(Counter, [inc], model="gil-2.7"), ValueError, "model"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario="inc"), TypeError, "list of threads"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario=[]), ValueError, "scenario is empty"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario=[[]]), ValueError, r"scenario\[0\] is empty"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario=[["dec"]]), ValueError, "no operation named 'dec'"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario=[[1]]), ValueError, "out of range"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario={"init": ["inc"]}),
     ValueError, "keys 'threads' and optionally 'init'"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario={"init": "inc", "threads": [[0]]}),
     TypeError, r"scenario\['init'\] must be a list"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario={"init": [2], "threads": [[0]]}),
     ValueError, "out of range"),
    (lambda: interlace.check_linearizable(Counter, [inc], init_ops=-1), ValueError, "init_ops"),
    (lambda: interlace.check_linearizable(Counter, [inc], replay="il1:x"), ValueError, "replay"),
    (lambda: interlace.check_linearizable(Counter, [inc], scenario=[["inc"]], replay="garbage"),
     ValueError, "replay"),
])
def test_wrong_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- whole checks (searches) ---------------------------------------------------------------------

@pytest.mark.slow
def test_an_unlocked_counter_is_not_linearizable_and_the_report_has_everything():
    result = interlace.check_linearizable(Counter, COUNTER_OPS)
    assert not result.ok and result.verdict == "not-linearizable"
    assert result.scenario.threads == (("inc",), ("inc",))
    assert [(row.operation, row.result) for row in result.history] == [("inc", "1"), ("inc", "1")]
    first, second = result.history
    assert first.called < second.called < first.returned  # they overlapped
    assert result.schedule.startswith("il1:")
    assert result.replay_call == (
        "interlace.check_linearizable(Counter, operations, scenario=[['inc'], ['inc']], "
        f"replay={result.schedule!r})")
    with pytest.raises(AssertionError) as raised:
        result.assert_ok()
    message = str(raised.value)
    for part in ("NOT LINEARIZABLE: Counter", "T1: inc", str(result.history).splitlines()[1],
                 "Interleaving", "read  Counter.value -> 0", result.replay_call,
                 "would give 2 there, but gave 1"):
        assert part in message, part
    # the replay call replays: same history, from the token alone
    operations = COUNTER_OPS
    replayed = interlace.check_linearizable(Counter, operations, scenario=[["inc"], ["inc"]],
                                            replay=result.schedule)
    assert not replayed.ok and replayed.history == result.history
    assert replayed.executions == 1
    # a token recorded for another scenario is refused, not followed
    with pytest.raises(ValueError, match="recorded for different code"):
        interlace.check_linearizable(Counter, operations, scenario=[["inc"], ["get"]],
                                     replay=result.schedule)


@pytest.mark.slow
def test_a_locked_counter_is_linearizable_and_the_report_says_how_much_was_checked():
    result = interlace.check_linearizable(LockedCounter, COUNTER_OPS, init_ops=0)
    assert result.ok and result.verdict == "no-violation-found"
    assert result.scenario is None and result.history is None and result.trace == ""
    assert result.scenarios == systematic_count(2, 2, 2) == 13 and result.exhaustive
    assert result.executions >= result.scenarios
    assert "No linearizability violation found in 13 scenarios" in result.report
    assert "every scenario of 2 threads x 1 to 2 operations" in result.report
    # DPOR per scenario, then random walks for what DPOR cannot see
    assert "every interleaving of each explored (preemption bound 2), then 10 random walks each" \
        in result.report
    assert result.executions >= 13 * 10
    assert "not a proof" in result.report
    result.assert_ok()


@pytest.mark.slow
def test_queue_put_nowait_get_nowait_is_linearizable_with_switches_inside_queue():
    # include=["queue"]: switch points inside queue.py too, so its own locking is what is checked
    result = interlace.check_linearizable(
        queue.Queue, [lambda q: q.put_nowait(1), lambda q: q.put_nowait(2),
                      lambda q: q.get_nowait()], include=["queue"], scenarios=10)
    assert result.ok, result.report
    assert result.scenarios == 10 and result.executions >= 10


@pytest.mark.slow
def test_deque_append_popleft_is_linearizable_under_pct():
    result = interlace.check_linearizable(
        collections.deque, {"append 1": lambda d: d.append(1), "append 2": lambda d: d.append(2),
                            "popleft": lambda d: d.popleft()}, strategy="pct", budget=10,
        scenarios=8)
    assert result.ok, result.report
    assert result.scenarios == 8 and not result.exhaustive
    assert "strategy pct, up to 10 executions each" in result.report


@pytest.mark.slow
def test_a_stack_that_locks_push_but_not_pop_is_not_linearizable():
    result = interlace.check_linearizable(
        HalfLockedStack, [lambda s: s.push(1), lambda s: s.push(2), lambda s: s.pop()])
    assert not result.ok and result.verdict == "not-linearizable", result.report
    # the smallest scenario that shows it: one push as the init part, then two racing pops
    assert result.scenario.size == 3 and result.scenario.threads == (("s.pop()",), ("s.pop()",))
    assert [(row.thread, row.result) for row in result.history][0] == ("init", "None")
    assert "init: s.push(" in result.report and "after 1 init call" in result.report
    pops = [row.result for row in result.history if row.operation == "s.pop()"]
    assert "1" in pops and sorted(pops) != ["1", "None"]  # both went for the same item
    replayed = interlace.check_linearizable(
        HalfLockedStack, [lambda s: s.push(1), lambda s: s.push(2), lambda s: s.pop()],
        scenario=eval(result.scenario.argument()), replay=result.schedule)
    assert not replayed.ok and replayed.history == result.history


@pytest.mark.slow
def test_an_unlocked_ordereddict_lru_is_not_linearizable():
    result = interlace.check_linearizable(
        lambda: LRUCache(1), [lambda c: c.put("a", 1), lambda c: c.put("b", 2),
                              lambda c: c.get("a")])
    assert not result.ok and result.verdict == "not-linearizable", result.report
    # Two puts suffice (one evicts "a" between the other's store and its move_to_end: a
    # KeyError), or a get and a put (the eviction falls between get's check and its read).
    assert {row.operation for row in result.history} <= {'c.put("a", 1)', 'c.put("b", 2)',
                                                         'c.get("a")'}
    assert len(result.history) >= 2
    # at most 4 calls on 3.10, whose hooks do not see the OrderedDict method calls as accesses
    assert result.scenario.size <= 4


@pytest.mark.slow
def test_a_failing_scenario_is_minimized_to_fewer_threads():
    result = interlace.check_linearizable(Counter, [inc], threads=3, ops_per_thread=1)
    assert not result.ok
    assert result.found_scenario.threads == (("inc",),) * 3
    assert result.scenario.threads == (("inc",),) * 2
    assert "minimized from 3 threads x 1 operation" in result.report


@pytest.mark.slow
def test_a_deadlock_is_reported_as_a_bug_not_as_a_history():
    class Transfers:
        def __init__(self):
            self.a, self.b = threading.Lock(), threading.Lock()

        def ab(self):
            with self.a:
                with self.b:
                    return 1

        def ba(self):
            with self.b:
                with self.a:
                    return 2

    result = interlace.check_linearizable(Transfers, [lambda t: t.ab(), lambda t: t.ba()])
    assert not result.ok and result.verdict == "bug"
    assert result.failure.kind == "deadlock" and result.history is None
    assert "BUG FOUND while checking linearizability of Transfers" in result.report


@pytest.mark.slow
def test_an_exploration_inside_an_execution_is_refused():
    def nested(state):
        interlace.check_linearizable(Counter, [inc])

    result = interlace.explore(dict, [nested], budget=1)
    assert not result.ok and "NestedExploration" in result.failure.message


@pytest.mark.slow
def test_a_time_limit_stops_between_scenarios_and_says_so():
    result = interlace.check_linearizable(LockedCounter, COUNTER_OPS, timeout=1)
    assert result.ok and 1 <= result.scenarios <= 30
    if result.scenarios < 30:  # on any machine where 30 scenarios take more than a second
        assert "the 1 s time limit was reached" in result.report
        assert "30 planned" in result.report


@pytest.mark.slow
def test_jobs_share_each_scenario_search():
    result = interlace.check_linearizable(Counter, [inc], ops_per_thread=1, init_ops=0, jobs=2)
    assert not result.ok and result.scenario.threads == (("inc",), ("inc",))
