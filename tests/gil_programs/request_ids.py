# expect: free-threaded=bug gil=safe gil-3.9=bug  # kind: assertion
# Handing out request ids without a lock: two requests can get the same id.
# free-threaded: bug; gil: none (the call's entry is before the window, `issued.append` after
# it); gil-3.9: bug.
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
next_id = 0
issued = []


def handle_request():
    global next_id
    rid = next_id
    next_id = rid + 1
    issued.append(rid)


def worker():
    for _ in range(N):
        handle_request()


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(set(issued)) == len(issued), f"{len(issued) - len(set(issued))} duplicate request ids"
