# expect: norace
# Data written before Event.set() and read after Event.wait() (and after is_set()).
import threading

data = {}
ready = threading.Event()
config = None


def writer():
    global config
    data["answer"] = 42
    config = "loaded"
    ready.set()


def reader():
    ready.wait()
    print(data["answer"], config)


def poller():
    if ready.is_set():
        print(data["answer"], config)


threads = [threading.Thread(target=f) for f in (writer, reader, poller)]
for t in threads:
    t.start()
for t in threads:
    t.join()
