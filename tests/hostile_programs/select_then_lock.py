"""Correct: two threads each wait in select.select (real time, outside control), then lock."""
import select
import sys
import threading

WAIT = float(sys.argv[1]) if len(sys.argv) > 1 else 2.8
lock = threading.Lock()
total = 0


def worker():
    global total
    select.select([], [], [], WAIT)
    with lock:
        total += 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert total == 2
