"""Correct: closes every file descriptor above 2 (as daemons do), then uses threads."""
import os
import threading

os.closerange(3, 65536)
lock = threading.Lock()
total = []


def add():
    with lock:
        total.append(1)


threads = [threading.Thread(target=add) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert total == [1, 1]
