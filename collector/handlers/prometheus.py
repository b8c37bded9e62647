"""Prometheus's HTTP service discovery against the collector: `GET /api/v1/prometheus/targets`
(read role; Prometheus sends a `viewer` token with `authorization: credentials_file`).

The fleet's agents as target groups (collector/prometheus_sd.py), from the same store read
`regie deploy prometheus-targets` uses for file-based discovery.
"""

from __future__ import annotations

import logging

from aiohttp import web

from collector.app import SETTINGS, STORES
from collector.prometheus_sd import fleet, http_sd
from collector.query import Query
from collector.store.hosts import scrape_endpoints

log = logging.getLogger("regie.collector.prometheus_sd")

# No parameters: Prometheus sends none, and anything else is refused with its name.
TARGETS_QUERY = Query()


async def targets(request: web.Request) -> web.Response:
    TARGETS_QUERY.parse(request.query)
    found = fleet(await scrape_endpoints(request.app[STORES].engine),
                  request.app[SETTINGS].criticality)
    for address, hosts in found.conflicts.items():
        # Prometheus asks every refresh_interval: at debug, the CLI says it at warning.
        log.debug("%s is announced by %s: left out", address, ", ".join(hosts))
    return web.json_response(http_sd(found.targets))
