"""The lost update of issue 15, in a ThreadPoolExecutor."""
from concurrent.futures import ThreadPoolExecutor

results = []
processed = 0


def handle(x):
    global processed
    results.append(x * x)
    processed += 1


with ThreadPoolExecutor(max_workers=3) as ex:
    for i in range(6):
        ex.submit(handle, i)
assert len(results) == 6, results
assert processed == 6, f"processed counter says {processed}, but {len(results)} results"
