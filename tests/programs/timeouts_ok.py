# expect: safe
# Timeouts run on virtual time: a 100 s timeout costs nothing, and both outcomes are handled.
import threading
import time

lock = threading.Lock()
ev = threading.Event()


def holder():
    with lock:
        time.sleep(100)


t = threading.Thread(target=holder)
t.start()
got = lock.acquire(timeout=1000)
if got:
    lock.release()
ev.wait(50)
t.join(timeout=500)
t.join()
assert time.monotonic() > 0
