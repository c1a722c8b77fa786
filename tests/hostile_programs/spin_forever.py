"""Never ends: two threads wait politely for a flag nobody sets (a true livelock)."""
import threading
import time

flag = False


def wait():
    while not flag:
        time.sleep(0)


threads = [threading.Thread(target=wait) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
