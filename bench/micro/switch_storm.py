# expect: safe
# micro (accelerator): two threads, each updating its own counter object; under --strategy random
# nearly every shared access is a thread switch, so the run measures the hand-off path.
import os
import threading

N = int(os.environ.get("BENCH_N_STORM", "300"))


class Box:
    def __init__(self):
        self.a = 0


def work(box):
    for _ in range(N):
        box.a += 1


boxes = [Box(), Box()]
ts = [threading.Thread(target=work, args=(b,)) for b in boxes]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert [b.a for b in boxes] == [N, N]
