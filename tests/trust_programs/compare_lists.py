"""Bug: a reader compares a shared list with what it expects while a writer appends to it.
``self.seen == [1]`` reads the list's contents (``COMPARE_OP``).
# expect: bug
"""
import threading


class Log:
    def __init__(self):
        self.seen = [1]

    def add(self):
        self.seen.append(2)

    def check(self):
        assert self.seen == [1], self.seen


log = Log()
threads = [threading.Thread(target=log.add), threading.Thread(target=log.check)]
for t in threads:
    t.start()
for t in threads:
    t.join()
