# expect: safe
import threading


class Counter:
    def __init__(self):
        self.a = 0
        self.lock = threading.Lock()

    def run(self):
        for _ in range(3):
            with self.lock:
                self.a += 1


c = Counter()
threads = [threading.Thread(target=c.run) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert c.a == 6, c.a
