# expect: safe
import threading

next_id = 0
issued = []
lock = threading.Lock()


def handle_request():
    global next_id
    with lock:
        rid = next_id
        next_id = rid + 1
    issued.append(rid)


threads = [threading.Thread(target=handle_request) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert len(set(issued)) == 3, f"duplicate request ids: {issued}"
