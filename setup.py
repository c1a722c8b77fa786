"""Build the optional C accelerator (interlace._accel); all metadata is in pyproject.toml.

``optional=True``: when the extension cannot be compiled (no compiler, no Python headers), the
install still succeeds and interlace runs its pure-Python hooks instead.
"""

import sys

from setuptools import Extension, setup

ext_modules = []
if sys.implementation.name == "cpython":
    ext_modules.append(Extension("interlace._accel", ["src/interlace/_accel.c"], optional=True))

setup(ext_modules=ext_modules)
