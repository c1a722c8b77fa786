"""A lazy attribute that replaces itself with setattr on first use: two threads may both
compute it."""
import threading


class lazy:
    def __init__(self, func):
        self.func = func

    def __get__(self, obj, cls):
        if obj is None:
            return self
        value = self.func(obj)
        setattr(obj, self.func.__name__, value)
        return value


class Client:
    def __init__(self):
        self.connects = []

    @lazy
    def session(self):
        self.connects.append(1)
        return object()


client = Client()
seen = []


def worker():
    seen.append(client.session)


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(client.connects) == 1, f"connected {len(client.connects)} times"
