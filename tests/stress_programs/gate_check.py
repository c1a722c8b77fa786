# Checks the start gate: threads started back to back do not begin their
# bodies before the last of them has been started.
import threading

started = []
entered_before_all_started = []
N = 4


def worker():
    if len(started) < N:
        entered_before_all_started.append(1)


threads = []
for _ in range(N):
    t = threading.Thread(target=worker)
    threads.append(t)
for t in threads:
    t.start()
    started.append(t)
for t in threads:
    t.join()
assert not entered_before_all_started, "a thread ran before all were started"
