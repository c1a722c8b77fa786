# expect: safe
# Correct use of Event, Queue, Barrier and a thread pool: nothing to report.
import queue
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

go = threading.Event()
q = queue.Queue()
barrier = threading.Barrier(2)
results = []


def producer():
    go.wait()
    for i in range(3):
        q.put(i)
    q.put(None)
    barrier.wait()


def consumer():
    go.set()
    while True:
        item = q.get()
        if item is None:
            break
        results.append(item)
    barrier.wait()


ts = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert results == [0, 1, 2], results

with ThreadPoolExecutor(max_workers=2) as pool:
    futures = [pool.submit(pow, 2, i) for i in range(4)]
    got = sorted(f.result() for f in as_completed(futures))
assert got == [1, 2, 4, 8], got
assert list(ThreadPoolExecutor(2).map(abs, [-1, -2])) == [1, 2]
