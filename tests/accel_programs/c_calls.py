# Calls into C inside loops (the gil model may switch after them), alone and contended.
import threading

items = []
total = [0]


def work(n):
    for i in range(n):
        items.append(i)          # a C method: no eval-breaker check on 3.11+
        total[0] += abs(-i)      # a C function: a switch may follow it
        if len(items) > 50:
            del items[:10]


t = threading.Thread(target=work, args=(700,))
t.start()
t.join()                        # the worker alone
a = threading.Thread(target=work, args=(150,))
b = threading.Thread(target=work, args=(150,))
a.start()
b.start()
a.join()
b.join()
assert total[0] == sum(range(700)) + 2 * sum(range(150)), total[0]
