# expect: bug  # kind: assertion
# l = l + [x] rebinds: a concurrent append can be lost.
import threading

l = []


def add(x):
    global l
    l = l + [x]


threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(l) == 2, l
