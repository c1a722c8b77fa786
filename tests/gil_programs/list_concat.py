# expect: free-threaded=bug gil=safe gil-3.9=bug  # kind: assertion
# `l = l + [x]` builds a new list from a possibly stale `l`: a concurrent addition can be lost.
# free-threaded: bug; gil: none; gil-3.9: bug.
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
l = []


def add(first):
    global l
    for x in range(first, first + N):
        l = l + [x]


threads = [threading.Thread(target=add, args=(i * N,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(l) == 2 * N, f"lost {2 * N - len(l)} elements"
