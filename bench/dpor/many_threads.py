"""32 threads, each with two locked increments and one unlocked read of the counter: the
parent's DPOR analysis grows with threads x transitions (issue 22)."""
import sys
import threading

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 32
lock = threading.Lock()
counter = 0
seen = []


def work():
    global counter
    for _ in range(2):
        with lock:
            counter += 1
    seen.append(counter)


threads = [threading.Thread(target=work) for _ in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counter == 2 * THREADS
