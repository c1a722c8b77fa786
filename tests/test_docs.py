"""Docs that show output show what the tool prints today."""

import re
import sys

import pytest

from conftest import ROOT, run_cli

DOCS = ROOT / "docs"


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the sample is 3.11's bytecode")
def test_explain_sample_output_is_current():
    text = (DOCS / "explain.md").read_text()
    block = re.search(r"```\n\$ (interlace explain \S+)\n(.*?)```", text, re.S)
    command, shown = block.group(1), block.group(2)
    result = run_cli(*command.split()[1:])
    assert result.stdout == shown


def test_no_doc_names_a_path_of_the_machine_it_was_written_on():
    for path in [ROOT / "README.md", *DOCS.glob("*.md"), ROOT / "bench" / "README.md"]:
        for absolute in ("/work/", "/home/", "/tmp/audit", "../shared"):
            assert absolute not in path.read_text(), f"{path.name} names {absolute}"


def test_gil_doc_credits_each_sample_to_the_command_that_prints_it():
    text = (DOCS / "gil.md").read_text()
    no_line = text.index("CPython 3.11-3.15  no  (every interleaving explored")
    assert "--strategy dpor --preemptions none" in text[max(0, no_line - 600):no_line]


def test_bench_reports_name_repo_relative_paths(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from bench import harness
    assert harness.shown_path(str(ROOT / ".venv" / "bin" / "python")) == ".venv/bin/python"
    assert "/work/" not in harness.command_line("python -m bench.accel",
                                                ["--python", str(ROOT / ".venv/bin/python")])
