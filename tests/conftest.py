import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"
CORPUS = ROOT.parent / "shared" / "corpus"


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real console entry point, as a user would."""
    return subprocess.run([sys.executable, "-m", "interlace", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture
def cli():
    return run_cli
