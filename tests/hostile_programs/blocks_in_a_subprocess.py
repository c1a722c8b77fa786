"""Appends "<execution pid> <sleep pid>" to argv[1], then waits for a `sleep 300` it started.

The first execution ends at once: it fails (so that the search goes on to its recorded
replay), or with argv[2] ``passes`` it passes (so that the search goes on in its loop, the
next execution's child forked ahead).  Every later one blocks: a test kills the search
meanwhile and checks that nothing is left.
"""
import os
import subprocess
import sys
import threading

log = sys.argv[1]
before = open(log).read().count("\n") if os.path.exists(log) else 0
child = subprocess.Popen(["sleep", "300"])
with open(log, "a") as handle:
    handle.write(f"{os.getpid()} {child.pid}\n")
if before == 0:
    child.kill()
    child.wait()
    if sys.argv[2:] != ["passes"]:
        raise AssertionError("first execution fails")
waiter = threading.Thread(target=child.wait)
waiter.start()
waiter.join()
