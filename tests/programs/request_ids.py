# expect: bug  # kind: assertion
# Handing out request ids without a lock: two requests can get the same id.
import threading

next_id = 0
issued = []


def handle_request():
    global next_id
    rid = next_id
    next_id = rid + 1
    issued.append(rid)


threads = [threading.Thread(target=handle_request) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(set(issued)) == 3, f"duplicate request ids: {issued}"
