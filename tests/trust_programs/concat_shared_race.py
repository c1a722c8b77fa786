"""Bug: the main thread loops over ``shared + []`` (a fresh list whose making reads
``shared``) while a worker appends to ``shared``; the count seen depends on the order.
# expect: bug
"""
import threading

shared = [1]


def grow():
    shared.append(2)


worker = threading.Thread(target=grow)
worker.start()
seen = 0
for x in shared + []:
    seen += 1
worker.join()
assert seen == 2, seen
