"""Bug: ``take`` tests a local alias of the shared list for emptiness, then pops; two takers
and one item.  The truth test reads the list through the alias.
# expect: bug
"""
import threading


class Box:
    def __init__(self):
        self.items = [1]

    def take(self):
        items = self.items
        if items:
            return items.pop()
        return None


box = Box()
threads = [threading.Thread(target=box.take) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
