"""report/trace.py on synthetic recorded events: windows around preemptions, nothing else."""

from interlace.report.trace import LIMIT, relevant_trace


def access(step, tid, write, value=None, loc=("attr", 1, "a")):
    return {"kind": "access", "tid": tid, "step": step, "text": "Counter.a", "file": None,
            "line": None, "write": write, "value": value, "location": loc}


def switch(preempted):
    return {"kind": "switch", "preempted": preempted}


def start(tid):
    return {"kind": "start", "tid": tid, "step": 0, "text": f"t{tid} starts", "file": None,
            "line": None, "write": False, "value": None, "location": None}


def lost_update(loops=5000):
    """t1 reads 7, is preempted, t2 runs a long loop, t1 writes its stale 8 back much later."""
    events = [start(0), start(1)]
    step = 0
    for i in range(loops):  # t1 counts alone
        events += [access(step, 0, False, str(i)), access(step + 1, 0, True, str(i + 1))]
        step += 2
    events += [access(step, 0, False, "stale"), switch(True)]
    for i in range(loops):
        events += [access(step + 1 + 2 * i, 1, False), access(step + 2 + 2 * i, 1, True)]
    step += 2 * loops + 1
    events += [switch(False), access(step, 0, True, "stale+1")]
    for i in range(loops):
        events += [access(step + 1 + 2 * i, 0, False), access(step + 2 + 2 * i, 0, True)]
    return events


def test_short_traces_are_whole():
    events = [start(0), start(1), access(1, 0, False), switch(True), access(2, 1, True),
              switch(False), access(3, 0, True)]
    lines, omitted = relevant_trace(events, ["a", "b"])
    assert omitted == 0 and [line.kind for line in lines] == ["start", "start", "access", "access", "access"]


def test_long_trace_shows_the_preemption_and_the_stale_write_not_only_the_tail():
    lines, omitted = relevant_trace(lost_update(), ["t1", "t2"])
    assert omitted > 10_000 and len(lines) < 2 * LIMIT
    values = [line.value for line in lines]
    assert "stale" in values  # the losing thread's read before the preemption
    assert "stale+1" in values  # ...and where it writes what it read, much later
    assert any(line.preempted for line in lines)
    gaps = [line for line in lines if line.kind == "omitted"]
    assert gaps and sum(g.omitted for g in gaps) == omitted
    assert lines[-1].kind == "access"  # the end is shown


def test_stale_read_far_before_the_preemption_is_kept():
    # pool-style: the read, then many shared accesses of other locations before the switch
    events = [start(0), start(1), access(1, 0, False, "stale", loc=("g", "x"))]
    for i in range(400):
        events.append(access(2 + i, 0, i % 2 == 0, loc=("g", "queue")))
        events.append(access(2 + i, 1, i % 2 == 1, loc=("g", "queue")))
    events += [switch(True), access(900, 1, True, "new", loc=("g", "x")),
               switch(False), access(901, 0, True, "stale+1", loc=("g", "x"))]
    lines, _ = relevant_trace(events, ["t1", "t2"])
    assert [line.value for line in lines if line.location == ("g", "x")] == ["stale", "new", "stale+1"]


def test_json_lines_carry_the_omitted_count_not_internal_fields():
    lines, _ = relevant_trace(lost_update(), ["t1", "t2"])
    data = [line.as_dict() for line in lines]
    assert "location" not in data[0]
    assert any(d["kind"] == "omitted" and d["omitted"] > 0 for d in data)


def test_a_membership_check_shows_what_it_saw_only_without_program_code():
    from interlace.runtime.access import contains_seen

    class Key(str):
        def __hash__(self):
            raise AssertionError("the observer ran __hash__")

    assert contains_seen({"k": 1}, "k") == "True"
    assert contains_seen({1, 2}, 3) == "False"
    assert contains_seen({"k": 1}, Key("k")) is None  # a subclass may run its own code
    assert contains_seen({"k": 1}, ("k",)) is None
    assert contains_seen(["k"], "k") is None
