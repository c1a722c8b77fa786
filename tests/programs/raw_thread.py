# expect: safe  # budget: 20
# A thread started with _thread.start_new_thread runs user code beside the managed ones: it
# must neither take their turns nor freeze them, and the result must say it ran uncontrolled.
import _thread
import threading

box = {"raw": 0, "managed": 0}
done = _thread.allocate_lock()
done.acquire()


def raw():
    for _ in range(2000):
        box["raw"] += 1
    done.release()


def worker():
    with lock:
        box["managed"] += 1


lock = threading.Lock()
_thread.start_new_thread(raw, ())
threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
done.acquire()
assert box == {"raw": 2000, "managed": 2}, box
