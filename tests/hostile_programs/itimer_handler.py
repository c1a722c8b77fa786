"""Correct: a 1 ms interval timer whose handler writes a global, while two threads share a lock."""
import signal
import threading

ticks = 0


def on_tick(signum, frame):
    global ticks
    ticks += 1


signal.signal(signal.SIGALRM, on_tick)
signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
lock = threading.Lock()
total = []


def add():
    for _ in range(200):
        with lock:
            total.append(1)


threads = [threading.Thread(target=add) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
signal.setitimer(signal.ITIMER_REAL, 0, 0)
assert len(total) == 400
