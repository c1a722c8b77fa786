"""The HTML report (``--html``, ``pytest --interlace-html``): what the page shows, that nothing
from the program becomes markup, and (slow) the page in a real browser: headless Chromium
renders it, its script runs, and it loads nothing from the network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

import browser
from conftest import ROOT, run_cli
from interlace.engine.schedule import Schedule, python_tag
from interlace.engine.search import SearchConfig, SearchResult
from interlace.models import Model
from interlace.outcome import FailureKind, Outcome
from interlace.report import html as html_report

pytest_plugins = ["pytester"]

#: A racy program none of the other tests or the corpus use: two buyers, one apple.
HELD_OUT = dedent('''\
    import threading

    stock = {"apples": 1}
    sold = []


    def buy(who):
        if stock["apples"] > 0:
            stock["apples"] = stock["apples"] - 1
            sold.append(who)


    buyers = [threading.Thread(target=buy, args=(n,), name=f"buyer-{n}") for n in ("ann", "bob")]
    for b in buyers:
        b.start()
    for b in buyers:
        b.join()
    assert stock["apples"] >= 0, f"oversold: {sold}"
''')

#: Program text that would be markup or script if the page pasted it in.
PAYLOAD = "</script><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
HOSTILE = dedent('''\
    import threading

    PAYLOAD = {payload!r}
    box = {{"v": PAYLOAD}}


    def grow():
        box["v"] = box["v"] + "!"  # {payload}


    threads = [threading.Thread(target=grow, name=PAYLOAD + str(i)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert box["v"].endswith("!!"), "lost: " + PAYLOAD
''').format(payload=PAYLOAD)

DEADLOCK = dedent('''\
    import threading

    a = threading.Lock()
    b = threading.Lock()


    def one():
        with a:
            with b:
                pass


    def two():
        with b:
            with a:
                pass


    ts = [threading.Thread(target=one, name="one"), threading.Thread(target=two, name="two")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
''')


# -- building results without a search (fast) --------------------------------------------------

def _event(step, tid, kind, text, file, line, write=False, value=None, location=None, preempted=False):
    return {"step": step, "tid": tid, "kind": kind, "text": text, "write": write, "value": value,
            "location": location, "file": file, "line": line, "preempted": preempted}


def fake_result(script: Path, events: list[dict], threads: list[str], kind="assertion",
                summary="AssertionError: boom (in thread MainThread)", details="", thread="MainThread",
                **extra) -> SearchResult:
    """A found bug as the engine reports it, with a hand-made recorded trace."""
    config = SearchConfig(script=str(script))
    result = SearchResult("bug", config, 3, 0.5, "bug", kind=kind, summary=summary, details=details,
                          executions_to_bug=3, seconds_to_bug=0.4)
    result.schedule = Schedule(Model.FREE_THREADED, python_tag(), "0123abcd", ((4, 1), (9, 2)))
    result.failure = Outcome(failed=True, kind=FailureKind(kind), summary=summary, details=details,
                             thread=thread, threads=threads, events=events, preemptions=1,
                             switches=3, **extra)
    return result


def counter_trace(script: Path) -> list[dict]:
    """Two threads, one lost update on ``counter`` (line 4), a preemption between read and write."""
    f = str(script)
    g = ("g", 0, "counter")
    return [
        _event(0, 0, "access", "setup", f, 1, write=True, location=("g", 0, "setup")),
        _event(0, 0, "start", "start T-1", f, 7, write=True, location=("s", 1)),
        _event(1, 0, "start", "start T-2", f, 7, write=True, location=("s", 2)),
        _event(2, 1, "switch", "switch to T-1", None, None, preempted=True),
        _event(2, 1, "begin", "", None, None, location=("s", 1)),
        _event(3, 1, "access", "counter", f, 4, value="0", location=g),
        _event(3, 1, "access", "mine", f, 3, value="1", location=("g", 0, "mine")),
        _event(4, 2, "switch", "switch to T-2", None, None, preempted=True),
        _event(4, 2, "access", "own", f, 3, value="7", location=("g", 0, "own")),
        _event(5, 2, "access", "counter", f, 4, value="0", location=g),
        _event(6, 2, "access", "counter", f, 4, write=True, location=g),
        _event(7, 1, "switch", "switch to T-1", None, None, preempted=False),
        _event(7, 1, "access", "counter", f, 4, write=True, location=g),
        _event(8, 0, "switch", "switch to MainThread", None, None),
        _event(8, 0, "access", "counter", f, 9, value="1", location=g),
    ]


COUNTER_SOURCE = dedent('''\
    import threading
    counter = 0
    mine = 1
    counter = counter + 1
    # padding
    # padding
    t.start()
    # padding
    assert counter == 2, "lost update"
''')


@pytest.fixture
def counter_page(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(COUNTER_SOURCE)
    details = (f'Traceback (most recent call last):\n  File "{script}", line 9, in <module>\n'
               '    assert counter == 2, "lost update"\nAssertionError: lost update\n')
    result = fake_result(script, counter_trace(script), ["MainThread", "T-1", "T-2"],
                         details=details)
    page = html_report.render_html(result)
    return result, page, browser.parse(page)


def test_one_lane_per_thread_with_the_steps_down_the_page(counter_page):
    _, _, dom = counter_page
    lanes = [th.text().strip() for th in dom.find_all("th", "lane-head")]
    assert lanes == ["MainThread", "T-1", "T-2"]
    rows = dom.find_all("tr", "event")
    shown = [r for r in rows if "folded" not in r.classes]
    steps = [int(r.find("td", "step").text()) for r in shown]
    assert steps == sorted(steps)
    # each event sits in its own thread's lane: the filled cell is the thread's column
    for row in shown:
        cells = row.find_all("td", "lane")
        filled = [i for i, cell in enumerate(cells) if cell.find("div", "ev")]
        assert filled == [int(row.attrs["data-tid"])]


def test_reads_writes_and_sync_show_location_value_and_source_line(counter_page):
    _, _, dom = counter_page
    reads, writes, syncs = ([ev for ev in dom.find_all("div", f"ev {kind}") if "dim" not in ev.classes]
                            for kind in ("read", "write", "sync"))
    assert any("counter" in r.text() and "\u2192 0" in r.text() for r in reads)
    assert any("counter" in w.text() for w in writes)
    assert [s.find("span", "loc").text() for s in syncs] == ["T-1", "T-2"]
    source = writes[0].find("div", "src")
    assert "prog.py:4" in source.text() and "counter = counter + 1" in source.text()


def test_switches_are_drawn_and_preemptions_highlighted(counter_page):
    _, _, dom = counter_page
    switches = dom.find_all("tr", "switch")
    pairs = [(s.attrs["data-from"], s.attrs["data-to"], "preempt" in s.classes) for s in switches]
    # main -> T-1 (preempted), T-1 -> T-2 (preempted), T-2 -> T-1 (not), T-1 -> main (not)
    assert pairs == [("0", "1", True), ("1", "2", True), ("2", "1", False), ("1", "0", False)]
    preempt = switches[1]
    assert "preempted, switch to T-2" in preempt.text()
    assert preempt.find("td", "sw-from") is not None and preempt.find("td", "sw-to") is not None


def test_unshared_accesses_are_folded_with_counts(counter_page):
    _, _, dom = counter_page
    folds = dom.find_all("tr", "fold-head")
    texts = [f.text() for f in folds]
    assert any("1 step folded" in t and "before the first thread starts" in t for t in texts)
    # ``mine`` is touched by T-1 only: folded in T-1's lane, listed inside the fold
    bodies = dom.find_all("tbody", "fold-body")
    assert any("mine" in body.text() for body in bodies)
    assert all("hidden" in body.attrs for body in bodies)


def test_a_short_fold_before_an_event_is_a_toggle_on_its_card(counter_page):
    _, _, dom = counter_page
    minis = dom.find_all("button", "fold-mini")
    assert len(minis) == 1 and minis[0].text() == "+1"
    card = minis[0].parent.parent  # .what inside the event's card
    assert "counter" in card.text() and "\u2192 0" in card.text()
    body = dom.find("tbody", id=minis[0].attrs["data-fold"])
    assert "hidden" in body.attrs and "own" in body.text()
    # every toggle names a fold that exists
    for button in dom.find_all("button"):
        if "data-fold" in button.attrs:
            assert dom.find("tbody", id=button.attrs["data-fold"]) is not None


def test_the_failing_access_and_the_exception_close_the_timeline(counter_page):
    _, _, dom = counter_page
    failing = dom.find_all("div", "ev failing")
    assert len(failing) == 1 and "counter" in failing[0].text() and "prog.py:9" in failing[0].text()
    exc = dom.find("div", "exc")
    assert "AssertionError: boom" in exc.text() and 'assert counter == 2, "lost update"' in exc.text()
    assert dom.find("pre", "traceback") is not None


def test_source_context_is_embedded_for_every_event(counter_page):
    import json
    _, page, dom = counter_page
    data = json.loads(dom.find("script", id="interlace-sources").text())
    assert data["files"] and data["files"][0].endswith("prog.py")
    lines = data["lines"]["0"]
    for number in range(1, 10):  # the events' lines 1, 3, 4, 7, 9 and 3 lines around each
        assert str(number) in lines
    assert lines["4"] == "counter = counter + 1"
    refs = {ev.attrs.get("data-src") for ev in dom.find_all("div", "ev")}
    assert {"0:4", "0:9", "0:7"} <= refs


def test_the_replay_command_with_a_copy_button(counter_page):
    result, _, dom = counter_page
    command = dom.find("code", id="replay-command").text()
    assert command.startswith("interlace replay --schedule il1:") and result.schedule.token() in command
    assert dom.find("button", "copy").attrs["data-copy"] == "replay-command"


def test_the_page_is_self_contained(counter_page):
    _, page, dom = counter_page
    csp = dom.find("meta", **{"http-equiv": "Content-Security-Policy"}).attrs["content"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    for node in dom.iter():
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            assert name not in node.attrs, (node.tag, node.attrs)
    assert "http://" not in page and "https://" not in page and "@import" not in page
    assert [s.attrs.get("type") for s in dom.find_all("script")] == ["application/json", None]


def test_program_text_never_becomes_markup(tmp_path):
    script = tmp_path / "evil.py"
    script.write_text(HOSTILE)
    f = str(script)
    names = ["MainThread", PAYLOAD + "0", PAYLOAD + "1"]
    loc = ("g", 0, "box")
    events = [
        _event(0, 0, "start", f"start {names[1]}", f, 13, write=True, location=("s", 1)),
        _event(1, 1, "switch", f"switch to {names[1]}", None, None, preempted=True),
        _event(1, 1, "access", "box[" + PAYLOAD + "]", f, 8, value=repr(PAYLOAD), location=loc),
        _event(2, 2, "switch", f"switch to {names[2]}", None, None, preempted=True),
        _event(2, 2, "access", "box['v']", f, 8, write=True, value=PAYLOAD, location=loc),
    ]
    details = (f'Traceback (most recent call last):\n  File "{f}", line 16, in <module>\n'
               f'AssertionError: lost: {PAYLOAD}\n')
    result = fake_result(script, events, names, summary=f"AssertionError: lost: {PAYLOAD}",
                         details=details)
    result.warnings = [PAYLOAD]
    result.program_output = PAYLOAD
    page = html_report.render_html(result)
    dom = browser.parse(page)
    assert not dom.find_all("img")
    assert len(dom.find_all("script")) == 2
    assert not [n for n in dom.iter() if any(a.startswith("on") for a in n.attrs)]
    assert PAYLOAD not in page and "<img" not in page
    heads = [th.text().strip() for th in dom.find_all("th", "lane-head")]
    assert heads == names  # shown as text, exactly
    assert PAYLOAD in dom.find("h1").text()
    data = dom.find("script", id="interlace-sources").text()
    assert "<" not in data and ">" not in data


def test_a_deadlock_draws_its_wait_for_cycle(tmp_path):
    script = tmp_path / "abba.py"
    script.write_text(DEADLOCK)
    f = str(script)
    events = [
        _event(0, 0, "start", "start one", f, 20, write=True, location=("s", 1)),
        _event(1, 0, "start", "start two", f, 20, write=True, location=("s", 2)),
        _event(2, 1, "switch", "switch to one", None, None, preempted=True),
        _event(3, 1, "acquire", "acquire Lock#1", f, 8, write=True, location=("s", 3)),
        _event(4, 2, "switch", "switch to two", None, None, preempted=True),
        _event(5, 2, "acquire", "acquire Lock#2", f, 14, write=True, location=("s", 4)),
        _event(6, 2, "blocked", "blocked on Lock#1", f, 15, write=True),
        _event(7, 1, "switch", "switch to one", None, None),
        _event(7, 1, "blocked", "blocked on Lock#2", f, 9, write=True),
    ]
    graph = {"threads": [{"name": "MainThread", "holds": [], "waits_for": "thread one to finish",
                          "blocked_by": "one"},
                         {"name": "one", "holds": ["Lock#1"], "waits_for": "Lock#2", "blocked_by": "two"},
                         {"name": "two", "holds": ["Lock#2"], "waits_for": "Lock#1", "blocked_by": "one"}],
             "cycle": ["one", "two"]}
    result = fake_result(script, events, ["MainThread", "one", "two"], kind="deadlock",
                         summary="deadlock: one waits for Lock#2 held by two; two waits for Lock#1 "
                                 "held by one", details="one: holds Lock#1; waits for Lock#2",
                         thread="one", wait_for=graph)
    dom = browser.parse(html_report.render_html(result))
    svg = dom.find("svg", "cycle")
    nodes = [g.find("text").children[0] for g in svg.find_all("g", "node")]  # the label, not its <title>
    assert [t.split("Lock")[0] for t in nodes] == ["one", "", "two", ""]
    assert "Lock#2" in nodes[1] and "Lock#1" in nodes[3]
    labels = [t.text() for t in svg.find_all("text", "edge-label")]
    assert labels == ["waits for", "held by", "waits for", "held by"]
    holders = {tr.find_all("td")[0].text(): [td.text() for td in tr.find_all("td")[1:]]
               for tr in dom.find_all("tr", "holder")}
    assert holders["one"] == ["Lock#1", "Lock#2", "two"]
    assert "in-cycle" not in dom.find_all("tr", "holder")[0].classes
    # the acquisitions are in the lanes, the blocked attempts marked as the failure
    assert [s.find("span", "op").text() for s in dom.find_all("div", "ev sync")] == \
        ["start", "start", "acquire", "acquire", "blocked", "blocked"]
    assert len(dom.find_all("div", "ev failing")) == 2
    assert "Deadlock: no thread can run" in dom.find("tr", "failure-row").text()


def test_races_from_a_search_highlight_the_racing_pair(tmp_path, counter_page):
    result, _, _ = counter_page
    script = Path(result.config.script)
    result.races = [{"location": "counter", "schedule": "il1:x",
                     "accesses": [{"thread": "T-1", "kind": "write", "file": str(script), "line": 4,
                                   "code": "counter = counter + 1"},
                                  {"thread": "T-2", "kind": "read", "file": str(script), "line": 4,
                                   "code": "counter = counter + 1"}]}]
    dom = browser.parse(html_report.render_html(result))
    section = dom.find("section", "races")
    assert "counter" in section.text() and "T-1" in section.text() and "T-2" in section.text()
    assert "interlace replay --schedule il1:x" in section.find("div", "race-schedule").text()
    rows = [r for r in dom.find_all("tr", "event") if r.find("div", "ev race")]
    assert {(r.attrs["data-tid"], r.find("span", "op").text()) for r in rows} == {("1", "write"), ("2", "read")}
    assert all(r.find("span", "tag race") is not None for r in rows)


def test_without_a_bug_the_page_says_what_was_explored_not_safe(tmp_path):
    config = SearchConfig(script=str(tmp_path / "p.py"), budget=10)
    result = SearchResult("no-bug-found", config, 10, 1.0, "budget")
    page = html_report.render_html(result)
    dom = browser.parse(page)
    assert "NO BUG FOUND" in dom.find("h1").text() and "10 executions" in dom.find("h1").text()
    assert "not a proof" in page
    assert "verified" not in page.lower().replace("no bug found", "")
    assert not dom.find_all("table", "timeline")


def test_report_names_are_file_names_and_unique():
    a = html_report.report_name("tests/test_x.py::test_a[1-/etc/passwd]")
    b = html_report.report_name("tests/test_x.py::test_a[1-/etc/passwd ]")
    assert a != b and "/" not in a and a.endswith(".html") and a.startswith("tests_test_x.py_test_a")


def test_html_path_problems_are_usage_errors_before_the_search(tmp_path):
    script = ROOT / "examples" / "counter.py"
    missing = run_cli("run", str(script), "--html", str(tmp_path / "nope" / "r.html"))
    assert missing.returncode == 2 and "--html: cannot write" in missing.stderr
    assert "does not exist" in missing.stderr and "BUG FOUND" not in missing.stdout
    folder = run_cli("replay", "--schedule", "il1:py311:free-threaded:00000000:", str(script),
                     "--html", str(tmp_path))
    assert folder.returncode == 2 and "is a directory" in folder.stderr


# -- whole searches, and the page in a real browser (slow) ------------------------------------

@pytest.mark.slow
def test_run_html_on_a_held_out_racy_program_renders_in_chromium(tmp_path):
    script = tmp_path / "apples.py"
    script.write_text(HELD_OUT)
    page = tmp_path / "report.html"
    done = run_cli("run", str(script), "--html", str(page))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"HTML report: {page}" in done.stdout
    shot = tmp_path / "report.png"
    rendered = browser.render(page, screenshot=shot, fragment="#failure")
    dom = rendered.dom
    assert "js" in dom.find("body").classes  # the page's script ran (its CSP hash matches)
    lanes = [th.text().strip() for th in dom.find_all("th", "lane-head")]
    assert "buyer-ann" in lanes and "buyer-bob" in lanes
    assert dom.find_all("tr", "switch preempt"), "no preemption marked"
    sources = " ".join(s.text() for s in dom.find_all("div", "src"))
    assert 'stock["apples"] = stock["apples"] - 1' in sources or 'if stock["apples"] > 0:' in sources
    replay = dom.find("code", id="replay-command").text()
    token = next(line.split()[3] for line in done.stdout.splitlines()
                 if line.strip().startswith("interlace replay"))
    assert token in replay
    # ``#failure`` opened the source panel on the failure, filled from the embedded lines
    hit = dom.find("span", "ln hit")
    assert hit is not None and "assert stock" in hit.text()
    assert rendered.page_requests == []
    assert shot.stat().st_size > 20_000


@pytest.mark.slow
def test_replay_html_of_a_deadlock_in_chromium(tmp_path):
    script = tmp_path / "abba.py"
    script.write_text(DEADLOCK)
    done = run_cli("run", str(script))
    assert done.returncode == 1
    token = next(line.split()[3] for line in done.stdout.splitlines()
                 if line.strip().startswith("interlace replay"))
    page = tmp_path / "deadlock.html"
    replayed = run_cli("replay", "--schedule", token, str(script), "--html", str(page))
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    dom = browser.render(page).dom
    svg = dom.find("svg", "cycle")
    assert svg is not None
    names = {t.children[0] for t in svg.find_all("text") if "edge-label" not in t.classes}
    assert {"one", "two"} <= names
    assert {"a", "b"} <= names  # the locks, named after the variables that hold them
    acquires = [ev.find("span", "loc").text() for ev in dom.find_all("div", "ev sync")
                if ev.find("span", "op").text() == "acquire"]
    assert len(acquires) == 2 and len(set(acquires)) == 2


@pytest.mark.slow
def test_hostile_program_text_stays_text_in_chromium(tmp_path):
    script = tmp_path / "evil.py"
    script.write_text(HOSTILE)
    page = tmp_path / "evil.html"
    done = run_cli("run", str(script), "--html", str(page))
    assert done.returncode == 1, done.stdout + done.stderr
    rendered = browser.render(page)
    dom = rendered.dom
    body = dom.find("body")
    assert "data-pwned" not in body.attrs and "js" in body.classes
    assert not dom.find_all("img")
    assert len(dom.find_all("script")) == 2
    assert any(PAYLOAD in th.text() for th in dom.find_all("th", "lane-head"))
    assert rendered.page_requests == []


@pytest.mark.slow
def test_the_report_loads_nothing_even_without_its_content_security_policy(tmp_path):
    """The CSP forbids loads; the markup must not need it: stripped, still nothing is fetched."""
    script = tmp_path / "apples.py"
    script.write_text(HELD_OUT)
    page = tmp_path / "report.html"
    assert run_cli("run", str(script), "--html", str(page)).returncode == 1
    text = page.read_text()
    start = text.index('<meta http-equiv="Content-Security-Policy"')
    stripped = tmp_path / "no-csp.html"
    stripped.write_text(text[:start] + text[text.index(">", start) + 1:])
    assert browser.render(stripped).page_requests == []


@pytest.mark.slow
def test_the_network_check_sees_a_page_that_loads_something(tmp_path):
    """Negative control: the check above can fail."""
    page = tmp_path / "loads.html"
    page.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/pixel.png">')
    assert any("127.0.0.1:9/pixel.png" in url for url in browser.render(page).page_requests)


def test_without_chromium_the_browser_tests_fail_in_ci_and_skip_locally(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text(dedent(f'''\
        import sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        import browser

        def test_needs_chromium():
            browser.chromium()
    '''))
    env_base = {"PATH": str(tmp_path), "HOME": str(tmp_path)}  # no chromium on this PATH
    for ci, expected in (("true", "1 failed"), ("", "1 skipped")):
        env = dict(env_base, CI=ci) if ci else dict(env_base)
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-p", "no:interlace", "-rs", str(probe)], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120)
        assert expected in done.stdout, done.stdout + done.stderr
        assert "Chromium is not installed" in done.stdout


@pytest.mark.slow
def test_pytest_interlace_html_writes_one_file_per_failing_test(pytester):
    """Also for a test that explores itself with ``@interlace.check``."""
    pytester.makepyfile(test_shop=dedent('''\
        import threading

        class Counter:
            def __init__(self):
                self.value = 0

            def increment(self):
                self.value = self.value + 1

        def bump_twice(counter):
            threads = [threading.Thread(target=counter.increment) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert counter.value == 2

        def test_racy():
            bump_twice(Counter())

        def test_also_racy():
            bump_twice(Counter())

        def test_fine():
            assert True

        import interlace

        @interlace.check(budget=100)
        def test_checked():
            bump_twice(Counter())
    '''))
    out_dir = pytester.path / "reports" / "html"
    result = pytester.runpytest_subprocess("--interlace", "--interlace-html", str(out_dir), timeout=300)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    files = sorted(p.name for p in out_dir.iterdir())
    assert len(files) == 3 and all(name.endswith(".html") for name in files)
    for test in ("test_racy", "test_also_racy", "test_checked"):  # explored by the plugin, and
        assert any(test + "-" in n for n in files), files       # by @interlace.check itself
    out = result.stdout.str()
    for name in files:
        assert f"HTML report: {out_dir / name}" in out
    page = (out_dir / next(n for n in files if "test_racy" in n)).read_text()
    assert "pytest --interlace-replay il1:" in page and "test_racy" in page


def test_pytest_interlace_html_refuses_a_file_as_its_folder(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    blocker = pytester.path / "taken"
    blocker.write_text("")
    result = pytester.runpytest_subprocess("--interlace", "--interlace-html", str(blocker), timeout=120)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--interlace-html: cannot use" in result.stderr.str()


def test_a_long_interleaving_keeps_its_preemptions_and_folds_the_middle(tmp_path, monkeypatch):
    monkeypatch.setattr(html_report, "MAX_ROWS", 40)
    monkeypatch.setattr(html_report, "HEAD_ROWS", 5)
    monkeypatch.setattr(html_report, "TAIL_ROWS", 10)
    monkeypatch.setattr(html_report, "PREEMPTION_WINDOW", 3)
    script = tmp_path / "prog.py"
    script.write_text(COUNTER_SOURCE)
    f = str(script)
    g = ("g", 0, "counter")
    events = [_event(0, 0, "start", "start T-1", f, 7, write=True, location=("s", 1)),
              _event(0, 0, "start", "start T-2", f, 7, write=True, location=("s", 2))]
    step = 1
    for round_ in range(60):  # T-1 and T-2 take turns; one preemption, early (round 10)
        for tid in (1, 2):
            events.append(_event(step, tid, "switch", f"switch to T-{tid}", None, None,
                                 preempted=(round_, tid) == (10, 2)))
            events.append(_event(step, tid, "access", "counter", f, 4, value=str(step), location=g))
            events.append(_event(step, tid, "access", "counter", f, 4, write=True, location=g))
            step += 1
    result = fake_result(script, events, ["MainThread", "T-1", "T-2"])
    dom = browser.parse(html_report.render_html(result))
    rows = dom.find_all("tr", "event")
    shown = [r for r in rows if "folded" not in r.classes]
    switches = dom.find_all("tr", "switch")
    assert len(shown) + len(switches) <= 40
    preempt = dom.find_all("tr", "switch preempt")
    assert len(preempt) == 1 and preempt[0].attrs["data-to"] == "2"
    assert "folded to keep the page short" in dom.find("table", "timeline").text()
    assert "more events are folded" in dom.find("tr", "omitted").text()
    steps = [int(r.find("td", "step").text()) for r in shown]
    assert steps[-1] == step - 1  # the end is kept


def test_a_failure_without_a_trace_says_why(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("while True:\n    pass\n")
    result = fake_result(script, [], [], kind="hang", summary="the execution hung", thread=None)
    result.failure.events = None
    page = html_report.render_html(result)
    assert "No trace was recorded for this failure (hang): replaying it would hang or crash again" in page
    assert "interlace replay --schedule" in page


#: Drives the page as a user would (the test's copy of the page drops the CSP to run it).
DRIVER = """<script>
window.addEventListener("load", function () {
  document.querySelector(".fold-toggle").click();
  var target = document.querySelector(".ev.write:not(.dim)[data-src]");
  target.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
  document.body.setAttribute("data-driven", "1");
});
</script>"""


@pytest.mark.slow
def test_folds_open_and_the_source_panel_follows_the_pointer_in_chromium(tmp_path, counter_page):
    _, page, _ = counter_page
    start = page.index('<meta http-equiv="Content-Security-Policy"')
    driven = page[:start] + page[page.index(">", start) + 1:]
    driven = driven.replace("</body>", DRIVER + "</body>")
    path = tmp_path / "driven.html"
    path.write_text(driven)
    dom = browser.render(path).dom
    assert dom.find("body").attrs.get("data-driven") == "1"
    first_fold = dom.find("tbody", "fold-body")
    assert "hidden" not in first_fold.attrs
    assert dom.find("button", "fold-toggle").attrs["aria-expanded"] == "true"
    assert "hidden" not in dom.find("aside", id="source-panel").attrs
    assert dom.find("span", id="source-where").text().endswith("prog.py:4")
    lines = [ln.text() for ln in dom.find_all("span", "ln")]
    assert lines[0].startswith("1") and lines[-1].startswith("7")  # line 4, three either side
    assert "counter = counter + 1" in dom.find("span", "ln hit").text()


def test_races_without_a_failure_are_listed(tmp_path):
    script = tmp_path / "p.py"
    script.write_text("x = 1\n")
    result = SearchResult("no-bug-found", SearchConfig(script=str(script), budget=5), 5, 1.0, "budget")
    result.races = [{"location": "x", "schedule": None,
                     "accesses": [{"thread": "A", "kind": "write", "file": str(script), "line": 1,
                                   "code": "x = 1"},
                                  {"thread": "B", "kind": "read", "file": str(script), "line": 1,
                                   "code": None}]}]
    dom = browser.parse(html_report.render_html(result))
    items = dom.find("section", "races").find_all("li", "race")
    assert [i.find("b").text() for i in items] == ["A", "B"]
    assert "x = 1" in items[1].text()  # the code read from the file when the race gives none


def test_a_cycle_through_a_join_is_drawn_too(tmp_path):
    """The runtime's cycle follows lock owners only; the page also follows joins."""
    script = tmp_path / "join.py"
    script.write_text(DEADLOCK)
    graph = {"threads": [{"name": "MainThread", "holds": ["Lock#1"],
                          "waits_for": "thread worker to finish", "blocked_by": "worker"},
                         {"name": "worker", "holds": [], "waits_for": "Lock#1",
                          "blocked_by": "MainThread"}],
             "cycle": []}
    result = fake_result(script, [], ["MainThread", "worker"], kind="deadlock",
                         summary="deadlock: every live thread is blocked", wait_for=graph)
    result.failure.events = [_event(0, 0, "start", "start worker", str(script), 20, write=True,
                                       location=("s", 1))]
    dom = browser.parse(html_report.render_html(result))
    svg = dom.find("svg", "cycle")
    assert [g.find("text").children[0] for g in svg.find_all("g", "node")] == \
        ["MainThread", "worker", "Lock#1"]
    assert [t.text() for t in svg.find_all("text", "edge-label")] == \
        ["waits for it to end", "waits for", "held by"]


