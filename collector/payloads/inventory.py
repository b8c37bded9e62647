"""An agent's inventory push (POST /api/v1/inventory), checked before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collector.payloads.fields import BadPayload, mapping, string

SCHEMA = "regie.inventory/v1"


@dataclass(frozen=True, slots=True)
class InventoryPush:
    idempotency_key: str
    host: str
    document: dict[str, Any]


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
    return InventoryPush(idempotency_key=key, host=hostname, document=document)
