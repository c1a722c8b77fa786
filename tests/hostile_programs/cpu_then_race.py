"""A race after heavy pure-Python CPU work: the watchdog must not mistake the work for blocking."""
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_500_000
counter = 0


def work():
    global counter
    acc = 0
    for i in range(N):  # local arithmetic only
        acc = (acc + i * i) % 1_000_003
    value = counter
    counter = value + 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counter == 2, counter
