# expect: safe
import threading

items = []
odd = []
lock = threading.Lock()


def worker():
    with lock:
        items.append(1)
        items.append(2)
    with lock:
        items.pop()
        items.pop()


def checker():
    with lock:
        if len(items) % 2:
            odd.append(len(items))


threads = [threading.Thread(target=worker), threading.Thread(target=checker)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not odd, f"saw odd length {odd}"
