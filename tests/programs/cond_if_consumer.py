# expect: bug  # kind: exception
# Consumers wait with `if` instead of `while`: a consumer can wake to an empty buffer.
import threading

buf = []
cond = threading.Condition()


def consumer():
    with cond:
        if not buf:
            cond.wait()
        buf.pop()


def producer():
    with cond:
        buf.append(1)
        cond.notify_all()


ts = [threading.Thread(target=consumer), threading.Thread(target=consumer),
      threading.Thread(target=producer), threading.Thread(target=producer)]
for t in ts:
    t.start()
for t in ts:
    t.join()
