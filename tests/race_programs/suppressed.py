# expect: norace
# A deliberate benign race (a statistics counter), suppressed on the line that writes it.
import threading

stats = {"hits": 0}


def work():
    stats["hits"] += 1  # interlace: ignore-race


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
