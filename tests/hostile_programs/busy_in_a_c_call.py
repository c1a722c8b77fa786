"""Correct: one thread computes for a while inside one C call that releases the GIL."""
import hashlib
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
lock = threading.Lock()
results = []


def compute():
    # one call into C, without the GIL: the thread is busy, not blocked
    total = len(hashlib.pbkdf2_hmac("sha256", b"password", b"salt", N))
    with lock:
        results.append(total)


def light():
    with lock:
        results.append(0)


threads = [threading.Thread(target=compute), threading.Thread(target=light)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert sorted(results) == [0, 32]
