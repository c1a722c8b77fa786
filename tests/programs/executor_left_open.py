# expect: safe
# A thread pool that is never shut down and stays referenced to the end: CPython's shutdown
# (threading._shutdown, through concurrent.futures' threading._register_atexit hook) wakes its
# idle workers and joins them, so the program ends. Nothing to report.
from concurrent.futures import ThreadPoolExecutor

pool = ThreadPoolExecutor(max_workers=2)
assert sorted(pool.map(abs, [-1, -2, -3])) == [1, 2, 3]
