# expect: safe
# micro (accelerator): two threads, each updating its own counter object many times: long
# stretches of scheduling points where PCT keeps the running thread (counted in C when
# accelerated), with few switches.
import os
import threading

N = int(os.environ.get("BENCH_N_CONTENDED", "20000"))


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
