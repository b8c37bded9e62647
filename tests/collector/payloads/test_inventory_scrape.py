"""`document.scrape` in an inventory push: where Prometheus scrapes the agent. Pure parsing:
what is accepted, what is refused with the field named, and that an agent's settings and the
collector's parser agree (one rule, regie/scrape_target.py)."""

from __future__ import annotations

import re

import pytest

from collector.openapi_schemas import SCHEMAS
from collector.payloads.fields import BadPayload
from collector.payloads.inventory import SCHEMA, ScrapeEndpoint, parse_inventory
from regie.scrape_target import ADDRESS_PATTERN, address_problem, advertise_problem


def push(scrape: object = None, *, omit: bool = False) -> dict:
    document = {"schema": SCHEMA, "host": {"hostname": "web-01"}}
    if not omit:
        document["scrape"] = scrape
    return {"idempotency_key": "k-1", "document": document}


@pytest.mark.parametrize(("scrape", "expected"), [
    ({"address": "web-01.example.net:9847", "scheme": "https"},
     ScrapeEndpoint("web-01.example.net:9847", "https", {})),
    ({"address": "127.0.0.1:9847", "scheme": "http", "labels": {"site": "par1", "role": "web"}},
     ScrapeEndpoint("127.0.0.1:9847", "http", {"site": "par1", "role": "web"})),
    ({"address": "[2001:db8::7]:9847", "scheme": "http"},
     ScrapeEndpoint("[2001:db8::7]:9847", "http", {})),
    ({"address": "[::1]:1", "scheme": "http"}, ScrapeEndpoint("[::1]:1", "http", {})),
    ({"address": "vm:65535", "scheme": "http", "labels": {"_x": "é ü"}},
     ScrapeEndpoint("vm:65535", "http", {"_x": "é ü"})),
    # A field it does not know (a newer agent's) is ignored, not refused.
    ({"address": "vm:9847", "scheme": "http", "path": "/metrics"},
     ScrapeEndpoint("vm:9847", "http", {})),
])
def test_accepted(scrape, expected):
    assert parse_inventory(push(scrape), header_key=None).scrape == expected


def test_an_older_agent_says_nothing_and_is_accepted():
    parsed = parse_inventory(push(omit=True), header_key=None)
    assert parsed.scrape is None and parsed.host == "web-01"


@pytest.mark.parametrize(("scrape", "field", "reason"), [
    (None, "document.scrape", "must be an object"),
    ("vm:9847", "document.scrape", "must be an object"),
    ({"scheme": "http"}, "document.scrape.address", "must be a string"),
    ({"address": "vm", "scheme": "http"}, "document.scrape.address", "HOST:PORT"),
    ({"address": "vm:0", "scheme": "http"}, "document.scrape.address", "HOST:PORT"),
    ({"address": "vm:65536", "scheme": "http"}, "document.scrape.address", "HOST:PORT"),
    ({"address": "http://vm:9847", "scheme": "http"}, "document.scrape.address", "HOST:PORT"),
    ({"address": "bad_name:9847", "scheme": "http"}, "document.scrape.address", "HOST:PORT"),
    ({"address": "2001:db8::7:9847", "scheme": "http"}, "document.scrape.address", "HOST:PORT"),
    ({"address": "[fe80::1%eth0]:9847", "scheme": "http"}, "document.scrape.address",
     "HOST:PORT"),
    ({"address": "vm:9847\n", "scheme": "http"}, "document.scrape.address", "HOST:PORT"),
    ({"address": "a" * 64 + ":9847", "scheme": "http"}, "document.scrape.address",
     "HOST:PORT"),
    ({"address": "vm:9847"}, "document.scrape.scheme", "must be one of 'http', 'https'"),
    ({"address": "vm:9847", "scheme": "ftp"}, "document.scrape.scheme", "must be one of"),
    ({"address": "vm:9847", "scheme": "http", "labels": []}, "document.scrape.labels",
     "must be an object"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"host": "x"}},
     "document.scrape.labels", "'host' is set by Regie or Prometheus"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"criticality": "low"}},
     "document.scrape.labels", "'criticality' is set by Regie"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"__scheme__": "https"}},
     "document.scrape.labels", "set by Regie or Prometheus"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"job": "x"}},
     "document.scrape.labels", "set by Regie or Prometheus"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"site-name": "x"}},
     "document.scrape.labels", "not a label name"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"1site": "x"}},
     "document.scrape.labels", "not a label name"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"site": 1}},
     "document.scrape.labels", "site: must be a string"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"site": ""}},
     "document.scrape.labels", "site: must be 1 to 256 characters"),
    ({"address": "vm:9847", "scheme": "http", "labels": {"site": "x" * 257}},
     "document.scrape.labels", "site: must be 1 to 256 characters"),
    ({"address": "vm:9847", "scheme": "http", "labels": {f"l{i}": "x" for i in range(33)}},
     "document.scrape.labels", "more than 32 labels"),
])
def test_refused_naming_the_field(scrape, field, reason):
    with pytest.raises(BadPayload) as refused:
        parse_inventory(push(scrape), header_key=None)
    message = str(refused.value)
    assert message.startswith(f"{field}:"), message
    assert reason in message, message


def test_the_openapi_document_states_the_same_address_rule():
    """The schema's pattern is the parser's (schemathesis checks the service against it)."""
    scrape = SCHEMAS["InventoryPush"]["properties"]["document"]["properties"]["scrape"]
    assert scrape["properties"]["address"]["pattern"] == ADDRESS_PATTERN
    for text in ("vm:9847", "[::1]:80", "10.0.0.1:443", "vm:0", "[::1%lo]:80", "x_y:1"):
        assert (re.fullmatch(ADDRESS_PATTERN[1:-1], text) is not None) == (
            address_problem(text) is None), text


@pytest.mark.parametrize("value", ["0.0.0.0:9847", "[::]:9847"])
def test_a_wildcard_is_no_address_to_announce(value):
    assert address_problem(value) is None          # a valid HOST:PORT as such
    assert "wildcard" in advertise_problem(value)   # but reaches nobody
