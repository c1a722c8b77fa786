# expect: norace
# A bounded buffer guarded by a Condition: every access to the buffer holds its lock.
import threading

buffer = []
produced = 0
cond = threading.Condition()


def producer():
    global produced
    for n in range(4):
        with cond:
            while len(buffer) >= 2:
                cond.wait()
            buffer.append(n)
            produced += 1
            cond.notify_all()


def consumer():
    taken = 0
    while taken < 4:
        with cond:
            while not buffer:
                cond.wait()
            buffer.pop(0)
            taken += 1
            cond.notify_all()


threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(produced)
