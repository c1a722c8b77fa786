"""Safe: objects whose __repr__, __eq__, __hash__, __getattr__ and __del__ count their calls.
Every count is the same whether interlace records the run or not (argv[1]: where to write them)."""
import json
import sys
import threading

calls = {"repr": 0, "eq": 0, "hash": 0, "getattr": 0, "del": 0, "del_on_time": 0}


class Hostile:
    def __repr__(self):
        calls["repr"] += 1
        return "Hostile()"

    def __eq__(self, other):
        calls["eq"] += 1
        return self is other

    def __hash__(self):
        calls["hash"] += 1
        return 1

    def __getattr__(self, name):
        calls["getattr"] += 1
        raise AttributeError(name)

    def __del__(self):
        calls["del"] += 1


class Box:
    pass


shared = Hostile()
box = Box()
box.item = shared
table = {}
lock = threading.Lock()


def worker(i):
    h = Hostile()
    with lock:
        table[h] = box.item
        seen = shared
        found = h in table
    assert found and seen is shared
    before = calls["del"]
    tmp = Hostile()
    tmp.flag = i
    tmp = None
    if calls["del"] == before + 1:
        with lock:
            calls["del_on_time"] += 1


threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as out:
        json.dump(calls, out)
assert calls["del_on_time"] == 2, calls
