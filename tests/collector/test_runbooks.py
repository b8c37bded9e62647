"""The runbooks: rendered safely, served by the real collector, linked from tickets and
notifications with the collector's own address, exported for Prometheus, and carried by the
built wheel.

Everything runs for real: the collector processes (`regie collector run`), their embedded
evaluator scraping a loopback port where nothing listens (its `up` is 0: a breach of the
host-down rule, with `for: 0s`), the file notification channel, `regie rules export` and
`pip wheel`. Nothing is faked.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from alerting.rules import parse_rules, with_runbook_links
from collector.rules_file import load_rule_set
from collector.runbooks import Runbooks, linked
from collector.ui.markdown import render
from collector.ui.runbook_page import index_page, runbook_page
from tests.collector.conftest import collector_process, evaluator_config, regie
from tests.collector.oncall_harness import SCHEDULE
from tests.services import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.stem for p in (ROOT / "docs" / "runbooks").glob("*.md") if p.stem != "README")

# -- the Markdown subset, escaped ------------------------------------------------------------


@pytest.mark.parametrize(("source", "html"), [
    ("# Title", "<h1>Title</h1>"),
    ("## What it means", "<h2>What it means</h2>"),
    ("one\nparagraph\n\nanother", "<p>one paragraph</p>\n<p>another</p>"),
    ("Urgency **high**, `storage`.", "<p>Urgency <strong>high</strong>, <code>storage</code>.</p>"),
    ("- a\n- b `c`\n  continued", "<ul><li>a</li><li>b <code>c</code> continued</li></ul>"),
    ("1. first\n2. second", "<ol><li>first</li><li>second</li></ol>"),
    ("```sh\ncat /proc/mdstat | grep '<md>' && echo \"&\"\n```",
     '<pre><code class="language-sh">cat /proc/mdstat | grep &#x27;&lt;md&gt;&#x27; &amp;&amp; '
     'echo &quot;&amp;&quot;</code></pre>'),
    ("```\n# not a heading\n- not a list\n```",
     "<pre><code># not a heading\n- not a list</code></pre>"),
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ("`<b>` **<i>**", "<p><code>&lt;b&gt;</code> <strong>&lt;i&gt;</strong></p>"),
    ("[docs](https://example.org/a?b=1&c=2)",
     '<p><a href="https://example.org/a?b=1&amp;c=2">docs</a></p>'),
    ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
    ("[x](JavaScript:alert)", "<p>[x](JavaScript:alert)</p>"),
    ("[x](data:text/html,hi)", "<p>[x](data:text/html,hi)</p>"),
    ("[x](//evil.example/)", "<p>[x](//evil.example/)</p>"),
    ('[x](a"onmouseover=b)', '<p><a href="a&quot;onmouseover=b">x</a></p>'),
])
def test_markdown_subset(source, html):
    assert render(source) == html


def test_relative_links_are_mapped_and_others_kept():
    page = render("[disk](FilesystemFilling.md) and [mail](mailto:ops@example.org)",
                  link=lambda target: "/runbooks/" + target.removesuffix(".md"))
    assert page == ('<p><a href="/runbooks/FilesystemFilling">disk</a> and '
                    '<a href="mailto:ops@example.org">mail</a></p>')


class Tags(HTMLParser):
    """The tags and text of a page, to check what a browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("href", "src") and v]

    def handle_data(self, data):
        self.text.append(data)


