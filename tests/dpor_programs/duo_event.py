# The worker publishes a value and sets an Event; the main thread reads the value once
# without waiting and once after waiting.
import threading

from _final import report

ev = threading.Event()
box = []


def work():
    box.append(1)
    ev.set()


def main():
    t = threading.Thread(target=work)
    t.start()
    early = len(box)
    ev.wait()
    late = len(box)
    t.join()
    report(early, late)


main()
