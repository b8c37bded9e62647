"""The OpenAPI document matches the route table, and the running service agrees with it both
ways (schemathesis with every check, against the real collector on SQLite)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.app import Route
from collector.handlers import ROUTES
from collector.openapi import REQUEST_BODIES, document
from collector.openapi_links import LINKS


def _openapi_path(route: Route) -> str:
    # {name:regex} -> {name}; the regex may hold braces ({1,18}) and slashes ([^/]).
    return re.sub(r"\{(\w+):(?:[^{}]|\{[^{}]*\})*\}", r"{\1}", route.path)


def test_document_lists_exactly_the_routes():
    doc = document()
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routed = {(r.method, _openapi_path(r)) for r in ROUTES}
    assert documented == routed


def test_security_matches_permissions():
    doc = document()
    for route in ROUTES:
        op = doc["paths"][_openapi_path(route)][route.method.lower()]
        if route.permission is None:
            assert op["security"] == [], route.name
        else:
            assert op.get("security", doc["security"]) != [], route.name


def test_served_document_is_the_same(collector):
    status, body = collector.call("GET", "/api/v1/openapi.json", token="viewer")
    assert status == 200
    assert body == document()


def test_every_request_body_obeys_the_body_rules():
    """Each requestBody is one of REQUEST_BODIES, so `storable` states the NUL ban in it."""
    doc = document()
    bodies = {content["schema"]["$ref"].rsplit("/", 1)[1]
              for ops in doc["paths"].values() for op in ops.values()
              if "requestBody" in op for content in op["requestBody"]["content"].values()}
    assert bodies == set(REQUEST_BODIES)


def _required_fields(doc: dict, schema: dict) -> set[str]:
    if "$ref" in schema:
        return _required_fields(doc, doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    return set(schema.get("required", ())).union(
        *(_required_fields(doc, branch) for branch in schema.get("allOf", ())))


def test_links_lead_to_operations_with_what_they_need():
    """Each link (collector/openapi_links.py) names an operation of the document, fills
    exactly its path parameters, from a field every answer it follows carries or from the
    request's own path parameter."""
    doc = document()
    count = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                for name, link in response.get("links", {}).items():
                    count += 1
                    assert status.startswith("2"), (path, method, status, name)
                    pointer = link["operationRef"].removeprefix("#/paths/")
                    target_path, target_method = pointer.rsplit("/", 1)
                    target_path = target_path.replace("~1", "/").replace("~0", "~")
                    target = doc["paths"][target_path][target_method]
                    wanted = {p["name"] for p in target.get("parameters", ())
                              if p["in"] == "path"}
                    assert set(link["parameters"]) == wanted, (path, name)
                    schema = response["content"]["application/json"]["schema"]
                    own = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path"}
                    for expression in link["parameters"].values():
                        if expression.startswith("$response.body#/"):
                            field = expression.removeprefix("$response.body#/")
                            assert field in _required_fields(doc, schema), (path, name)
                        else:
                            assert expression.removeprefix("$request.path.") in own, (path, name)
    assert count == sum(len(targets) for _, targets in LINKS.values()) > 0


_SETUPS = [("plain", "sqlite"), ("oncall", "sqlite"), ("oncall", "postgresql")]


