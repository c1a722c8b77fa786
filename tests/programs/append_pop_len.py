# expect: bug  # kind: assertion
# Two threads append twice, pop twice; a checker sees an odd length in between.
import threading

items = []
odd = []


def worker():
    items.append(1)
    items.append(2)
    items.pop()
    items.pop()


def checker():
    if len(items) % 2:
        odd.append(len(items))


threads = [threading.Thread(target=worker), threading.Thread(target=checker)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not odd, f"saw odd length {odd}"
