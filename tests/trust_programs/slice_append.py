"""out.append(data[1:]) next to a lost update: recording must not inject a TypeError."""
import threading

data = [0, 1, 2]
out = []
count = 0


def worker():
    global count
    out.append(data[1:])
    seen = count
    count = seen + 1


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert count == 2, f"lost update: {count}"
