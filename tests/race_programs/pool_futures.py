# expect: norace
# Executor hand-offs: data prepared before submit, results read through futures, and
# workers that only append to a shared list (list.append is one atomic operation).
from concurrent.futures import ThreadPoolExecutor

settings = {}
log = []


def square(n):
    log.append(n)
    return n * n + settings["offset"]


settings["offset"] = 1
with ThreadPoolExecutor(max_workers=2) as pool:
    futures = [pool.submit(square, n) for n in range(3)]
    total = sum(f.result() for f in futures)
print(total, sorted(log))
