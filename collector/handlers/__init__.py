"""The route table: every endpoint, its handler and the permission it needs, in one place.

The OpenAPI document (collector/openapi.py) is checked against this table by the tests.
"""

from __future__ import annotations

from collector.app import Route
from collector.auth import Permission
from collector.handlers import ingest, oncall, registry, system, tickets

ROUTES: list[Route] = [
    Route("GET", "/healthz", system.healthz, None, "healthz"),
    Route("GET", "/metrics", system.metrics, Permission.READ, "metrics"),
    Route("GET", "/api/v1/openapi.json", system.openapi, Permission.READ, "openapi"),
    Route("POST", "/api/v1/alertmanager", ingest.alertmanager, Permission.INGEST,
          "alertmanager"),
    Route("POST", "/api/v1/events", ingest.events, Permission.INGEST, "events"),
    Route("POST", "/api/v1/inventory", ingest.inventory, Permission.INVENTORY, "inventory"),
    Route("GET", "/api/v1/tickets", tickets.list_tickets, Permission.READ, "tickets"),
    Route("POST", "/api/v1/tickets", tickets.create_ticket, Permission.REPORT, "create_ticket"),
    Route("GET", r"/api/v1/tickets/{id:\d{1,18}}", tickets.show_ticket, Permission.READ,
          "ticket"),
    Route("POST", r"/api/v1/tickets/{id:\d{1,18}}/ack", tickets.acknowledge, Permission.RESPOND,
          "ack"),
    Route("POST", r"/api/v1/tickets/{id:\d{1,18}}/resolve", tickets.resolve, Permission.RESPOND,
          "resolve"),
    Route("POST", r"/api/v1/tickets/{id:\d{1,18}}/close", tickets.close, Permission.RESPOND,
          "close"),
    Route("POST", r"/api/v1/tickets/{id:\d{1,18}}/note", tickets.note, Permission.RESPOND,
          "note"),
    Route("POST", r"/api/v1/tickets/{id:\d{1,18}}/priority", tickets.override_priority,
          Permission.RESPOND, "priority"),
    Route("GET", r"/api/v1/tickets/{id:\d{1,18}}/escalation", oncall.escalation,
          Permission.READ, "escalation"),
    Route("GET", "/api/v1/oncall", oncall.who, Permission.READ, "oncall"),
    Route("GET", "/api/v1/notifications", oncall.notifications, Permission.READ,
          "notifications"),
    # The signed link is the credential (collector/handlers/oncall.py).
    Route("GET", r"/api/v1/actions/{token:[A-Za-z0-9_.-]{1,512}}", oncall.action_page, None,
          "action_page"),
    Route("POST", r"/api/v1/actions/{token:[A-Za-z0-9_.-]{1,512}}", oncall.action, None,
          "action"),
    Route("GET", "/api/v1/registry/eos", registry.eos, Permission.READ, "registry_eos"),
    Route("GET", "/api/v1/registry/contracts", registry.contracts, Permission.READ,
          "registry_contracts"),
    Route("GET", "/api/v1/registry/hardware", registry.hardware, Permission.READ,
          "registry_hardware"),
]
