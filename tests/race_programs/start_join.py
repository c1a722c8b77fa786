# expect: norace
# Ordered by start and join only: the main thread prepares before start, reads after join.
import threading

shared = {"items": []}
result = None


def work():
    global result
    shared["items"].append(1)
    result = len(shared["items"]) + shared["seed"]


shared["seed"] = 10
t = threading.Thread(target=work)
t.start()
t.join()
print(result, shared["items"])
shared["seed"] = 11
t2 = threading.Thread(target=work)
t2.start()
t2.join()
print(result)
