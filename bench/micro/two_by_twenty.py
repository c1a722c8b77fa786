# expect: safe
# bench/speed.py: two threads, 20 `counter += 1` each, every increment under one lock; safe, so
# every execution runs to the end (the same work in each, whatever the schedule).
import threading

lock = threading.Lock()
counter = 0


def work():
    global counter
    for _ in range(20):
        with lock:
            counter += 1


t1 = threading.Thread(target=work)
t2 = threading.Thread(target=work)
t1.start()
t2.start()
t1.join()
t2.join()
assert counter == 40, counter
