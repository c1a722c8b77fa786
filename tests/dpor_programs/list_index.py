# Each thread reads one slot of a list and writes the other.
import threading

from _final import report


def main():
    cells = [0, 0]

    def left():
        cells[0] = cells[1] + 1

    def right():
        cells[1] = cells[0] + 1

    a, b = threading.Thread(target=left), threading.Thread(target=right)
    a.start()
    b.start()
    a.join()
    b.join()
    report(cells)


main()
