"""Governance: end of support, hardware end of life, contracts due, pending security updates,
where the P2 tickets come from and patch lag, for the quarterly review."""

from __future__ import annotations

from typing import Any

from dashboards import queries as q
from dashboards.panels import (
    BLUE,
    NEUTRAL,
    Column,
    Layout,
    Query,
    any_is_bad,
    dashboard,
    falling,
    rising,
    stat,
    steps,
    table,
    variable,
)

UID = "regie-governance"
TITLE = "Regie / Governance"

DATE = "dateTimeAsIsoNoDateIfToday"
DAY = 86400
def build(datasource_uid: str) -> dict[str, Any]:
    layout = Layout(datasource_uid)
    layout.row(
        "End of support",
        stat("Hosts past end of support", "Hosts running software whose support (security, "
             "then extended) has ended. Red: these hosts get no security fixes; upgrade or "
             "replace them (the table below names the product).",
             Query(q.eos_assets("software", "past")), unit="none",
             thresholds=any_is_bad(), width=6),
        stat("Hosts near end of support", "Hosts with software whose support ends within "
             "the registry's near horizon. Amber: plan the upgrade this quarter.",
             Query(q.eos_assets("software", "near")), unit="none",
             thresholds=rising(1, 1e9), width=6),
        stat("Hardware past end of life", "Assets whose model's end of support (EOSL) has "
             "passed. Red: no vendor parts or fixes; replace or buy third-party support.",
             Query(q.eos_assets("hardware", "past")), unit="none",
             thresholds=any_is_bad(), width=6),
        stat("Hardware near end of life", "Assets whose model reaches end of support within "
             "the near horizon. Amber: budget the replacement.",
             Query(q.eos_assets("hardware", "near")), unit="none",
             thresholds=rising(1, 1e9), width=6),
        table("Reaching end of support within 8 months", "Software on each host whose "
              "support ends within 8 months, soonest first: the host, the product, the "
              "release cycle, the day that applies (security, else extended support; a "
              "distribution package's by its distribution) and the days left. Red under 90 "
              "days, amber under 180: schedule the upgrade now.",
              [Query(q.EOS_SOON, column="Days left"),
               Query(q.EOS_SOON_DATE, column="Ends")],
              columns={"Days left": Column(unit="d", thresholds=falling(90, 180),
                                           decimals=0),
                       "Ends": Column(unit=DATE)},
              labels=("host", "product", "cycle"), sort_by="Days left", descending=False,
              width=14, height=9),
        table("Past end of support", "Software whose support has ended, longest ago first. "
              "Every row is a host without security fixes for that product: upgrade, "
              "replace, or record the accepted risk.",
              [Query(q.EOS_PAST, column="Days past"),
               Query(q.EOS_PAST_DATE, column="Ended")],
              columns={"Days past": Column(unit="d", thresholds=steps(("red", None)),
                                           decimals=0),
                       "Ended": Column(unit=DATE)},
              labels=("host", "product", "cycle"), sort_by="Days past", width=10, height=9),
    )
    layout.row(
        "Contracts and patching",
        table("Contracts due for renewal within 90 days", "Warranty and support contracts "
              "ending within 90 days (or ended), soonest first. Red under 30 days: renew "
              "now or the asset runs without vendor support.",
              [Query(q.CONTRACTS_DUE, column="Days left"),
               Query(q.CONTRACTS_DUE_DATE, column="Ends")],
              columns={"Days left": Column(unit="d", thresholds=falling(30, 60), decimals=0),
                       "Ends": Column(unit=DATE)},
              labels=("asset", "vendor", "contract"), sort_by="Days left", descending=False,
              width=12),
        table("Pending security updates per host", "Security updates waiting on each host "
              "(from its latest inventory push), most first, with the other updates. Red "
              "from 10: patch that host; amber: patch in the next window.",
              [Query(q.SECURITY_UPDATES, column="Security"),
               Query(q.OTHER_UPDATES, column="Other")],
              columns={"Security": Column(unit="none", thresholds=rising(1, 10)),
                       "Other": Column(unit="none")},
              labels=("host",), sort_by="Security", hide=("kind",), width=12),
    )
    layout.row(
        "Where the P2 tickets come from",
        table("P2 tickets per component, this quarter", "P2 tickets opened per component "
              "over the last 90 days, the ten largest, and each one's share of all P2 "
              "tickets. A component with a large share is where a fix (or a better rule) "
              "saves the most pages.",
              [Query(q.P2_BY_COMPONENT, column="P2 tickets"),
               Query(q.P2_SHARE, column="Share")],
              columns={"P2 tickets": Column(unit="none", decimals=0),
                       "Share": Column(unit="percentunit", decimals=0,
                                       thresholds=steps((BLUE, None), ("orange", 0.3),
                                                        ("red", 0.5)))},
              labels=("component",), sort_by="P2 tickets", width=24),
    )
    layout.row(
        "Patch lag",
        stat("Last patch change: mean lag", "How long after its planned start the last "
             "completed patch change reached its hosts, on average: installed (as each host's "
             "inventory showed) minus planned, per host (docs/patching.md). Amber from 3 days, "
             "red from 7: the patch window is not where the patching happens.",
             Query(q.LAST_CHANGE_MEAN_LAG), unit="s", thresholds=rising(3 * DAY, 7 * DAY),
             width=6),
        stat("Last patch change: slowest host", "When the last host of the last completed "
             "patch change was patched, after the planned start. Red from 14 days: a host "
             "that misses its window waits for the next one.",
             Query(q.LAST_CHANGE_MAX_LAG), unit="s", thresholds=rising(7 * DAY, 14 * DAY),
             width=6),
        stat("Hosts waiting for security updates", "Hosts with at least one pending security "
             "update, from their latest inventory push.",
             Query(q.HOSTS_WAITING_FOR_SECURITY), unit="none", thresholds=rising(1, 1e9),
             width=12),
        table("Oldest pending security update per host", "How long each host's oldest "
              "pending security update has been waiting (first seen pending in an inventory "
              "push), longest first. Amber from 7 days, red from 21: the exposure the "
              "governance review asks about; `regie patch status --host HOST` lists them.",
              [Query(q.SECURITY_WAITING_DAYS, column="Waiting")],
              columns={"Waiting": Column(unit="d", thresholds=rising(7, 21), decimals=1)},
              labels=("host",), sort_by="Waiting", width=24, height=8),
    )
    layout.row(
        "Vendor cases",
        stat("Vendor cases waiting", "Support cases open with vendors and still waiting on "
             "someone (open, waiting on the vendor, waiting on us): docs/vendor-cases.md.",
             Query(q.VENDOR_CASES_OPEN), unit="none", thresholds=NEUTRAL, width=6),
        stat("Follow-ups overdue", "Vendor cases nobody updated within their follow-up "
             "interval: their owners are being reminded. Red: a case lies idle; chase the "
             "vendor or close it.", Query(q.VENDOR_CASES_OVERDUE), unit="none",
             thresholds=any_is_bad(), width=6),
        table("Vendor cases per vendor", "Cases waiting on someone per vendor, how many are "
              "past their follow-up date, and how long the vendor's oldest has been open. "
              "Amber from 30 days, red from 90: escalate with the vendor (or its account "
              "manager); `regie vendor-case list --vendor VENDOR` lists them.",
              [Query(q.VENDOR_CASES_BY_VENDOR, column="Waiting"),
               Query(q.VENDOR_CASES_OVERDUE_BY_VENDOR, column="Overdue"),
               Query(q.VENDOR_CASE_OLDEST_DAYS, column="Oldest")],
              columns={"Waiting": Column(unit="none", decimals=0),
                       "Overdue": Column(unit="none", decimals=0, thresholds=any_is_bad()),
                       "Oldest": Column(unit="d", thresholds=rising(30, 90), decimals=0)},
              labels=("vendor",), sort_by="Waiting", width=12, height=6),
    )
    return dashboard(
        uid=UID, title=TITLE, layout=layout, time_from="now-90d", refresh="5m",
        description="End of support, hardware end of life, contracts, security updates and "
                    "the components behind P2 tickets: the quarterly review's numbers.",
        variables=[variable("job", "Collector job",
                            "label_values(regie_tickets_open, job)", layout.datasource)])
