import threading

items = []
cond = threading.Condition()
results = []

def consumer():
    with cond:
        if not items:
            cond.wait()
        results.append(items.pop(0))

def producer():
    for i in range(2):
        with cond:
            items.append(i)
            cond.notify()

threads = [threading.Thread(target=consumer) for _ in range(2)] + [threading.Thread(target=producer)]
for t in threads: t.start()
for t in threads: t.join()
assert sorted(results) == [0, 1]
