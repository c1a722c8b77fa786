# expect: bug  # kind: exception
# A BoundedSemaphore released twice raises ValueError.
import threading

sem = threading.BoundedSemaphore(1)


def worker():
    sem.acquire()
    sem.release()
    sem.release()


t = threading.Thread(target=worker)
t.start()
t.join()
