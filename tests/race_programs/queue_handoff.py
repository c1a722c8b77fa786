# expect: norace
# A producer builds each job completely, then hands it over through a Queue; the consumer
# then owns it.  A second hand-off through a SimpleQueue sends the results back.
import queue
import threading

jobs = queue.Queue()
results = queue.SimpleQueue()


class Job:
    def __init__(self, n):
        self.n = n
        self.done = False


def producer():
    for n in range(3):
        job = Job(n)
        job.n = n * 2
        jobs.put(job)
    jobs.put(None)


def consumer():
    while True:
        job = jobs.get()
        if job is None:
            break
        job.done = True
        job.n += 1
        results.put(job)


threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads:
    t.start()
for _ in range(3):
    job = results.get()
    print(job.n, job.done)
for t in threads:
    t.join()
