"""The programs both systematic searches exhaust, in the setup/workers/invariant shape that
``interlace.explore`` and ``frontrun.explore`` share (this file imports only ``threading``)."""

import threading


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = 0


def locked(k):
    def work(state):
        for _ in range(k):
            with state.lock:
                state.n += 1
    return work


def unlocked(k):
    def work(state):
        for _ in range(k):
            state.n += 1
    return work


#: name -> (workers, invariant, interleaving classes that exist: every order of the critical
#: sections, each thread's in program order; None where nobody counted them)
CASES = {
    "3 threads x 2 locked increments": ([locked(2)] * 3, lambda s: s.n == 6, 90),
    "2 threads x 5 locked increments": ([locked(5)] * 2, lambda s: s.n == 10, 252),
    # the lost updates are the point; the invariant holds so that the search runs to its end
    "2 threads x 10 unlocked increments": ([unlocked(10)] * 2, lambda s: True, None),
}
