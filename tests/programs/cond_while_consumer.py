# expect: safe
import threading

buf = []
cond = threading.Condition()


def consumer():
    with cond:
        while not buf:
            cond.wait()
        buf.pop()


def producer():
    with cond:
        buf.append(1)
        cond.notify()


ts = [threading.Thread(target=consumer), threading.Thread(target=consumer),
      threading.Thread(target=producer), threading.Thread(target=producer)]
for t in ts:
    t.start()
for t in ts:
    t.join()
