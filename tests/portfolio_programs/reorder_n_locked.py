"""reorder_n.py with the writes and the read under one lock: safe.  Usage: reorder_n_locked.py N."""
import sys
import threading

setters = int(sys.argv[1]) if len(sys.argv) > 1 else 4
lock = threading.Lock()


class Record:
    def __init__(self):
        self.version = 0
        self.checksum = 0


record = Record()
seen = []


def setter():
    with lock:
        record.version = 1
        record.checksum = 1


def checker():
    with lock:
        seen.append((record.version, record.checksum))


threads = [threading.Thread(target=setter, name=f"setter-{n}") for n in range(setters)]
threads.append(threading.Thread(target=checker, name="checker"))
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

version, checksum = seen[0]
assert version == checksum, f"torn record: version {version}, checksum {checksum}"
