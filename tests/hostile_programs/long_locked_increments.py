"""Correct and long: two threads x 20,000 locked increments (more scheduling points than
--max-steps' default)."""
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
lock = threading.Lock()
count = 0


def work():
    global count
    for _ in range(N):
        with lock:
            count += 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert count == 2 * N, count
