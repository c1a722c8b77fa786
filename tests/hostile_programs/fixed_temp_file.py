"""Correct alone: writes, then reads back, a file at a fixed path in the temporary directory."""
import os
import tempfile
import threading

path = os.path.join(tempfile.gettempdir(), "interlace-hostile-fixed.txt")
lock = threading.Lock()
with open(path, "w") as handle:
    handle.write(str(os.getpid()))


def check():
    with lock:
        with open(path) as handle:
            assert handle.read() == str(os.getpid()), "another execution wrote my file"


threads = [threading.Thread(target=check) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
os.remove(path)
