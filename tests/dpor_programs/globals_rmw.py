# One unlocked read-modify-write of a global against a plain read and a plain write.
import threading

from _final import report

x = 0


def add():
    global x
    x = x + 1


def put():
    global x
    x = 10


def main():
    a, b = threading.Thread(target=add), threading.Thread(target=put)
    a.start()
    b.start()
    a.join()
    b.join()
    report(x)


main()
