# expect: safe  # budget: 5
# A lock interlace does not control (made with _thread directly, like a library's
# module-level lock created before interlace took over) must not hang the run.
import _thread
import threading

raw = _thread.allocate_lock()
count = [0]


def worker():
    for _ in range(2):
        with raw:
            value = count[0]
            count[0] = value + 1


ts = [threading.Thread(target=worker) for _ in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert count[0] == 4, count
