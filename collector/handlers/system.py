"""/healthz, /metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from collector.app import (
    FAILURES,
    INTAKE,
    MAINTENANCE,
    METRICS,
    ONCALL,
    REGISTRY,
    SETTINGS,
    STORE_FAILURE_ANSWERS,
    STORES,
)
from collector.store.engine import probe
from collector.store.failures import StoreFailure, failure_of

HEALTH_PROBE_SECONDS = 5


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness: the database must answer and, on SQLite, take a write (a full
    disk leaves reads working)."""
    try:
        async with asyncio.timeout(HEALTH_PROBE_SECONDS):
            await probe(request.app[STORES].engine)
    except Exception as exc:  # any database failure means "not ready", never a 500
        failure = failure_of(exc) or StoreFailure.UNAVAILABLE
        request.app[FAILURES][failure].failed(exc)
        retry_after = STORE_FAILURE_ANSWERS[failure][2]
        return web.json_response({"status": "unavailable", "error": failure.value,
                                  "reason": type(exc).__name__}, status=503,
                                 headers={"Retry-After": str(retry_after)})
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[METRICS]
    if registry.open.stale():
        registry.open.update(await request.app[INTAKE].tickets.open_counts())
        oncall = request.app.get(ONCALL)
        if oncall is not None:
            registry.queue.counts = await oncall.notifier.store.counts()
    if (maintenance := request.app.get(MAINTENANCE)) is not None:
        await maintenance.gauges.refresh()
    if registry.eos.stale():
        from registry.lifecycle import horizon_end

        store = request.app[REGISTRY].store
        today = request.app[INTAKE].now().date()
        registry.eos.update(
            software=await store.software(), hardware=await store.hardware(),
            contracts=await store.contracts(), today=today,
            until=horizon_end(today, request.app[SETTINGS].registry.near_horizon))
    if registry.updates.stale():
        from collector.patching import last_completed
        from collector.store.patches import pending_by_host

        engine = request.app[STORES].engine
        registry.updates.update(hosts=await pending_by_host(engine),
                                last_change=await last_completed(engine,
                                                                 request.app[INTAKE].now()))
    if registry.vendor_cases.stale():
        from collector.store.vendor_cases import VendorCaseStore

        registry.vendor_cases.update(await VendorCaseStore(request.app[STORES].engine)
                                     .open_counts(request.app[INTAKE].now()))
    if registry.changes.stale():
        from collector.store.changes import outcome_counts, review_due_count

        engine = request.app[STORES].engine
        registry.changes.update(await outcome_counts(engine), await review_due_count(engine))
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(body=encoder(registry.registry),
                        headers={"Content-Type": content_type})


async def openapi(request: web.Request) -> web.Response:
    from collector.openapi import document

    return web.json_response(document())
