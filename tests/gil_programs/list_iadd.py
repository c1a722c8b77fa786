# expect: free-threaded=safe gil=safe gil-3.9=safe
# `l += [x]` extends the same list in place (one C call): no element is ever lost.
# Every model: no bug.
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
l = []


def add(first):
    global l
    for x in range(first, first + N):
        l += [x]


threads = [threading.Thread(target=add, args=(i * N,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(l) == 2 * N, f"lost {2 * N - len(l)} elements"
