# expect: safe  # budget: 20
# A then B in one thread, B then A in another; they never overlap, so no deadlock happens here,
# but the inconsistent order is a potential deadlock.
import threading

a = threading.Lock()
b = threading.Lock()


def one():
    with a:
        with b:
            pass


def two():
    with b:
        with a:
            pass


for target in (one, two):
    t = threading.Thread(target=target)
    t.start()
    t.join()
