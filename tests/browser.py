"""Rendering a page in headless Chromium for the HTML report's tests: the DOM after its
script ran, a screenshot, and the network requests the page itself made (from Chromium's
net log: the browser's own background requests carry no page origin and are left out).

Without Chromium the tests fail when ``CI`` is set (``.ci/run`` installs it with apt) and are
skipped otherwise, with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def chromium() -> str:
    """The Chromium executable; fails the test in CI without one, skips it elsewhere."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    message = ("Chromium is not installed: the HTML report's browser tests need it "
               "(apt-get install chromium)")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " [CI is set: a missing browser fails the suite]", pytrace=False)
    pytest.skip(message)


@dataclass
class Rendered:
    dom: "Node"
    html: str
    #: URLs of the requests the page made (not the browser's own background traffic).
    page_requests: list[str]


def render(page: Path, screenshot: Optional[Path] = None, size: str = "1300,1100",
           fragment: str = "") -> Rendered:
    """Load ``page`` from disk (``fragment``: ``#...`` after its URL); its DOM after scripts
    ran, and what it fetched."""
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="interlace-chromium-") as profile:
        netlog = Path(profile) / "netlog.json"
        base = [browser, *FLAGS, f"--user-data-dir={profile}/data", f"--log-net-log={netlog}",
                f"--window-size={size}"]
        dumped = subprocess.run([*base, "--dump-dom", page.resolve().as_uri() + fragment],
                                capture_output=True, text=True, timeout=120)
        assert dumped.returncode == 0, dumped.stderr[-2000:]
        requests = page_requests(netlog)
        if screenshot is not None:
            shot = subprocess.run([*base, f"--screenshot={screenshot}", page.resolve().as_uri()],
                                  capture_output=True, text=True, timeout=120)
            assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    return Rendered(parse(dumped.stdout), dumped.stdout, requests)


def page_requests(netlog: Path) -> list[str]:
    """URL requests a document started (its initiator is an origin, ``null`` for file://)."""
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    if not text.endswith("}"):  # a log cut short by the exit: close its event list
        text = text.rstrip(",\n") + "]}"
    log = json.loads(text)
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if event.get("type") == start_job and "url" in params \
                and params.get("initiator") != "not an origin":  # the end of a job has no url
            urls.append(params["url"])
    return urls


# -- a small DOM, enough to query the dumped page ----------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict
    children: list = field(default_factory=list)
    parent: Optional["Node"] = None

    @property
    def classes(self) -> set:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: Optional[str] = None, cls: Optional[str] = None, **attrs) -> list["Node"]:
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and (cls is None or set(cls.split()) <= n.classes)
                and all(n.attrs.get(k) == v for k, v in attrs.items())]

    def find(self, tag: Optional[str] = None, cls: Optional[str] = None, **attrs) -> Optional["Node"]:
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, parent=self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, parent=self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(markup: str) -> Node:
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    return builder.root
