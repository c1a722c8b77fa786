import threading, bisect

class SortedList:
    def __init__(self):
        self.items = []
        self.lock = threading.Lock()

    def add(self, x):
        with self.lock:
            i = bisect.bisect_left(self.items, x)
        # bug: insert outside the lock, with a stale index
        self.items.insert(i, x)

    def check(self):
        assert self.items == sorted(self.items), self.items

s = SortedList()

def worker(base):
    for k in range(6):
        s.add(base + 3 * k)

threads = [threading.Thread(target=worker, args=(b,)) for b in range(3)]
for t in threads: t.start()
for t in threads: t.join()
s.check()
