# Long single-thread phases and long contended phases: the C accelerator counts quiet
# scheduling points itself and turns instruction events off while a thread runs alone.
import threading

N = 5000
gate = threading.Lock()


class Box:
    def __init__(self):
        self.a = 0
        self.log = []


box = Box()


def holder():
    for i in range(N):          # alone: the waiter waits for the gate, main joins
        box.a += 1
        if i == N // 2:
            gate.release()      # wakes the waiter in the middle of the loop
    box.log.append("holder")


def waiter():
    with gate:
        for _ in range(N // 4):  # contended with the holder's second half
            box.a += 1
    box.log.append("waiter")


gate.acquire()
t2 = threading.Thread(target=waiter)
t1 = threading.Thread(target=holder)
t2.start()
t1.start()
t1.join()
t2.join()
assert box.a == N + N // 4, box.a
