# Deterministic check that the stress bootstrap installed its start gate:
# a thread's body (plain target or overridden run()) does not begin until
# about 1 ms (the gate's quiet period) after its start() call began.
import threading
import time

delays = []


def body(t0):
    delays.append(time.monotonic() - t0)


class Sub(threading.Thread):
    def run(self):
        body(self.t0)


t = threading.Thread(target=lambda: body(t.t0))
t.t0 = time.monotonic()
t.start()
t.join()

s = Sub()
s.t0 = time.monotonic()
s.start()
s.join()

assert len(delays) == 2, delays
assert min(delays) >= 0.0009, "thread body began without the start gate: %r" % delays
