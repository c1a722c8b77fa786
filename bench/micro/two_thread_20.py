# expect: safe
# micro (c): two threads, 20 lock-protected steps in total (10 each); safe, so every execution runs to the end.
import threading

lock = threading.Lock()
counter = 0


def work():
    global counter
    for _ in range(10):
        with lock:
            counter += 1


t1 = threading.Thread(target=work)
t2 = threading.Thread(target=work)
t1.start()
t2.start()
t1.join()
t2.join()
assert counter == 20, counter
