"""Operations: the ticket queue, response times, escalation and notification health, on-call
load and the collector's intake, from the collector's own /metrics."""

from __future__ import annotations

from typing import Any

from dashboards import queries as q
from dashboards.panels import (
    AMBER,
    BLUE,
    GREEN,
    PRIORITY_COLOURS,
    RED,
    Column,
    Layout,
    Query,
    any_is_bad,
    dashboard,
    rising,
    stat,
    steps,
    table,
    timeseries,
    variable,
)

UID = "regie-operations"
TITLE = "Regie / Operations"


def build(datasource_uid: str) -> dict[str, Any]:
    layout = Layout(datasource_uid)
    layout.row(
        "Now",
        stat("Open P1", "Open or acknowledged P1 tickets. Red: someone must be on it now; "
             "the escalation reaches the escalation manager after 15 minutes.",
             Query(q.open_tickets("P1")), unit="none", thresholds=any_is_bad()),
        stat("Open P2", "Open or acknowledged P2 tickets. Amber from 1, red from 5: the "
             "on-call engineer cannot keep up; call for help.",
             Query(q.open_tickets("P2")), unit="none", thresholds=rising(1, 5)),
        stat("Open tickets", "All open or acknowledged tickets (attached alerts excluded).",
             Query(q.open_tickets()), unit="none", thresholds=steps((BLUE, None))),
        stat("Dead notifications", "Notifications given up after their retries (dead "
             "letters). Red: someone was not told; `GET /api/v1/notifications?status=dead` "
             "says why (a channel refusing, a wrong address).",
             Query(q.NOTIFICATIONS_DEAD), unit="none", thresholds=any_is_bad()),
        stat("Acknowledgements expired (24 h)", "Acknowledged tickets left unresolved past "
             "their policy's ack_expires and paged again. Amber/red: acknowledgements are "
             "used as snooze; ask who holds them.",
             Query(q.ACKS_EXPIRED_PER_DAY), unit="none", thresholds=rising(1, 5),
             decimals=0),
        stat("Rejected requests", "Requests the collector refused with a 4xx, per second. "
             "Red: a sender is misconfigured (a token, a payload); the collector's log names "
             "it.", Query(f"sum({q.REJECTED}) or vector(0)"), unit="reqps",
             thresholds=rising(0.01, 0.1), decimals=2),
    )
    layout.row(
        "Tickets",
        timeseries("Open tickets by priority", "Open or acknowledged tickets per priority. "
                   "A P1/P2 band that does not shrink: tickets are not being worked.",
                   [Query(q.OPEN_BY_PRIORITY, legend="{{priority}}")], unit="none",
                   min_value=0, stacked=True, colours=PRIORITY_COLOURS, width=8),
        timeseries("Open tickets by source", "Open tickets raised by monitoring and by "
                   "users. Many user tickets with little monitoring: monitoring misses what "
                   "users notice; add rules.",
                   [Query(q.OPEN_BY_SOURCE, legend="{{source}}")], unit="none",
                   min_value=0, stacked=True,
                   colours={"monitoring": BLUE, "user": AMBER}, width=8),
        timeseries("Created vs resolved per day", "Tickets opened and resolved per day. "
                   "Created above resolved day after day: the queue grows; find the noisy "
                   "source (Governance: tickets per component).",
                   [Query(q.CREATED_PER_DAY, legend="created", interval="1d"),
                    Query(q.RESOLVED_PER_DAY, legend="resolved", interval="1d")],
                   unit="none", min_value=0, bars=True,
                   colours={"created": AMBER, "resolved": GREEN}, width=8),
    )
    layout.row(
        "Response times",
        timeseries("Time to acknowledge (MTTA) per priority", "Median (p50) and 90th "
                   "percentile (p90) time from a ticket's creation to its acknowledgement, "
                   "over the last day. Amber at 5 min and red at 15 min: where the default "
                   "policies escalate P1 and P2 to the secondary (docs/oncall.md); above "
                   "them, the first page goes unanswered.",
                   [Query(q.response_time("acknowledge", "p50"), legend="{{priority}} p50"),
                    Query(q.response_time("acknowledge", "p90"), legend="{{priority}} p90")],
                   unit="s", min_value=0, thresholds=rising(300, 900)),
        timeseries("Time to resolve (MTTR) per priority", "Median and 90th percentile time "
                   "from creation to resolution, over the last day. A p90 far above the "
                   "median: a few tickets linger; review them.",
                   [Query(q.response_time("resolve", "p50"), legend="{{priority}} p50"),
                    Query(q.response_time("resolve", "p90"), legend="{{priority}} p90")],
                   unit="s", min_value=0, thresholds=rising(4 * 3600, 24 * 3600)),
    )
    layout.row(
        "Escalation and notifications",
        timeseries("Escalation steps fired per day", "Steps that notified someone, by step "
                   "number: 1 is the first page; 2 and later mean nobody acknowledged in "
                   "time. Growing later steps: the primary is not answering.",
                   [Query(q.ESCALATION_STEPS_PER_DAY, legend="step {{step}}", interval="1d")],
                   unit="none", min_value=0, bars=True, width=8),
        timeseries("Acknowledgements expired per day", "Acknowledgements that expired "
                   "without resolution (the ticket is paged again).",
                   [Query(q.ACKS_EXPIRED_PER_DAY, legend="expired", interval="1d")],
                   unit="none", min_value=0, bars=True, thresholds=rising(1, 5), width=8),
        timeseries("Notifications queued", "Notifications waiting for delivery (pending) and "
                   "given up (dead) per channel. Dead above zero: someone was not told.",
                   [Query(q.NOTIFICATIONS_QUEUED, legend="{{channel}} {{status}}")],
                   unit="none", min_value=0, colours={}, width=8),
        timeseries("Delivery outcomes per hour", "Delivery attempts per channel and outcome "
                   "(delivered, retried, rate_limited, dead) per hour. Retries or dead "
                   "letters on one channel: that channel (SMTP server, webhook) fails.",
                   [Query(q.NOTIFICATION_OUTCOMES, legend="{{channel}} {{outcome}}")],
                   unit="none", min_value=0, width=12),
        table("Pages per person (last 7 days)", "Pages (notices asking a person to act) "
              "delivered to each person over the last week: the on-call load. Amber from 10, "
              "red from 25 a week: that person is overloaded; spread the rota or fix the "
              "noisiest alerts.",
              [Query(q.PAGES_PER_PERSON_WEEK, column="Pages")],
              columns={"Pages": Column(unit="none", thresholds=rising(10, 25), decimals=0)},
              labels=("person",), sort_by="Pages", width=12),
    )
    layout.row(
        "Intake",
        timeseries("Signals received", "Monitoring signals per second by origin "
                   "(alertmanager, events, evaluator) and what they did (created, repeated, "
                   "attached, resolved, ...). A flat line at zero from an origin that "
                   "should send: that path is broken.",
                   [Query(q.SIGNALS, legend="{{origin}} {{result}}")], unit="reqps",
                   min_value=0),
        timeseries("Rejected requests", "Requests refused with a 4xx per endpoint and "
                   "status. Red: a sender sends what the collector cannot take (a bad token "
                   "401/403, a bad payload 400/413/422); the log names the sender.",
                   [Query(q.REJECTED, legend="{{endpoint}} {{status}}")], unit="reqps",
                   min_value=0, thresholds=steps((GREEN, None), (RED, 0.01))),
    )
    return dashboard(
        uid=UID, title=TITLE, layout=layout, time_from="now-7d",
        description="The Regie collector: ticket queue, response times, escalations, "
                    "notifications, on-call load and intake.",
        variables=[variable("job", "Collector job",
                            "label_values(regie_tickets_open, job)", layout.datasource)])
