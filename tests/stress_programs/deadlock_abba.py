# ABBA deadlock made (nearly) certain with sleeps: each thread takes its first
# lock, sleeps, then wants the other thread's lock.  Non-daemon threads, so the
# interpreter cannot exit either.
import threading
import time

a = threading.Lock()
b = threading.Lock()


def t1():
    with a:
        time.sleep(0.1)
        with b:
            pass


def t2():
    with b:
        time.sleep(0.1)
        with a:
            pass


x = threading.Thread(target=t1)
y = threading.Thread(target=t2)
x.start()
y.start()
x.join()
y.join()
