# expect: safe
import threading

a = 1
lock = threading.Lock()


def add():
    global a
    with lock:
        a = a + 2


def mul():
    global a
    with lock:
        a = a * 3


t1 = threading.Thread(target=add)
t2 = threading.Thread(target=mul)
t1.start(); t2.start(); t1.join(); t2.join()
assert a in (9, 5), a
