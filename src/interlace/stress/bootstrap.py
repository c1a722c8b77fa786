"""What every ``interlace stress`` run executes before the script (see the package docstring).

Run as a file by each interpreter under test::

    PYTHON bootstrap.py INTERVAL QUIET MAX SCRIPT [ARGS...]

so this module is kept to the syntax of Python 3.3 (no f-strings, no annotations) and imports
only the standard library.  It sets the switch interval, installs the start gate, then runs
SCRIPT as ``__main__`` (``sys.argv`` is ``[SCRIPT, ARGS...]``, ``sys.path[0]`` its folder).
The gate's decision is :func:`gate_wait`, a pure function of the gate's state and the time,
so it is tested with a virtual clock (tests/test_stress.py).
"""

import os
import runpy
import sys
import threading
import time

#: The smallest switch interval CPython stores as such (package docstring, point 1).
SWITCH_INTERVAL = 1e-6
#: The gate releases a batch once no start() has run for this long...
GATE_QUIET = 0.001
#: ...or once its oldest thread has waited this long.
GATE_MAX = 0.010

# indices into the gate's state list
STARTED, LAST_START, RELEASED, IN_PROGRESS = 0, 1, 2, 3


def new_state():
    """[threads started, time the last start() ended, highest index released, start() calls
    in progress]."""
    return [0, 0.0, 0, 0]


def gate_wait(state, idx, t0, now, quiet, cap):
    """Seconds thread number ``idx`` (started at ``t0``) must still wait; 0 or less: release
    every thread started so far now."""
    if state[RELEASED] >= idx:
        return 0.0
    left_quiet = quiet if state[IN_PROGRESS] else state[LAST_START] + quiet - now
    return min(left_quiet, t0 + cap - now)


class Gate(object):
    """Holds each started thread's body until its batch is released (all at once)."""

    def __init__(self, quiet, cap, clock=time.monotonic):
        self.quiet = quiet
        self.cap = cap
        self.clock = clock
        self.cond = threading.Condition(threading.Lock())
        self.state = new_state()

    def starting(self):
        """A start() begins; returns the new thread's (index, start time)."""
        with self.cond:
            self.state[STARTED] += 1
            self.state[IN_PROGRESS] += 1
            self.state[LAST_START] = t0 = self.clock()
            return self.state[STARTED], t0

    def started(self):
        """That start() returned: the quiet period counts from now."""
        with self.cond:
            self.state[IN_PROGRESS] -= 1
            self.state[LAST_START] = self.clock()

    def wait(self, idx, t0):
        with self.cond:
            while True:
                left = gate_wait(self.state, idx, t0, self.clock(), self.quiet, self.cap)
                if self.state[RELEASED] >= idx:
                    return
                if left <= 0:
                    self.state[RELEASED] = self.state[STARTED]
                    self.cond.notify_all()
                    return
                self.cond.wait(left)


def install(gate):
    """Wrap ``threading.Thread.start``: every thread's ``run`` waits for its batch first (an
    instance attribute, so subclasses that override ``run()`` are gated too).  Anything odd
    (a Thread subclass that forbids instance attributes) leaves that thread ungated."""
    original_start = threading.Thread.start

    def gated(thread, run, idx, t0):
        def run_after_gate(*args, **kwargs):
            try:
                gate.wait(idx, t0)
            except Exception:
                pass
            try:
                del thread.run  # back to the class attribute
            except Exception:
                pass
            return run(*args, **kwargs)
        return run_after_gate

    def start(self, *args, **kwargs):
        is_gated = False
        try:
            idx, t0 = gate.starting()
            is_gated = True
            self.run = gated(self, self.run, idx, t0)
        except Exception:
            pass
        try:
            return original_start(self, *args, **kwargs)
        finally:
            if is_gated:
                gate.started()

    threading.Thread.start = start


def main(argv):
    interval, quiet, cap, script = float(argv[1]), float(argv[2]), float(argv[3]), argv[4]
    sys.setswitchinterval(interval)
    install(Gate(quiet, cap))
    sys.argv = argv[4:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv)
