# Writes to different keys of one dict are independent; writes to one attribute are not.
import threading

from _final import report


class Box:
    owner = None


def main():
    d = {}
    box = Box()

    def first():
        d["a"] = 1
        box.owner = "first"

    def second():
        d["b"] = 2
        box.owner = "second"

    a, b = threading.Thread(target=first), threading.Thread(target=second)
    a.start()
    b.start()
    a.join()
    b.join()
    report(sorted(d.items()), box.owner)


main()
