# expect: safe
import threading

sem = threading.Semaphore(2)
inside = [0]
peak = []


def worker():
    with sem:
        inside[0] += 1
        peak.append(inside[0])
        inside[0] -= 1


ts = [threading.Thread(target=worker) for _ in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join()
