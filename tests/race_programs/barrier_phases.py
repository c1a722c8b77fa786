# expect: norace
# Two phases separated by a Barrier, a Semaphore-guarded counter, and a Timer joined.
import threading

slots = [0, 0]
seen = [None, None]
barrier = threading.Barrier(2)
sem = threading.Semaphore(1)
hits = 0
fired = []


def work(i):
    global hits
    slots[i] = i + 1
    barrier.wait()
    seen[i] = slots[1 - i]
    with sem:
        hits += 1


def tick():
    fired.append(hits)


threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
timer = threading.Timer(0.01, tick)
timer.start()
timer.join()
print(seen, hits, fired)
