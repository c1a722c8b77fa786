# expect: race
# pair: 17 18
# Lazy initialization without a lock: two threads may both build the instance.
import threading


class Config:
    def __init__(self):
        self.values = {"debug": False}


_instance = None


def get_config():
    global _instance
    if _instance is None:
        _instance = Config()
    return _instance


threads = [threading.Thread(target=get_config) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