def parsed(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


@pytest.mark.parametrize("name", PAGES)
def test_every_bundled_runbook_renders_its_sections(name):
    runbook = Runbooks.bundled().get(name)
    assert runbook is not None
    page = parsed(runbook_page(runbook))
    text = " ".join(page.text)
    for heading in (name, "What it means", "Confirm", "Act", "Escalate"):
        assert heading in text
    assert {"h1", "h2", "pre", "code", "link"} <= set(page.tags)
    assert not {"script", "style", "iframe", "img"} & set(page.tags)
    assert page.links == ["/ui/runbook.css", "/runbooks/"]   # no other resource, no link out
    assert runbook.summary and len(runbook.summary) < 300 and "\n" not in runbook.summary


@pytest.mark.parametrize("name", PAGES)
def test_every_runbook_confirms_with_a_block_the_docs_test_runs(name):
    """tests/test_docs_run.py runs each page's ```sh block; a page adds at most one no-run
    block, after it, for what only the affected host has."""
    from tests.test_docs_run import doc_blocks

    blocks = [b for b in doc_blocks() if b.source.startswith(f"docs/runbooks/{name}.md:")]
    assert [b.no_run for b in blocks] in ([False], [False, True])
    assert any(line.startswith("regie ") for line in blocks[0].text.splitlines())


def test_the_index_lists_every_runbook_with_its_summary():
    runbooks = Runbooks.bundled()
    assert sorted(runbooks.names) == PAGES
    page = index_page(runbooks)
    for name in PAGES:
        assert f'<a href="/runbooks/{name}">{name}</a></dt><dd>' in page
    disk = runbooks.get("RaidDegraded")
    assert disk is not None
    assert disk.summary == ("A software RAID array runs without its full set of devices: "
                            "one more disk failure may lose the data.")


# -- which link a rule carries ---------------------------------------------------------------

RULE = {"name": "FilesystemFilling", "metric": "regie_filesystem_used_ratio", "op": ">",
        "value": 0.9, "urgency": "medium", "component": "filesystem", "summary": "full"}
OWN = {**RULE, "name": "RaidDegraded", "runbook_url": "https://wiki.example.org/raid"}
LOCAL = {**RULE, "name": "LocalCheck"}


@pytest.mark.parametrize(("base", "expected"), [
    # No base, or a path (as files once shipped: "docs/runbooks"): the bundled pages, on the
    # collector; a rule without a bundled page gets no link rather than a dead one.
    (None, ["https://regie.example.org/runbooks/FilesystemFilling",
            "https://wiki.example.org/raid", None]),
    ("docs/runbooks", ["https://regie.example.org/runbooks/FilesystemFilling",
                       "https://wiki.example.org/raid", None]),
    # An http(s) base: every rule links <base>/<rule>.md there; a rule's own link still wins.
    ("https://docs.example.org/rb/", ["https://docs.example.org/rb/FilesystemFilling.md",
                                      "https://wiki.example.org/raid",
                                      "https://docs.example.org/rb/LocalCheck.md"]),
])
def test_runbook_links(base, expected):
    data = {"rules": [RULE, OWN, LOCAL], **({"runbook_base_url": base} if base else {})}
    rules = linked(parse_rules(data, source="t.yml"), "https://regie.example.org/")
    assert [r.runbook_url for r in rules] == expected


def test_with_runbook_links_is_pure():
    rules = parse_rules({"rules": [RULE, OWN]}, source="t.yml")
    assert [r.runbook_url for r in with_runbook_links(rules, {"FilesystemFilling": "u1",
                                                              "RaidDegraded": "u2"})] == [
        "u1", "https://wiki.example.org/raid"]
    assert [r.runbook_url for r in rules] == [None, "https://wiki.example.org/raid"]


# -- served by the real collector ------------------------------------------------------------


def get(url: str, *, accept: str = "*/*") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_served_without_a_token(collector):
    status, headers, page = get(f"{collector.url}/runbooks/DiskIoSaturated")
    assert status == 200, page
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'self'")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "<h1>DiskIoSaturated</h1>" in page
    assert re.search(r'<pre><code class="language-sh">[^<]*\ncat /proc/pressure/io</code>', page)

    status, headers, index = get(f"{collector.url}/runbooks/")
    assert status == 200
    assert re.findall(r'<a href="/runbooks/(\w+)">', index) == PAGES

    status, headers, css = get(f"{collector.url}/ui/runbook.css")
    assert (status, headers["Content-Type"]) == (200, "text/css; charset=utf-8")
    assert "max-width" in css


@pytest.mark.parametrize(("path", "accept", "status", "reason"), [
    ("/runbooks/NoSuchRule", "application/json", 404,
     "no runbook for 'NoSuchRule': GET /runbooks/ lists them"),
    ("/runbooks/README", "application/json", 404,
     "no runbook for 'README': GET /runbooks/ lists them"),
    ("/runbooks/DiskFull.md", "application/json", 400,
     "rule: a rule name: a letter, then letters, digits or '_' (at most 200)"),
    ("/runbooks/%2E%2E%2Fapi", "application/json", 400,
     "rule: a rule name: a letter, then letters, digits or '_' (at most 200)"),
    ("/runbooks/%00", "application/json", 400,
     "rule: a rule name: a letter, then letters, digits or '_' (at most 200)"),
    ("/runbooks/Oom%ED%A0%80", "application/json", 400,
     "rule: percent-encoded bytes that are not UTF-8 text"),
    ("/runbooks/" + "A" * 201, "application/json", 400,
     "rule: a rule name: a letter, then letters, digits or '_' (at most 200)"),
    ("/runbooks/OomKill?x=1", "application/json", 400, "x: unknown query parameter"),
    ("/runbooks/?lang=de", "application/json", 400, "lang: unknown query parameter"),
])
def test_refusals_say_why(collector, path, accept, status, reason):
    code, _, body = get(collector.url + path, accept=accept)
    assert (code, json.loads(body)) == (status, {"error": reason})


def test_a_browser_gets_a_page_for_an_unknown_rule(collector):
    code, headers, page = get(f"{collector.url}/runbooks/No<b>Such", accept="text/html")
    assert code == 400
    assert "No&lt;b&gt;Such" in page and "<b>" not in page
    code, headers, page = get(f"{collector.url}/runbooks/NoSuchRule", accept="text/html")
    assert code == 404 and headers["Content-Type"].startswith("text/html")
    assert "There is no runbook for NoSuchRule" in page


# -- end to end: a breach, its ticket and notification, the link opened ----------------------

RULES = """
rules:
  - name: RegieAgentDown              # a bundled page: linked on the collector
    metric: up
    op: "=="
    value: 0
    for: 0s
    urgency: high
    component: agent
    summary: "{{ host }} does not answer"
  - name: LocalProbeDown              # no bundled page: no link (not a dead one)
    metric: up
    op: "=="
    value: 0
    for: 0s
    urgency: high
    component: probe
    summary: "{{ host }}: probe down"
  - name: SystemdUnitFailed           # its own link wins
    metric: up
    op: "=="
    value: 0
    for: 0s
    urgency: high
    component: systemd
    summary: "{{ host }}: unit"
    runbook_url: https://wiki.example.org/units
"""


def test_a_breach_links_its_runbook_and_the_link_opens(tmp_path, sqlite_db):
    """Nothing listens on the target's port, so `up` is 0 at once. The collector has no
    oncall.public_url: the link is its own listen address, which the test then opens."""
    (tmp_path / "oncall.yml").write_text(SCHEDULE)
    pages = tmp_path / "pages.jsonl"
    config = (evaluator_config(tmp_path, RULES, {free_port(): "web-1"}) +
              f'\n[oncall]\nschedule_file = "{tmp_path / "oncall.yml"}"\n\n'
              f'[[oncall.channels]]\nname = "log"\nkind = "file"\npath = "{pages}"\n')
    with collector_process(tmp_path, sqlite_db, config) as collector:
        def tickets() -> dict[str, dict] | None:
            status, body = collector.call("GET", "/api/v1/tickets?details=true&"
                                                 "include_attached=true", token="viewer")
            assert status == 200, body
            found = {t["details"]["rule"]: t for t in body["tickets"]}
            return found if len(found) == 3 else None

        by_rule = wait_for(tickets, timeout=30, what="three tickets from the evaluator")
        links = {rule: t["details"].get("annotations", {}).get("runbook_url")
                 for rule, t in by_rule.items()}
        assert links == {"RegieAgentDown": f"{collector.url}/runbooks/RegieAgentDown",
                         "LocalProbeDown": None,
                         "SystemdUnitFailed": "https://wiki.example.org/units"}

        status, _, page = get(links["RegieAgentDown"], accept="text/html")
        assert status == 200
        assert "<h1>RegieAgentDown</h1>" in page and "<h2>What it means</h2>" in page

        # The notification carries the same link (the file channel writes what is sent).
        def sent() -> dict[int, dict] | None:
            lines = pages.read_text().splitlines() if pages.exists() else []
            found = {json.loads(line)["ticket_id"]: json.loads(line) for line in lines}
            return found if len(found) >= 3 else None

        notices = wait_for(sent, timeout=30, what="the three pages to be delivered")
        assert {rule: notices[t["id"]]["links"]["runbook"] for rule, t in by_rule.items()} \
            == links


# -- exported for Prometheus -----------------------------------------------------------------


def test_export_links_the_collector_when_its_public_url_is_set(tmp_path):
    config = tmp_path / "regie.toml"
    config.write_text('[oncall]\npublic_url = "https://regie.example.org"\n')
    out = regie("rules", "export", "--config", str(config), "--out", "-").stdout
    exported = {r["alert"]: r["annotations"].get("runbook_url")
                for r in yaml.safe_load(out)["groups"][0]["rules"]}
    assert exported == {name: f"https://regie.example.org/runbooks/{name}"
                        for name in (r.name for r in load_rule_set(None).rules)}

    # Without it the link is the collector's path alone, documented as relative.
    config.write_text('[server]\nlisten = "127.0.0.1:8847"\n')
    out = regie("rules", "export", "--config", str(config), "--out", "-").stdout
    rules = yaml.safe_load(out)["groups"][0]["rules"]
    assert {r["annotations"]["runbook_url"] for r in rules} == {
        f"/runbooks/{r['alert']}" for r in rules}

    config.write_text('[oncall]\npublic_url = "regie.example.org"\n')
    refused = regie("rules", "export", "--config", str(config), "--out", "-", check=False)
    assert refused.returncode == 2
    assert "oncall.public_url: must start with http:// or https://" in refused.stderr


# -- packaged -------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_the_built_wheel_carries_the_runbooks(tmp_path):
    """`pip wheel` on a copy of the source tree (the symbolic link collector/data/runbooks ->
    docs/runbooks kept as a link, as in a checkout): the wheel holds every page as a file.
    The build is pip's usual isolated one, with the backend pyproject.toml names (setuptools)."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
        ".ruff_cache", ".hypothesis", "regie-demo"))
    assert (source / "collector" / "data" / "runbooks").is_symlink()
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                             "-w", str(tmp_path / "wheels"), "-q"],
                            capture_output=True, text=True, timeout=280, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("regie-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        inside = {n.removeprefix("collector/data/runbooks/").removesuffix(".md")
                  for n in names if n.startswith("collector/data/runbooks/")}
        assert inside == {*PAGES, "README"}
        assert archive.read("collector/data/runbooks/OomKill.md") == \
            (ROOT / "docs" / "runbooks" / "OomKill.md").read_bytes()
