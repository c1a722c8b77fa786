"""Appends "<execution pid> <sleep pid>" to argv[1]; the first execution ends at once, every
later one waits for a `sleep 300` it started.

So the search is in its loop, with an execution blocked and the next one's child forked
ahead, when a test kills it and checks that nothing is left.
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
waiter = threading.Thread(target=child.wait)
waiter.start()
waiter.join()