def test_a_preemption_between_folded_steps_is_still_drawn(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(COUNTER_SOURCE)
    f = str(script)
    g = ("g", 0, "counter")
    events = [
        _event(0, 0, "start", "start T-1", f, 7, write=True, location=("s", 1)),
        _event(0, 0, "start", "start T-2", f, 7, write=True, location=("s", 2)),
        _event(1, 1, "switch", "switch to T-1", None, None),
        _event(1, 1, "access", "a", f, 3, location=("g", 0, "a")),      # T-1's own
        _event(2, 2, "switch", "switch to T-2", None, None, preempted=True),
        _event(2, 2, "access", "b", f, 3, location=("g", 0, "b")),      # T-2's own
        _event(3, 1, "switch", "switch to T-1", None, None),
        _event(3, 1, "access", "a", f, 3, location=("g", 0, "a")),
        _event(4, 1, "access", "counter", f, 4, write=True, location=g),
        _event(5, 2, "switch", "switch to T-2", None, None),
        _event(5, 2, "access", "counter", f, 4, write=True, location=g),
    ]
    dom = browser.parse(html_report.render_html(fake_result(script, events, ["MainThread", "T-1", "T-2"])))
    switches = [(s.attrs["data-from"], s.attrs["data-to"], "preempt" in s.classes)
                for s in dom.find_all("tr", "switch")]
    assert ("1", "2", True) in switches
