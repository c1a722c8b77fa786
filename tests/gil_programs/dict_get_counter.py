# expect: free-threaded=bug gil=bug gil-3.9=bug  # kind: assertion
# `counts[k] = counts.get(k, 0) + 1`: dict.get is a C method, and 3.10-3.13 check the eval
# breaker after it returns, before the store.  Every model: bug.
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
counts = {}


def worker():
    for _ in range(N):
        counts["k"] = counts.get("k", 0) + 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counts["k"] == 2 * N, f"lost updates: {counts['k']} != {2 * N}"
