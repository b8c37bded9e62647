"""The route tables: every endpoint, its handler and the permission it needs, in one place.

ROUTES is the API (and the pages a notification's signed links open): the OpenAPI document
(collector/openapi.py) is checked against it by the tests. CONSOLE_ROUTES is the operator
console (docs/console.md), served when `[ui] enabled`: HTML for people signed in with a session
cookie, not an API, so it is not in the OpenAPI document; each route's permission is checked
against the session's token (collector/ui/session.py). None: no session needed.
"""

from __future__ import annotations

from collector.app import Route
from collector.auth import Permission
from collector.handlers import (
    actions,
    changes,
    hosts,
    ingest,
    maintenance,
    oncall,
    patching,
    prometheus,
    registry,
    runbooks,
    system,
    tickets,
    vendor_cases,
)
from collector.ui import (
    console,
    eos_page,
    host_pages,
    oncall_page,
    render,
    report_page,
    session,
    vendor_case_pages,
)
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
    # Each parameter admits any one segment; the handler's declaration (collector/query.py
    # Path) refuses what breaks its rule with a reason, e.g. "٣" as an id (int() reads 3).
    Route("GET", r"/api/v1/tickets/{id:[^/]+}", tickets.show_ticket, Permission.READ,
          "ticket"),
    Route("POST", r"/api/v1/tickets/{id:[^/]+}/ack", tickets.acknowledge, Permission.RESPOND,
          "ack"),
    Route("POST", r"/api/v1/tickets/{id:[^/]+}/resolve", tickets.resolve, Permission.RESPOND,
          "resolve"),
    Route("POST", r"/api/v1/tickets/{id:[^/]+}/close", tickets.close, Permission.RESPOND,
          "close"),
    Route("POST", r"/api/v1/tickets/{id:[^/]+}/note", tickets.note, Permission.RESPOND,
          "note"),
    Route("POST", r"/api/v1/tickets/{id:[^/]+}/priority", tickets.override_priority,
          Permission.RESPOND, "priority"),
    Route("POST", r"/api/v1/tickets/{id:[^/]+}/assign", tickets.assign_ticket,
          Permission.RESPOND, "assign"),
    Route("GET", r"/api/v1/tickets/{id:[^/]+}/escalation", oncall.escalation,
          Permission.READ, "escalation"),
    Route("GET", "/api/v1/changes", changes.list_changes, Permission.READ, "changes"),
    Route("POST", "/api/v1/changes", changes.create_change, Permission.CHANGE,
          "create_change"),
    # Before /api/v1/changes/{id}: these names are not ids.
    Route("GET", "/api/v1/changes/calendar", changes.calendar, Permission.READ,
          "change_calendar"),
    Route("GET", "/api/v1/changes/calendar.ics", changes.calendar_ical, Permission.READ,
          "change_calendar_ical"),
    Route("GET", "/api/v1/changes/incidents", changes.incidents, Permission.READ,
          "change_incidents"),
    Route("GET", r"/api/v1/changes/{id:[^/]+}", changes.show_change, Permission.READ,
          "change"),
    *(Route("POST", rf"/api/v1/changes/{{id:[^/]+}}/{action}", handler, Permission.CHANGE,
            f"change_{action}")
      for action, handler in (("submit", changes.submit), ("approve", changes.approve),
                              ("reject", changes.reject), ("start", changes.start),
                              ("complete", changes.complete), ("review", changes.review),
                              ("note", changes.note), ("risk", changes.override_risk))),
    Route("GET", "/api/v1/oncall", oncall.who, Permission.READ, "oncall"),
    Route("GET", "/api/v1/notifications", oncall.notifications, Permission.READ,
          "notifications"),
    Route("GET", "/api/v1/vendor-cases", vendor_cases.list_cases, Permission.READ,
          "vendor_cases"),
    Route("POST", "/api/v1/vendor-cases", vendor_cases.open_case, Permission.RESPOND,
          "open_vendor_case"),
    Route("GET", r"/api/v1/vendor-cases/{id:[^/]+}", vendor_cases.show_case, Permission.READ,
          "vendor_case"),
    Route("POST", r"/api/v1/vendor-cases/{id:[^/]+}/update", vendor_cases.update_case,
          Permission.RESPOND, "update_vendor_case"),
    Route("POST", r"/api/v1/vendor-cases/{id:[^/]+}/note", vendor_cases.note_case,
          Permission.RESPOND, "note_vendor_case"),
    Route("POST", r"/api/v1/vendor-cases/{id:[^/]+}/close", vendor_cases.close_case,
          Permission.RESPOND, "close_vendor_case"),
    Route("GET", "/api/v1/maintenance", maintenance.list_windows, Permission.READ,
          "maintenance"),
    Route("POST", "/api/v1/maintenance", maintenance.add_window, Permission.RESPOND,
          "add_maintenance"),
    Route("GET", r"/api/v1/maintenance/{id:[^/]+}", maintenance.show_window, Permission.READ,
          "maintenance_window"),
    Route("POST", r"/api/v1/maintenance/{id:[^/]+}/end", maintenance.end_window,
          Permission.RESPOND, "end_maintenance"),
    # The signed link is the credential (collector/handlers/actions.py, collector/ui/).
    Route("GET", r"/api/v1/actions/{token:[^/]+}", actions.action_page_get, None,
          "action_page"),
    Route("POST", r"/api/v1/actions/{token:[^/]+}", actions.action_post, None, "action"),
    Route("GET", r"/ui/tickets/{id:[^/]+}", ui.show, None, "ticket_page"),
    # Public: Regie's own documentation, opened from a notification (handlers/runbooks.py).
    Route("GET", "/runbooks/", runbooks.index, None, "runbooks"),
    Route("GET", "/ui/runbook.css", runbooks.stylesheet, None, "runbook_css"),
    Route("GET", r"/runbooks/{rule:[^/]+}", runbooks.page, None, "runbook"),
    Route("GET", "/api/v1/hosts", hosts.list_hosts, Permission.READ, "hosts"),
    Route("GET", r"/api/v1/hosts/{name:[^/]+}", hosts.show_host, Permission.READ, "host"),
    Route("GET", "/api/v1/prometheus/targets", prometheus.targets, Permission.READ,
          "prometheus_targets"),
    Route("GET", "/api/v1/registry/eos", registry.eos, Permission.READ, "registry_eos"),
    Route("GET", "/api/v1/registry/contracts", registry.contracts, Permission.READ,
          "registry_contracts"),
    Route("GET", "/api/v1/registry/hardware", registry.hardware, Permission.READ,
          "registry_hardware"),
    Route("GET", "/api/v1/patch/status", patching.patch_status, Permission.READ,
          "patch_status"),
    Route("GET", "/api/v1/patch/lag", patching.patch_lag, Permission.READ, "patch_lag"),
]

