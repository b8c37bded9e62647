"""An agent's inventory push (POST /api/v1/inventory), checked before it is stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from collector.payloads.fields import BadPayload, mapping, string
from regie.scrape_target import MAX_LABELS as MAX_SCRAPE_LABELS
from regie.scrape_target import SCHEMES, address_problem, label_problem

SCHEMA = "regie.inventory/v1"


@dataclass(frozen=True, slots=True)
class ScrapeEndpoint:
    """Where Prometheus scrapes the agent (`document.scrape`, regie/scrape_target.py)."""

    address: str
    scheme: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InventoryPush:
    idempotency_key: str
    host: str
    document: dict[str, Any]
    scrape: ScrapeEndpoint | None = None    # None: an agent that does not say (older ones)


def parse_inventory(body: Any, *, header_key: str | None) -> InventoryPush:
    push = mapping(body, "body")
    key = string(push.get("idempotency_key"), "idempotency_key", max_length=200)
    if header_key is not None and header_key != key:
        raise BadPayload("Idempotency-Key header and idempotency_key differ")
    document = dict(mapping(push.get("document"), "document"))
    if document.get("schema") != SCHEMA:
        raise BadPayload(f"document.schema: must be {SCHEMA!r}")
    host = mapping(document.get("host"), "document.host")
    hostname = string(host.get("hostname"), "document.host.hostname", max_length=255)
    observations = document.get("observations", [])
    if not isinstance(observations, list):
        raise BadPayload("document.observations: must be an array")
    for i, item in enumerate(observations):
        obs = mapping(item, f"document.observations[{i}]")
        string(obs.get("source"), f"document.observations[{i}].source", max_length=100)
        mapping(obs.get("raw"), f"document.observations[{i}].raw")
    scrape = (parse_scrape(document["scrape"], "document.scrape")
              if "scrape" in document else None)
    return InventoryPush(idempotency_key=key, host=hostname, document=document, scrape=scrape)


def parse_scrape(value: Any, path: str) -> ScrapeEndpoint:
    """`document.scrape`: {"address": "HOST:PORT", "scheme": "http"|"https", "labels": {...}}.
    Fields it does not name are ignored (a newer agent may say more)."""
    scrape = mapping(value, path)
    problem = address_problem(scrape.get("address"))
    if problem:
        raise BadPayload(f"{path}.address: {problem}")
    scheme = scrape.get("scheme")
    if scheme not in SCHEMES:
        raise BadPayload(f"{path}.scheme: must be one of {', '.join(map(repr, SCHEMES))}")
    labels = mapping(scrape.get("labels", {}), f"{path}.labels")
    if len(labels) > MAX_SCRAPE_LABELS:
        raise BadPayload(f"{path}.labels: more than {MAX_SCRAPE_LABELS} labels")
    for name, label in labels.items():
        problem = label_problem(name, label)
        if problem:
            raise BadPayload(f"{path}.labels: {problem}")
    return ScrapeEndpoint(address=scrape["address"], scheme=scheme, labels=dict(labels))
