# Classic lost update: two threads do `counter += 1` without a lock.
import threading

N = 20000
counter = 0


def worker():
    global counter
    for _ in range(N):
        counter += 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counter == 2 * N, "lost updates: counter=%d" % counter
