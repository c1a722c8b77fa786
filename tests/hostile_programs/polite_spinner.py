"""Correct: a consumer that waits politely (sleep(0)) for a flag another thread sets."""
import threading
import time

flag = False
seen = []


def consumer():
    while not flag:
        time.sleep(0)
    seen.append(True)


def producer():
    global flag
    flag = True


threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert seen == [True]
