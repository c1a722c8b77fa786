"""Correct: a forked child raises (its own business, as without interlace); the parent is fine."""
import os
import threading

lock = threading.Lock()
count = 0


def work():
    global count
    with lock:
        count += 1


workers = [threading.Thread(target=work) for _ in range(2)]
for w in workers:
    w.start()
pid = os.fork()
if pid == 0:
    raise RuntimeError("the forked child fails on its own")
_, status = os.waitpid(pid, 0)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1, status
for w in workers:
    w.join()
assert count == 2
