# expect: race
# pair: 15 19
# pair: 14 20
# A result and a "ready" flag published without synchronization: the reader may see the
# flag before the data (on a free-threaded build, or any memory model without ordering).
import threading

data = None
ready = False


def publish():
    global data, ready
    data = {"answer": 42}
    ready = True


def consume():
    if ready:
        print(data["answer"])


threads = [threading.Thread(target=publish), threading.Thread(target=consume)]
for t in threads:
    t.start()
for t in threads:
    t.join()
