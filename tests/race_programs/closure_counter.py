# expect: race
# pair: 12 12
# A counter in a closure cell, incremented by two threads without a lock.
import threading


def make_counter():
    count = 0

    def bump():
        nonlocal count
        count += 1
        return count

    return bump


bump = make_counter()
threads = [threading.Thread(target=bump) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
