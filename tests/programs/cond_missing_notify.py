# expect: bug  # kind: deadlock
# The producer forgets to notify: the consumer waits forever if it got there first.
import threading

ready = []
cond = threading.Condition()


def consumer():
    with cond:
        while not ready:
            cond.wait()


def producer():
    with cond:
        ready.append(True)


ts = [threading.Thread(target=consumer), threading.Thread(target=producer)]
for t in ts:
    t.start()
for t in ts:
    t.join()
