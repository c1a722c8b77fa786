"""Bug: ``if not self.items: raise Empty`` then ``self.items.pop()``; two threads pop the one
pushed item, and the second can pass the emptiness check before the first pops.  The check
reads the list (its truthiness), which the dependency model must record.
# expect: bug
"""
import threading


class Empty(Exception):
    pass


class Stack:
    def __init__(self):
        self.items = []

    def push(self, x):
        self.items.append(x)

    def pop(self):
        if not self.items:
            raise Empty
        return self.items.pop()


stack = Stack()
stack.push(1)


def worker():
    try:
        stack.pop()
    except Empty:
        pass


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