def _schemathesis(tmp_path: Path, setup: str, backend: str, *args: str,
                  config_file: Path | None = None, seeds: tuple[int, ...] = (20261207,),
                  enough: Callable[[subprocess.CompletedProcess], bool] = lambda _: True
                  ) -> list[tuple[subprocess.CompletedProcess, str]]:
    """Run schemathesis with every check against a real collector (admin token); the run and
    the collector's log. `setup` "oncall": a schedule, a file channel and link signing.
    A run per seed, in turn, against the same collector, until `enough` says a run's
    result is (the runs, in order)."""
    from tests.collector.conftest import collector_process, migrated, throwaway_database
    from tests.collector.oncall_harness import LINK_SECRET, SCHEDULE

    config = ""
    if setup == "oncall":
        (tmp_path / "oncall.yml").write_text(SCHEDULE)
        (tmp_path / "link.key").write_text(LINK_SECRET + "\n")
        (tmp_path / "link.key").chmod(0o600)   # secret files other users can read are refused
        config = (f'[oncall]\nschedule_file = "{tmp_path / "oncall.yml"}"\n'
                  f'link_secret_file = "{tmp_path / "link.key"}"\n\n'
                  f'[[oncall.channels]]\nname = "log"\nkind = "file"\n'
                  f'path = "{tmp_path / "notifications.jsonl"}"\n')
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.collector.schemathesis_hooks",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                       os.environ.get("PYTHONPATH")]))}
    global_options = ["--config-file", str(config_file)] if config_file else []
    runs = []
    with throwaway_database(backend, tmp_path) as url, \
            collector_process(tmp_path, migrated(url), config) as collector:
        for seed in seeds:
            result = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", *global_options, "run",
                 f"{collector.url}/api/v1/openapi.json",
                 "--header", f"Authorization: Bearer {collector.tokens['admin']}",
                 "--checks", "all", "--seed", str(seed), "--no-color",
                 "--suppress-health-check", "all",
                 *(a.replace("{seed}", str(seed)) for a in args)],
                capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path,
                env=env)
            runs.append((result, (tmp_path / f"collector-{collector.port}.log").read_text()))
            if enough(result):
                break
    return runs


def _no_traceback_through_regie(log: str) -> None:
    # aiohttp's HTTP parser logs malformed requests it refuses itself (a NUL in a header); a
    # traceback through Regie's own code would be an unhandled error in a handler.
    own_frames = [line for line in log.splitlines()
                  if line.strip().startswith('File "') and "/collector/" in line]
    assert own_frames == [], log[-4000:]


@pytest.mark.timeout(600)  # fuzzes every operation: 30-130 s (default: 120 s)
@pytest.mark.parametrize(("setup", "backend"), _SETUPS)
def test_schemathesis_all_checks(tmp_path, setup, backend):
    """Property-based requests from the document (valid and invalid) against the real service,
    authenticated as admin, with every schemathesis check: no 5xx, every status, header,
    content type and body as documented, every request the document allows accepted (not
    400), every request it forbids refused, undocumented methods 405 with Allow. Once as
    installed, once with on-call configured (schedule, a file channel, link signing), so its
    endpoints answer too; and on PostgreSQL, whose types are narrower (32-bit ids, no NUL).

    The one rule OpenAPI cannot state (an inventory push's Idempotency-Key header equals the
    body's key) is taught by tests/collector/schemathesis_hooks.py."""
    [(result, log)] = _schemathesis(tmp_path, setup, backend, "--max-examples", "25",
                                "--phases", "examples,coverage,fuzzing")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    # Every operation of the document was exercised in both phases, none skipped (but the
    # document's own URL, which schemathesis leaves out of what it loaded it from).
    operations = sum(len(ops) for ops in document()["paths"].values()) - 1
    assert re.search(rf"Operations:\s+{operations} selected / {operations} total",
                     result.stdout), output[-3000:]
    assert result.stdout.count(f"\u2705 {operations} passed") == 2, output[-3000:]
    _no_traceback_through_regie(log)


# The resources whose workflows the document's links describe (collector/openapi_links.py):
# the stateful phase must have followed a link from each one's creation to a next call that
# succeeded.
_CREATIONS = ["POST /api/v1/tickets ", "POST /api/v1/changes ", "POST /api/v1/maintenance ",
              "POST /api/v1/vendor-cases ", "POST /api/v1/inventory "]


