"""Correct: a multiprocessing.Process sends through a Queue while two threads share a lock."""
import multiprocessing
import threading


def produce(queue):
    queue.put(21)


if __name__ == "__main__":
    lock = threading.Lock()
    total = []

    def work():
        with lock:
            total.append(1)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=produce, args=(queue,))
    process.start()
    assert queue.get(timeout=60) == 21
    process.join()
    for w in workers:
        w.join()
    assert len(total) == 2 and process.exitcode == 0