_TICKET = r"/ui/ticket/{id:[^/]+}"

CONSOLE_ROUTES: list[Route] = [
    Route("GET", "/ui/", session.home, None, "console_home"),
    Route("GET", "/ui/login", session.login_page, None, "console_login_page"),
    Route("POST", "/ui/login", session.login, None, "console_login"),
    Route("POST", "/ui/logout", session.logout, Permission.READ, "console_logout"),
    Route("GET", r"/ui/static/{name:[^/]+}", render.static, None, "console_static"),
    Route("GET", "/ui/queue", console.queue, Permission.READ, "console_queue"),
    Route("GET", "/ui/queue/live", console.queue_rows, Permission.READ, "console_queue_live"),
    Route("GET", _TICKET, console.ticket, Permission.READ, "console_ticket"),
    Route("POST", _TICKET + "/ack", console.acknowledge, Permission.RESPOND, "console_ack"),
    Route("POST", _TICKET + "/resolve", console.resolve, Permission.RESPOND,
          "console_resolve"),
    Route("POST", _TICKET + "/close", console.close, Permission.RESPOND, "console_close"),
    Route("POST", _TICKET + "/note", console.note, Permission.RESPOND, "console_note"),
    Route("POST", _TICKET + "/priority", console.override_priority, Permission.RESPOND,
          "console_priority"),
    Route("POST", _TICKET + "/assign", console.assign_ticket, Permission.RESPOND,
          "console_assign"),
    Route("GET", "/ui/oncall", oncall_page.oncall, Permission.READ, "console_oncall"),
    Route("GET", "/ui/eos", eos_page.eos, Permission.READ, "console_eos"),
    Route("GET", "/ui/hosts", host_pages.hosts, Permission.READ, "console_hosts"),
    Route("GET", r"/ui/hosts/{name:[^/]+}", host_pages.host, Permission.READ, "console_host"),
    Route("GET", "/ui/vendor-cases", vendor_case_pages.cases, Permission.READ,
          "console_vendor_cases"),
    Route("GET", r"/ui/vendor-cases/{id:[^/]+}", vendor_case_pages.case, Permission.READ,
          "console_vendor_case"),
    Route("GET", "/ui/report", report_page.report_form, Permission.REPORT,
          "console_report_form"),
    Route("POST", "/ui/report", report_page.report, Permission.REPORT, "console_report"),
]
