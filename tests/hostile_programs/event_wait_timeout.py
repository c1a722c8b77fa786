"""Assumes its 5 s timeout never expires while the setter can still run."""
import threading
import time

ready = threading.Event()


def setter():
    ready.set()


t = threading.Thread(target=setter)
t.start()
assert ready.wait(timeout=5), "the setter did not set the event within 5 s"
t.join()
time.sleep(1)  # sleeps still end under --assume-no-timeouts
