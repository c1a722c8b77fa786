"""A program that does not repeat itself: each run reads and bumps a counter in a file
(argv[1]) and touches a different global depending on it.  Systematic search must say
"inconclusive", never "verified"."""
import sys
import threading

with open(sys.argv[1]) as f:
    runs = int(f.read() or 0)
with open(sys.argv[1], "w") as f:
    f.write(str(runs + 1))
a = b = shared = 0


def worker():
    global a, b, shared
    shared += 1
    if runs % 2:
        a = 1
    else:
        b = 1
    shared += 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
