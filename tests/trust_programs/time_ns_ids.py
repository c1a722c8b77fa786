"""A time-based ID generator made strictly increasing by a racy fix-up."""
import threading
import time

last = 0
ids = []


def next_id():
    global last
    now = time.time_ns()
    if now <= last:
        now = last + 1
    last = now
    return now


def worker():
    ids.append(next_id())


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(set(ids)) == len(ids), f"duplicate ids: {ids}"
