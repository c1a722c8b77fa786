# Always passes: two threads update a counter under a lock.
import threading

lock = threading.Lock()
counter = 0


def worker():
    global counter
    for _ in range(100):
        with lock:
            counter += 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counter == 200, counter
