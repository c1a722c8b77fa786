"""Safe: two threads call one immutable (frozen) dataclass instance that defines __call__;
it is unhashable (a list field), which interlace must never notice."""
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Pipeline:
    steps: list

    def __call__(self, x):
        for step in self.steps:
            x = step(x)
        return x


pipe = Pipeline([abs, str])
results = [None, None]


def worker(i):
    results[i] = pipe(-i)


threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert results == ["0", "1"], results
