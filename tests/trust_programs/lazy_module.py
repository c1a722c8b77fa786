"""A module loaded through importlib.util.LazyLoader: its body runs at the first attribute
access, in whichever thread gets there first, and races with another thread's update."""
import importlib.util
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
counter = 0


def lazy_import(name):
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


plugin = lazy_import("trust_lazy_plugin")


def use():
    assert plugin.VALUE == 1


def bump():
    global counter
    seen = counter
    counter = seen + 1


threads = [threading.Thread(target=use), threading.Thread(target=bump)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert counter == 2, f"lost update: counter is {counter}"
