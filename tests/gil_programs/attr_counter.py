# expect: free-threaded=bug gil=safe gil-3.9=bug  # kind: assertion
# `self.a += 1` on a plain attribute in a loop, from two threads.
# free-threaded: bug; gil: none (the only check sites are the loop back-edge and the entry);
# gil-3.9: bug (3.9 checks after LOAD_ATTR and INPLACE_ADD).
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000


class Counter:
    def __init__(self):
        self.a = 0

    def run(self):
        for _ in range(N):
            self.a += 1


c = Counter()
threads = [threading.Thread(target=c.run) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert c.a == 2 * N, f"lost updates: {c.a} != {2 * N}"
