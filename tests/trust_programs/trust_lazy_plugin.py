"""Loaded lazily by lazy_module.py: its body bumps the main program's counter (read, then write)."""
import __main__

seen = __main__.counter
__main__.counter = seen + 1
VALUE = 1
