"""Correct when its input is "3\\n": reads standard input, then two threads share a lock."""
import sys
import threading

n = int(sys.stdin.read())
lock = threading.Lock()
total = []


def add():
    with lock:
        total.append(n)


threads = [threading.Thread(target=add) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert sum(total) == 2 * n == 6, total
