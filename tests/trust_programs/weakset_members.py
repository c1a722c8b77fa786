"""Connections tracked in a WeakSet: each worker's connection dies when it is done, and the
worker that sees the set empty cleans up.  Reachable only when members really die."""
import threading
import weakref


class Conn:
    def __init__(self):
        self.open = True


live = weakref.WeakSet()
cleanups = 0


def worker():
    global cleanups
    c = Conn()
    live.add(c)
    c.open = False
    del c
    if len(live) == 0:
        n = cleanups
        cleanups = n + 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert cleanups == 2, f"cleanups: {cleanups}"
