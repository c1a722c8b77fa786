# expect: bug  # kind: assertion
# acquire(blocking=False) fails while the other thread holds the lock.
import threading

lock = threading.Lock()
got = []


def worker(i):
    if lock.acquire(blocking=False):
        try:
            got.append(i)
        finally:
            lock.release()


ts = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert len(got) == 2, f"a try-lock failed: only {got} got the lock"
