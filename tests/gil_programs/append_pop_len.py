# expect: free-threaded=bug gil=bug gil-3.9=bug  # kind: assertion
# A worker appends twice and pops twice; a checker must never see an odd length.
# Every model: bug.  Even with the GIL, `items.pop()` is a call into C after which 3.10-3.13
# check the eval breaker, so the checker can run between the two pops.
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
items = []
odd = []


def worker():
    for _ in range(N):
        items.append(1)
        items.append(2)
        items.pop()
        items.pop()


def checker():
    for _ in range(N):
        if len(items) % 2:
            odd.append(len(items))


threads = [threading.Thread(target=worker), threading.Thread(target=checker)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not odd, f"saw an odd length {len(odd)} times"
