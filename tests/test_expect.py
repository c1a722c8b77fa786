"""Every test program declares its verdict one way (tests/expect.py), and that way parses."""

import pytest

from conftest import CORPUS, PROGRAMS, ROOT
from expect import expectation

FOLDERS = [PROGRAMS, ROOT / "tests" / "gil_programs", CORPUS]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_every_program_declares_its_verdict(folder):
    paths = sorted(folder.glob("*.py"))
    assert paths
    for path in paths:
        expect = expectation(path)
        assert expect.verdict() in ("bug", "safe"), path
        if expect.verdict() == "bug" and folder != CORPUS:
            assert expect.kind, f"{path}: a bug program names its kind"


def test_header_forms(tmp_path):
    path = tmp_path / "p.py"
    path.write_text("# expect: free-threaded=bug gil=safe  # kind: assertion\n")
    expect = expectation(path)
    assert (expect.verdict("free-threaded"), expect.verdict("gil"), expect.kind) == ("bug", "safe", "assertion")
    path.write_text("# expect: safe  # budget: 5\n")
    assert expectation(path).budget == 5 and expectation(path).verdict("gil") == "safe"


@pytest.mark.parametrize("first", ["import threading", "# expect: maybe", "# expect:  # kind: x"])
def test_bad_headers_are_errors(tmp_path, first):
    path = tmp_path / "p.py"
    path.write_text(first + "\n")
    with pytest.raises(AssertionError):
        expectation(path)
