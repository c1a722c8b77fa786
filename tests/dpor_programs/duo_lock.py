# The main thread and one worker each take a lock twice: which order the sections run in.
import threading

from _final import report

lock = threading.Lock()
order = []


def work(name):
    for _ in range(2):
        with lock:
            order.append(name)


def main():
    t = threading.Thread(target=work, args=("t",))
    t.start()
    work("m")
    t.join()
    report("".join(order))


main()
