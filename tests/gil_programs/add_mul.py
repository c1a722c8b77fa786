# expect: free-threaded=bug gil=safe gil-3.9=bug  # kind: assertion
# `a = a + 2` against `a = a * 3`, N rounds: each round must end with (1+2)*3 = 9 or 1*3+2 = 5.
# free-threaded: bug; gil: none; gil-3.9: bug.  A barrier starts both operations of a round
# together; the last thread to finish a round records the result and resets `a`.
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
a = 1
results = []


def record():
    global a
    results.append(a)
    a = 1


start = threading.Barrier(2)
done = threading.Barrier(2, action=record)


def add():
    global a
    for _ in range(N):
        start.wait()
        a = a + 2
        done.wait()


def mul():
    global a
    for _ in range(N):
        start.wait()
        a = a * 3
        done.wait()


threads = [threading.Thread(target=add), threading.Thread(target=mul)]
for t in threads:
    t.start()
for t in threads:
    t.join()
bad = [r for r in results if r not in (9, 5)]
assert not bad, f"{len(bad)} of {N} rounds lost an update, e.g. a = {bad[0]}"
