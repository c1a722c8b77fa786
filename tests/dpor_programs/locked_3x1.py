# Three threads take one lock once each: all 3! orders of the critical sections.
import threading

from _final import report

lock = threading.Lock()
order = []


def work(name):
    with lock:
        order.append(name)


def main():
    a, b, c = (threading.Thread(target=work, args=(n,)) for n in "abc")
    a.start()
    b.start()
    c.start()
    a.join()
    b.join()
    c.join()
    report("".join(order))


main()
