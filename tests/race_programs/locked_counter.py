# expect: norace
# The lost update of lost_update.py, with every increment under one lock (and an RLock).
import threading

counter = 0
total = 0
lock = threading.Lock()
rlock = threading.RLock()


def work():
    global counter, total
    for _ in range(3):
        with lock:
            counter += 1
        with rlock:
            with rlock:
                total += 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter, total)
