# expect: bug  # kind: assertion
# self.a += 1 in a for loop from two threads: atomic under the GIL of 3.10-3.13 only.
import threading


class Counter:
    def __init__(self):
        self.a = 0

    def run(self):
        for _ in range(3):
            self.a += 1


c = Counter()
threads = [threading.Thread(target=c.run) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert c.a == 6, c.a