@pytest.mark.timeout(600)  # 200 scenarios of at most 10 calls: 40-100 s
@pytest.mark.parametrize(("setup", "backend"), _SETUPS)
def test_schemathesis_stateful(tmp_path, setup, backend):
    """Schemathesis's stateful phase: scenarios of calls chained by the document's links (a
    ticket reported, then read, acknowledged, noted, resolved, closed by the id in the answer;
    a change submitted, approved, started...; a maintenance window read and ended; a vendor
    case updated, noted, closed; an inventory push's host read), with every check, among
    calls on random ids, on the operations the links join. The links are the document's own
    (schemathesis's inference is off: tests/collector/schemathesis_stateful.toml), and the
    run's report must show them followed: from every resource's creation to a next call that
    succeeded, and chains of more than one link.

    Hypothesis stops a suite when a repeated scenario answers otherwise than the first time
    (a state-changing API does); tests/collector/schemathesis_hooks.py gives the phase's
    creations fresh unique keys so that happens late. How soon it happens depends on the seed
    and on everything the collector answers, so one seed's run may end before it reached
    every resource (an unrelated change moved one from 309 scenarios to 51): the coverage is
    that of up to three seeds' runs against the same collector, each of which must pass."""
    calls: dict[str, tuple[str | None, str | None, int | None]] = {}

    def covered(result: subprocess.CompletedProcess) -> bool:
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-12000:]
        links = sum(len(targets) for _, targets in LINKS.values())
        found = re.search(rf"API Links:\s+(\d+) covered / {links} selected / {links} total\n",
                          result.stdout)
        assert found and int(found[1]) > 0, output[-3000:]
        calls.update(_stateful_calls(tmp_path / "run.ndjson"))
        return not _missing(calls)

    runs = _schemathesis(
        tmp_path, setup, backend, "--phases", "stateful",
        "--include-path-regex", "^/api/v1/(tickets|changes|maintenance|vendor-cases|"
                                "inventory|hosts)",
        "--report", "ndjson", "--report-ndjson-path", str(tmp_path / "run.ndjson"),
        config_file=Path(__file__).with_name("schemathesis_stateful.toml"),
        seeds=(20261207, 1, 2), enough=covered)
    followed = {link for link, _, status in calls.values() if link and 200 <= status < 300}
    assert _missing(calls) == [], (_missing(calls), len(runs), sorted(followed))
    chained = [link for link, parent, status in calls.values()
               if link and parent in calls and calls[parent][0] and 200 <= status < 300]
    assert chained, sorted(followed)
    _no_traceback_through_regie(runs[-1][1])


def _stateful_calls(report: Path) -> dict[str, tuple[str | None, str | None, int | None]]:
    """Each call of a run's stateful scenarios (its NDJSON report), by its id: the link it
    followed (if any), its parent call, its status."""
    import json

    calls = {}
    for line in report.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished or finished["phase"] != "stateful":
            continue
        recorder = finished["recorder"]
        for case_id, case in recorder.get("cases", {}).items():
            response = (recorder.get("interactions", {}).get(case_id) or {}).get("response")
            transition = case.get("transition") if case["is_transition_applied"] else None
            calls[case_id] = (transition and transition["id"], case.get("parent_id"),
                              response and response["status_code"])
    return calls


def _missing(calls: dict[str, tuple[str | None, str | None, int | None]]) -> list[str]:
    """The resources no call reached by a link from their creation with a 2xx answer."""
    followed = {link for link, _, status in calls.values() if link and 200 <= status < 300}
    return [c for c in _CREATIONS if not any(link.startswith(c) for link in followed)]


