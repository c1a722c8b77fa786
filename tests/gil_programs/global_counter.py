# expect: free-threaded=bug gil=safe gil-3.9=bug  # kind: assertion
# `counter = counter + 1` in a loop, from two threads.
# free-threaded: bug; gil (3.10-3.13): none, no eval-breaker check between LOAD_GLOBAL and
# STORE_GLOBAL; gil-3.9: bug, 3.9 checks after BINARY_ADD.
# Argument: iterations per thread (default sized for `interlace stress`).
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
counter = 0


def worker():
    global counter
    for _ in range(N):
        counter = counter + 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counter == 2 * N, f"lost updates: {counter} != {2 * N}"
