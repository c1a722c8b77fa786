# expect: bug  # kind: exception
# A worker raises when it sees the other's half-done update.
import threading

state = {"x": 0, "y": 0}


def writer():
    state["x"] = 1
    state["y"] = 1


def reader():
    if state["x"] != state["y"]:
        raise RuntimeError("torn read")


ts = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in ts:
    t.start()
for t in ts:
    t.join()
