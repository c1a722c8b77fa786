# A worker waits on a Condition for a flag; the main thread sets it and notifies, and also
# reads how far the worker got.
import threading

from _final import report

cond = threading.Condition()
state = []


def work():
    with cond:
        while "ready" not in state:
            state.append("wait")
            cond.wait()
        state.append("go")


def main():
    t = threading.Thread(target=work)
    t.start()
    with cond:
        seen = len(state)
        state.append("ready")
        cond.notify()
    t.join()
    report(seen, state)


main()
