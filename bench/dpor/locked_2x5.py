# Two threads do five locked increments each.
import threading

from _final import report

lock = threading.Lock()
counter = 0


def work():
    global counter
    for _ in range(5):
        with lock:
            counter = counter + 1


def main():
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report(counter)


main()
