# expect: norace
# Workers record results and call task_done(); the main thread reads them after Queue.join().
# A Condition's wait_for() guards a ready count; explicit acquire()/release() guard a total.
import queue
import threading

tasks = queue.Queue()
results = {}
lock = threading.Lock()
total = 0
cond = threading.Condition()
ready = 0


def worker():
    global total, ready
    while True:
        n = tasks.get()
        if n is None:
            tasks.task_done()
            break
        results[n] = n * n
        lock.acquire()
        try:
            total += n
        finally:
            lock.release()
        tasks.task_done()
    with cond:
        ready += 1
        cond.notify_all()


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for n in range(4):
    tasks.put(n)
for _ in threads:
    tasks.put(None)
tasks.join()
print(sorted(results.items()))
with cond:
    cond.wait_for(lambda: ready == 2)
    print(total)
for t in threads:
    t.join()
