"""Correct: the program handles its threads' uncaught exceptions with its own excepthook."""
import threading

errors = []
threading.excepthook = lambda args: errors.append(args.exc_type)


def fail():
    raise ValueError("expected, and handled by the program's excepthook")


t = threading.Thread(target=fail)
t.start()
t.join()
assert errors == [ValueError], errors
