"""N setter threads each write two fields of one record, a checker reads both; started one by
one by the main thread (setters first, the checker last), as scripts do.

Fails when the checker lands between the two writes of a setter before any setter has
finished: every setter started so far must be paused between (or before) its writes while
the main thread is still starting the others.  Usage: reorder_n.py N (default 4).
"""
import sys
import threading

setters = int(sys.argv[1]) if len(sys.argv) > 1 else 4


class Record:
    def __init__(self):
        self.version = 0
        self.checksum = 0


record = Record()
seen = []


def setter():
    record.version = 1
    record.checksum = 1


def checker():
    seen.append((record.version, record.checksum))


threads = [threading.Thread(target=setter, name=f"setter-{n}") for n in range(setters)]
threads.append(threading.Thread(target=checker, name="checker"))
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

version, checksum = seen[0]
assert version == checksum, f"torn record: version {version}, checksum {checksum}"
