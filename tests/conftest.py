import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"
CORPUS = ROOT / "tests" / "corpus"


def default_sigint() -> None:
    """``preexec_fn`` for a child a test interrupts: a test runner started in the background
    of a shell inherits SIGINT ignored, and so would the child, which Ctrl-C could not stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: ``run`` arguments that lift the time limit: a test's search then ends by its budget or by
#: running out of interleavings, never by how busy the machine is.
NO_TIME_LIMIT = ("--timeout", "86400")


def run_cli(*args: str, timeout: float = 1800, cwd=ROOT, env=None) -> subprocess.CompletedProcess:
    """Run the real console entry point, as a user would (``env``: added to the environment)."""
    import os
    return subprocess.run([sys.executable, "-m", "interlace", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd,
                          env=dict(os.environ, **env) if env else None)


@pytest.fixture
def cli():
    return run_cli
