# expect: safe
# Threads that start threads, with an RLock taken re-entrantly.
import threading

lock = threading.RLock()
total = []


def leaf(i):
    with lock:
        with lock:
            total.append(i)


def parent():
    kids = [threading.Thread(target=leaf, args=(i,)) for i in range(2)]
    for k in kids:
        k.start()
    for k in kids:
        k.join()


p = threading.Thread(target=parent)
p.start()
p.join()
assert sorted(total) == [0, 1], total
