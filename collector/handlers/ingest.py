"""Ingestion: Alertmanager webhook, PagerDuty-style Events API, agent inventory."""

from __future__ import annotations

import dataclasses
from collections import Counter

from aiohttp import web

from collector.app import (
    AUTH,
    HOSTS,
    INTAKE,
    METRICS,
    PRINCIPAL,
    REGISTRY,
    SETTINGS,
    STORES,
    read_json,
)
from collector.auth import Permission
from collector.payloads.alertmanager import parse_webhook
from collector.payloads.events import parse_event
from collector.payloads.fields import BadPayload
from collector.payloads.inventory import parse_inventory
from collector.store.patches import record_push


async def alertmanager(request: web.Request) -> web.Response:
    """Alertmanager webhook v4. Answers only after the batch is committed."""
    intake = request.app[INTAKE]
    hosts = request.app.get(HOSTS)   # one host identity: an agent's address -> its host name
    known = (await hosts.refresh()).known if hosts is not None else None
    signals = parse_webhook(await read_json(request), now=intake.now(), known_host=known)
    outcomes = await intake.signals(signals)
    results = Counter(o.result for o in outcomes)
    return web.json_response({"status": "ok", "alerts": len(signals), **results})


def _invalid_event(status: int, message: str, errors: list[str]) -> web.Response:
    # PagerDuty's shape, plus the `error` every other refusal of this API carries: the
    # field's reason for a bad body, the message for a bad token.
    return web.json_response({"status": "invalid event", "message": message, "errors": errors,
                              "error": errors[0] if status == 400 else message}, status=status)


# PagerDuty's limit for one event (Events API v2: 512 KB). A request without a bearer token is
# known only by its body's routing_key, so anyone who reaches the port can make the collector
# parse its body, in the event loop: up to [server] max_body_bytes (8 MiB) held it 1-2 s per
# request, and every sender's alerts waited. Such a body is bounded to this before it is read.
ANONYMOUS_EVENT_BYTES = 512 * 1024


def _too_large(limit: int) -> web.Response:
    return _invalid_event(413, "Event object is too large",
                          [f"body larger than {limit} bytes (an event without a bearer token)"])


async def events(request: web.Request) -> web.Response:
    """PagerDuty Events API v2: 202 {status, message, dedup_key} as PagerDuty answers."""
    intake = request.app[INTAKE]
    if PRINCIPAL not in request:
        limit = min(ANONYMOUS_EVENT_BYTES, request.app[SETTINGS].server.max_body_bytes)
        if (request.content_length or 0) > limit:
            return _too_large(limit)
        request = request.clone(client_max_size=limit)
    try:
        event = parse_event(await read_json(request), now=intake.now())
    except BadPayload as exc:
        return _invalid_event(400, "Event object is invalid", [str(exc)])
    except web.HTTPRequestEntityTooLarge:   # no Content-Length, or gzip that grew
        return _too_large(request.client_max_size)
    who = request.get(PRINCIPAL) or await request.app[AUTH].principal(event.routing_key)
    if who is None:
        return _invalid_event(401, "routing_key is not a valid token", ["routing_key"])
    if not who.may(Permission.INGEST):
        return _invalid_event(403, f"role {who.role.value!r} may not ingest", ["routing_key"])
    signal = event.signal
    hosts = request.app.get(HOSTS)
    if hosts is not None and signal.host and (known := (await hosts.refresh()).known(signal.host)):
        signal = dataclasses.replace(signal, host=known)   # as for Alertmanager's alerts
    try:
        await intake.signals([signal])
    except BadPayload as exc:  # a value the database refused (collector/intake.py)
        return _invalid_event(400, "Event object is invalid", [str(exc)])
    return web.json_response({"status": "success", "message": "Event processed",
                              "dedup_key": event.dedup_key}, status=202)


async def inventory(request: web.Request) -> web.Response:
    """An agent's inventory; idempotent on its key (a replay answers 200 duplicate)."""
    push = parse_inventory(await read_json(request),
                           header_key=request.headers.get("Idempotency-Key"))
    intake = request.app[INTAKE]
    registry = request.app[REGISTRY]
    now = intake.now()
    # Matched against end-of-support data here; written with the push, in one transaction.
    rows, asset = registry.match(push.host, push.document, now)

    async def also(connection) -> None:
        await registry.store.replace_host_software(connection, push.host, rows)
        # The host's update history (docs/patching.md): pending since, installed when.
        await record_push(connection, push.host, push.document, now)
        if asset is not None:
            await registry.store.upsert_assets([asset], source="inventory", now=now,
                                               connection=connection)

    new = await request.app[STORES].inventory.store(push.host, push.idempotency_key,
                                                    push.document, now, also=also)
    if new:
        registry.pushed(push.host, rows)
        if (hosts := request.app.get(HOSTS)) is not None:
            fqdn = push.document["host"].get("fqdn")
            hosts.learn(push.host, fqdn if isinstance(fqdn, str) else None)
        request.app[METRICS].eos.invalidate()
        request.app[METRICS].updates.invalidate()
        return web.json_response({"status": "stored", "host": push.host}, status=202)
    return web.json_response({"status": "duplicate", "host": push.host}, status=200)
