# expect: safe
# micro (b): one thread, an attribute-update loop (self.a += 1), BENCH_N_ATTR iterations (default 1,000,000).
import os
import threading

N = int(os.environ.get("BENCH_N_ATTR", "1000000"))


class Box:
    def __init__(self):
        self.a = 0

    def run(self):
        for _ in range(N):
            self.a += 1


box = Box()
t = threading.Thread(target=box.run)
t.start()
t.join()
assert box.a == N, box.a
