"""Appends "<execution pid> <sleep pid>" to argv[1], then waits for a `sleep 300` it started.

The first execution fails at once (so that the search goes on to its recorded replay); every
later one blocks: a test kills the search meanwhile and checks that nothing is left.
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
    raise AssertionError("first execution fails")
threading.Thread(target=child.wait).start()
child.wait()
