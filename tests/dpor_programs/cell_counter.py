# Two threads increment a closure cell (nonlocal) once each: the update can be lost.
import threading

from _final import report


def main():
    count = 0

    def work():
        nonlocal count
        count = count + 1

    a, b = threading.Thread(target=work), threading.Thread(target=work)
    a.start()
    b.start()
    a.join()
    b.join()
    report(count)


main()