@pytest.mark.parametrize("text", [
    "2026-03-29T01:30:00Z", "2026-03-29T01:30:00.123456789+02:00", "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00", "0002-01-01T00:30:00+01:00", "9998-12-31T23:59:59-23:59",
    "9999-06-01T00:00:00-05:00", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59+05:00",
    "9999-12-31T00:00:00-01:00", "9999-12-31T00:00:00-00:00", "2026-02-30T00:00:00Z",
    "2026-03-29T01:30:00", "2026-03-29", "", None, "yesterday", 1743211800,
])
def test_body_timestamps_documented_as_read(text):
    """The document's body timestamp accepts exactly what collector/payloads/fields.py reads
    (checked as schemathesis checks: jsonschema-rs with formats)."""
    import jsonschema_rs

    from collector.payloads.fields import BadPayload, timestamp

    schema = document()["components"]["schemas"]["Event"]["properties"]["payload"][
        "properties"]["timestamp"]
    documented = jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(text)
    try:
        timestamp(text, "t", default=datetime.now(UTC))
        read = True
    except BadPayload:
        read = False
    if text == "9999-12-31T00:00:00-01:00":
        # The one gap, on the safe side: a pattern cannot add an offset to a time, so on the
        # last day of year 9999 the document allows only offsets at or east of UTC.
        assert (documented, read) == (False, True)
        return
    assert documented == read, (text, documented, read)


def _parsers():
    from collector.payloads.alertmanager import parse_webhook
    from collector.payloads.events import parse_event
    from collector.payloads.inventory import parse_inventory
    from collector.payloads.reports import parse_report

    now = datetime.now(UTC)
    return {
        "UserReport": lambda body: parse_report(body, default_reporter="r"),
        "Event": lambda body: parse_event(body, now=now),
        "AlertmanagerWebhook": lambda body: parse_webhook(body, now=now),
        "InventoryPush": lambda body: parse_inventory(body, header_key=None),
    }


_GOOD = {
    "UserReport": {"summary": "disk full"},
    "Event": {"routing_key": "k", "event_action": "trigger",
              "payload": {"summary": "s", "source": "h", "severity": "error"}},
    "AlertmanagerWebhook": {"alerts": [{"status": "firing", "fingerprint": "f"}]},
    "InventoryPush": {"idempotency_key": "k", "document": {
        "schema": "regie.inventory/v1", "host": {"hostname": "h"},
        "observations": [{"source": "dpkg", "raw": {}}]}},
}
# (body, path to a text field, its limit)
_TEXT_FIELDS = [
    ("UserReport", ("summary",), 500), ("UserReport", ("description",), 20000),
    ("UserReport", ("reporter",), 200), ("UserReport", ("host",), 255),
    ("Event", ("routing_key",), 200), ("Event", ("dedup_key",), 255),
    ("Event", ("payload", "summary"), 1024), ("Event", ("payload", "source"), 255),
    ("Event", ("payload", "class"), 255),
    ("AlertmanagerWebhook", ("alerts", 0, "fingerprint"), 128),
    # Kept whole up to this, cut beyond: a longer link is accepted, so "over limit" is too.
    ("AlertmanagerWebhook", ("alerts", 0, "generatorURL"), 65536),
    ("InventoryPush", ("idempotency_key",), 200),
    ("InventoryPush", ("document", "host", "hostname"), 255),
    ("InventoryPush", ("document", "observations", 0, "source"), 100),
]


@pytest.mark.parametrize(("name", "path", "limit"), _TEXT_FIELDS)
@pytest.mark.parametrize("value", ["at limit", "over limit", "blank", "empty", "nul", "null",
                                   "number", "unicode spaces"])
def test_body_text_fields_documented_as_read(name, path, limit, value):
    """Each text field of a request body: the document allows a value exactly when the
    payload parser accepts it (length, blank, NUL, null, type), as schemathesis checks."""
    import copy

    import jsonschema_rs

    text = {"at limit": "x" * limit, "over limit": "x" * (limit + 1), "blank": "  \t",
            "empty": "", "nul": "a\u0000b", "null": None, "number": 7,
            "unicode spaces": "\u00a0\u2003\u3000"}[value]
    body = copy.deepcopy(_GOOD[name])
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = text
    doc = document()
    schema = {**doc["components"]["schemas"][name],
              "$defs": doc["components"]["schemas"]}
    schema = json.loads(json.dumps(schema).replace("#/components/schemas/", "#/$defs/"))
    documented = jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(body)
    try:
        _parsers()[name](body)
        read = True
    except ValueError:  # BadPayload
        read = False
    assert documented == read, (name, path, value, documented, read)
