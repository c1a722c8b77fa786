"""Bug: a writer sets both halves of a shared pair, a reader unpacks it.  ``a, b = pair``
reads the list's contents (``UNPACK_SEQUENCE``), not only the variable ``pair``.
# expect: bug
"""
import threading

pair = [0, 0]


def writer():
    pair[0] = 1
    pair[1] = 1


def reader():
    a, b = pair
    assert a == b, (a, b)


threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
