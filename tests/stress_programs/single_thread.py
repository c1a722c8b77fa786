# Checks that the stress bootstrap is transparent for ordinary programs:
# runs as __main__, argv/path like `python SCRIPT`, tiny switch interval set,
# sequential start/join of threads (incl. a Thread subclass overriding run)
# works and is not delayed noticeably.
import os
import sys
import threading
import time

assert __name__ == "__main__", __name__
assert os.path.basename(sys.argv[0]) == "single_thread.py", sys.argv
assert os.path.samefile(sys.path[0], os.path.dirname(os.path.abspath(__file__))), sys.path[0]
assert sys.getswitchinterval() <= 1e-6 * 1.5, sys.getswitchinterval()

# plain single-threaded work
total = sum(range(1000))
assert total == 499500


class Sub(threading.Thread):
    def __init__(self):
        threading.Thread.__init__(self)
        self.result = None

    def run(self):
        self.result = threading.current_thread() is self


results = []
t0 = time.monotonic()
for i in range(20):
    t = threading.Thread(target=results.append, args=(i,))
    t.start()
    t.join()
s = Sub()
s.start()
s.join()
elapsed = time.monotonic() - t0
assert results == list(range(20)), results
assert s.result is True
# 21 sequential starts; the gate may cost ~1 ms each, never the 5 ms cap
# (generous bound for slow CI machines).
assert elapsed < 1.0, elapsed
print("ok")
