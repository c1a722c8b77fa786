# expect: bug  # kind: assertion
# Ordering by sleep is not synchronization: the writer may not have run after 0.1 s.
import threading
import time

data = []


def writer():
    time.sleep(0.05)
    data.append(1)


def reader():
    time.sleep(0.1)
    assert data, "reader ran before writer"


ts = [threading.Thread(target=writer), threading.Thread(target=reader)]
start = time.monotonic()
for t in ts:
    t.start()
for t in ts:
    t.join()
