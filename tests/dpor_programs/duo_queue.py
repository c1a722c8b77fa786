# A worker puts two items; the main thread puts one and then gets two.
import queue
import threading

from _final import report

q = queue.Queue()


def work():
    q.put("a")
    q.put("b")


def main():
    t = threading.Thread(target=work)
    t.start()
    q.put("m")
    got = q.get() + q.get()
    t.join()
    report(got)


main()
