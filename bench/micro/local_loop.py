# expect: safe
# micro (a): one thread, a loop over locals only (BENCH_N iterations, default 3,000,000).
import os
import threading

N = int(os.environ.get("BENCH_N_LOCAL", "3000000"))
out = []


def work():
    acc = 0
    i = 0
    n = N
    while i < n:
        acc += i & 7
        i += 1
    out.append(acc)


t = threading.Thread(target=work)
t.start()
t.join()
assert out and out[0] >= 0
