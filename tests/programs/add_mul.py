# expect: bug  # kind: assertion
# a = a + 2 and a = a * 3 race: the result must be (1+2)*3 = 9 or 1*3+2 = 5.
import threading

a = 1


def add():
    global a
    a = a + 2


def mul():
    global a
    a = a * 3


t1 = threading.Thread(target=add)
t2 = threading.Thread(target=mul)
t1.start(); t2.start(); t1.join(); t2.join()
assert a in (9, 5), a
