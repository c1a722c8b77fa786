"""Build the optional C accelerator (interlace._accel); all metadata is in pyproject.toml.

``optional=True``: when the extension cannot be compiled (no compiler, no Python headers), the
install still succeeds and interlace runs its pure-Python hooks instead.
"""

import os
import sys
import sysconfig

from setuptools import Extension, setup


def _compile_args() -> list:
    """Debian's ``pyconfig.h`` includes ``<x86_64-linux-gnu/pythonX.Y/pyconfig.h>`` from the
    folder above the Python headers.  That folder is on the compiler's path for a system
    Python, but not for one unpacked into a prefix (CI's 3.14 and 3.15): add it then, searched
    after the system folders (``-idirafter``) so that the prefix's own C library headers never
    replace the host's."""
    include = sysconfig.get_path("include") or ""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    parent = os.path.dirname(include)
    if multiarch and os.path.isdir(os.path.join(parent, multiarch)):
        return ["-idirafter", parent]
    return []


ext_modules = []
if sys.implementation.name == "cpython":
    ext_modules.append(Extension("interlace._accel", ["src/interlace/_accel.c"], optional=True,
                                 extra_compile_args=_compile_args()))

setup(ext_modules=ext_modules)
