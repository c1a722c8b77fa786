"""No bug, but a shared list is reached through a call's result (``slots()[0]``), which
interlace cannot name: systematic search must not call this verified."""
import threading

items = [0]
lock = threading.Lock()


def slots():
    return items


def worker():
    with lock:
        slots()[0] += 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert items[0] == 2, items
