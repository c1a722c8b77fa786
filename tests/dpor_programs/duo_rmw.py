# The main thread and one worker both do `x = x * 2 + k` twice on a global.
import threading

from _final import report

x = 1


def work(k):
    global x
    for _ in range(2):
        x = x * 2 + k


def main():
    t = threading.Thread(target=work, args=(1,))
    t.start()
    work(0)
    t.join()
    report(x)


main()
