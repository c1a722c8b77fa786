# Always fails: a worker thread records an error and the main thread asserts.
import threading

errors = []


def worker():
    errors.append("boom")


t = threading.Thread(target=worker)
t.start()
t.join()
assert not errors, "always fails: " + errors[0]
