# expect: safe
# Timer, threading.local, LifoQueue, PriorityQueue, a broken Barrier and a daemon thread.
import queue
import threading
import time

fired = []
timer = threading.Timer(5.0, lambda: fired.append(time.monotonic()))
timer.start()
timer.join()
assert fired, "the timer never fired"

local = threading.local()
seen = []


def use_local(i):
    local.value = i
    time.sleep(0)
    seen.append(local.value == i)


ts = [threading.Thread(target=use_local, args=(i,)) for i in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert all(seen), seen

lifo, prio = queue.LifoQueue(), queue.PriorityQueue()
for i in (2, 1, 3):
    lifo.put(i)
    prio.put(i)
assert [lifo.get() for _ in range(3)] == [3, 1, 2]
assert [prio.get() for _ in range(3)] == [1, 2, 3]
try:
    queue.Queue().get(timeout=30)
except queue.Empty:
    pass
else:
    raise AssertionError("get on an empty queue must time out")

barrier = threading.Barrier(2)
broken = []


def wait_broken():
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        broken.append(True)


w = threading.Thread(target=wait_broken)
w.start()
barrier.abort()
w.join()
assert broken == [True], broken

forever = threading.Event()
threading.Thread(target=forever.wait, daemon=True).start()  # never set: must not block exit
