"""Safe: loops over fresh temporaries (``threads + [extra]``, a list display) that no other
thread can see; dpor must model them (no "could not name") and verify the program.
# expect: verified
"""
import threading

lock = threading.Lock()
total = [0]


def work():
    with lock:
        total[0] += 1


threads = [threading.Thread(target=work) for _ in range(2)]
extra = threading.Thread(target=work)
for t in threads + [extra]:
    t.start()
for t in [*threads, extra]:
    t.join()
assert total[0] == 3
