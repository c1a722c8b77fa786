# expect: race
# pair: 10 10
# Two threads add into the same slot of a shared list: a read-modify-write of one item.
import threading

totals = [0, 0]


def add(amount):
    totals[0] = totals[0] + amount


threads = [threading.Thread(target=add, args=(n,)) for n in (1, 2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
