"""A cache whose __repr__ expires entries (state changes when it is displayed), with a
check-then-act race: two threads may both compute the same key."""
import threading


class Cache:
    def __init__(self):
        self.data = {}

    def __repr__(self):
        self.data.clear()  # "expire on display": showing it must not be done by an observer
        return f"Cache({len(self.data)} entries)"


cache = Cache()
computed = []


def get(key):
    if key not in cache.data:
        computed.append(key)
        cache.data[key] = key * 2
    return cache.data[key]


def worker():
    assert get(21) == 42


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(computed) == 1, f"computed {len(computed)} times"
