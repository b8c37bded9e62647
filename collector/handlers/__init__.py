"""The route table: every endpoint, its handler and the permission it needs, in one place.

The OpenAPI document (collector/openapi.py) is checked against this table by the tests.
"""

from __future__ import annotations

from collector.app import Route
from collector.auth import Permission
from collector.handlers import actions, hosts, ingest, oncall, registry, system, tickets
from collector.ui import handlers as ui

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
    # Ids are [0-9], not \d: \d matches every script's digits, and int() reads "٣" as 3.
    Route("GET", r"/api/v1/tickets/{id:[0-9]{1,18}}", tickets.show_ticket, Permission.READ,
          "ticket"),
    Route("POST", r"/api/v1/tickets/{id:[0-9]{1,18}}/ack", tickets.acknowledge, Permission.RESPOND,
          "ack"),
    Route("POST", r"/api/v1/tickets/{id:[0-9]{1,18}}/resolve", tickets.resolve, Permission.RESPOND,
          "resolve"),
    Route("POST", r"/api/v1/tickets/{id:[0-9]{1,18}}/close", tickets.close, Permission.RESPOND,
          "close"),
    Route("POST", r"/api/v1/tickets/{id:[0-9]{1,18}}/note", tickets.note, Permission.RESPOND,
          "note"),
    Route("POST", r"/api/v1/tickets/{id:[0-9]{1,18}}/priority", tickets.override_priority,
          Permission.RESPOND, "priority"),
    Route("POST", r"/api/v1/tickets/{id:[0-9]{1,18}}/assign", tickets.assign_ticket,
          Permission.RESPOND, "assign"),
    Route("GET", r"/api/v1/tickets/{id:[0-9]{1,18}}/escalation", oncall.escalation,
          Permission.READ, "escalation"),
    Route("GET", "/api/v1/oncall", oncall.who, Permission.READ, "oncall"),
    Route("GET", "/api/v1/notifications", oncall.notifications, Permission.READ,
          "notifications"),
    # The signed link is the credential (collector/handlers/actions.py, collector/ui/).
    Route("GET", r"/api/v1/actions/{token:[A-Za-z0-9_.-]{1,512}}", actions.action_page_get,
          None, "action_page"),
    Route("POST", r"/api/v1/actions/{token:[A-Za-z0-9_.-]{1,512}}", actions.action_post, None,
          "action"),
    Route("GET", r"/ui/tickets/{id:[0-9]{1,18}}", ui.show, None, "ticket_page"),
    Route("GET", "/api/v1/hosts", hosts.list_hosts, Permission.READ, "hosts"),
    # No NUL (PostgreSQL cannot compare it) and no longer than a host name is stored: 404.
    Route("GET", r"/api/v1/hosts/{name:[^/\x00]{1,255}}", hosts.show_host, Permission.READ,
          "host"),
    Route("GET", "/api/v1/registry/eos", registry.eos, Permission.READ, "registry_eos"),
    Route("GET", "/api/v1/registry/contracts", registry.contracts, Permission.READ,
          "registry_contracts"),
    Route("GET", "/api/v1/registry/hardware", registry.hardware, Permission.READ,
          "registry_hardware"),
]
