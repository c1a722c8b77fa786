"""A worker's failure must not skip the script's finally and atexit: they stop a helper process
and remove a temporary directory (argv[1] records the helper's pid and the directory)."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading

scratch = tempfile.mkdtemp(prefix="hostile-")
atexit.register(shutil.rmtree, scratch)
helper = subprocess.Popen(["sleep", "300"])
with open(sys.argv[1], "a") as log:
    log.write(f"{helper.pid} {scratch}\n")
balance = [10]


def withdraw():
    value = balance[0]
    balance[0] = value - 10
    assert balance[0] >= 0, "overdrawn"


try:
    workers = [threading.Thread(target=withdraw) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
finally:
    helper.kill()
    helper.wait()
