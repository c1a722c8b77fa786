# expect: free-threaded=bug gil=bug gil-3.9=bug  # kind: assertion
# Check-then-act on a dict whose missing values come from a factory: a key can be built twice.
# Every model: bug.  The factory is a Python function: its entry checks the eval breaker on
# 3.11-3.13 (3.10 also after the call returns), inside the window between `not in` and the
# store.
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
cache = {}
created = []


def make(key):
    created.append(key)
    return [key]


def get(key):
    if key not in cache:
        cache[key] = make(key)
    return cache[key]


def worker():
    for key in range(N):
        get(key)


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(created) == len(set(created)), f"{len(created) - len(set(created))} keys built twice"
