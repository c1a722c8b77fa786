# expect: safe
# micro (c): two threads, 20 lock-protected steps in total (10 each); safe, so every execution runs to the end.
# bench/speed.py runs a copy with STEPS = 20: the "2 x 20" program (20 locked `counter += 1` per
# thread).  A constant, not read from the environment: `import os` in a program made frontrun's
# DPOR 2.6x slower per execution, which would skew that comparison.
import threading

STEPS = 10

lock = threading.Lock()
counter = 0


def work():
    global counter
    for _ in range(STEPS):
        with lock:
            counter += 1


t1 = threading.Thread(target=work)
t2 = threading.Thread(target=work)
t1.start()
t2.start()
t1.join()
t2.join()
assert counter == 2 * STEPS, counter
