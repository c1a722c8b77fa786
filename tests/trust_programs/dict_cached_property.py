"""A cached property that stores its value in the instance __dict__ (as
functools.cached_property does): two threads may both compute it."""
import threading


class cached:
    def __init__(self, func):
        self.func = func
        self.name = func.__name__

    def __get__(self, obj, cls):
        if obj is None:
            return self
        value = self.func(obj)
        obj.__dict__[self.name] = value
        return value


class Config:
    def __init__(self):
        self.loads = []

    @cached
    def settings(self):
        self.loads.append(1)
        return {"debug": False}


cfg = Config()


def worker():
    assert cfg.settings == {"debug": False}


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(cfg.loads) == 1, f"settings computed {len(cfg.loads)} times"
