"""A certificate made by the test, with a short validity, expires into the warning and then the
critical tier, end to end: a real `regie agent run` watching the file, the embedded evaluator
with the bundled rules scraping it, the real intake and ticket store on SQLite.

Time is the only fake: the evaluator's injected clock moves towards the certificate's expiry
(the agent reports `not_after`; the rules compare it with the evaluator's `time()`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket

import aiohttp

from alerting.priority import DEFAULT_MATRIX
from collector.config import CriticalitySettings
from collector.evaluator import Evaluator, EvaluatorTarget
from collector.intake import Intake
from collector.metrics import CollectorMetrics
from collector.rules_file import load_rule_set
from collector.runbooks import linked
from collector.store.engine import create_engine, database_url
from collector.store.tickets import TicketFilter, TicketStore
from tests.agent.certs import make_ca, make_leaf
from tests.agent.conftest import agent_process
from tests.collector.conftest import migrated


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


# The collector links rules to its bundled runbooks at its public address (as service.py does).
PUBLIC_URL = "https://regie.example.org"


def run_rounds(tmp_path, expires: dt.datetime, days_left: tuple[float, ...]):
    """Evaluate once at each of `days_left` before `expires`: (rules fired per round, the
    certificate tickets), with a real agent watching a certificate expiring at `expires`."""
    ca = make_ca(tmp_path, "Regie Test CA")
    leaf = make_leaf(tmp_path, ca, "shop.example.net", not_after=expires)
    host = socket.gethostname()
    url = migrated(f"sqlite:///{tmp_path / 'regie.db'}")
    rule_set = load_rule_set(None)
    clock = Clock(expires - dt.timedelta(days=days_left[0]))

    async def scenario(agent_port: int):
        engine = create_engine(database_url(url))
        try:
            store = TicketStore(engine)
            store.inhibit_rules = rule_set.inhibit_rules
            intake = Intake(store, criticality=CriticalitySettings(), matrix=DEFAULT_MATRIX,
                            metrics=CollectorMetrics(), clock=clock)

            async def ingest(signals):
                await intake.signals(signals)

            async with aiohttp.ClientSession() as session:
                evaluator = Evaluator([EvaluatorTarget(f"127.0.0.1:{agent_port}", host)],
                                      linked(rule_set.rules, PUBLIC_URL),
                                      interval_seconds=60, ingest=ingest,
                                      session=session, clock=clock)
                seen = []
                for left in days_left:
                    clock.now = expires - dt.timedelta(days=left)
                    signals = await evaluator.evaluate_once()
                    seen.append(sorted(s.details["rule"] for s in signals
                                       if s.details["rule"].startswith("Certificate")))
            tickets = await store.list(TicketFilter(include_attached=True))
            return seen, [t for t in tickets if t.component == "certificate"]
        finally:
            await engine.dispose()

    config = f'[health]\ncertificate_files = ["{leaf.cert}"]\n'
    with agent_process(tmp_path, config) as agent:
        seen, tickets = asyncio.run(scenario(agent.port))
    return seen, tickets, leaf, host


def test_a_certificate_expires_into_the_warning_then_the_critical_tier(tmp_path):
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=60)
    seen, tickets, leaf, host = run_rounds(tmp_path, expires, (45, 25, 5))

    # 45 days left: nothing; 25: the 30-day warning; 5: the 7-day critical tier.
    assert seen == [[], ["CertificateExpiresSoon"], ["CertificateExpiresVerySoon"]]
    by_rule = {t.details["rule"]: t for t in tickets}
    assert set(by_rule) == {"CertificateExpiresSoon", "CertificateExpiresVerySoon"}
    warning, critical = by_rule["CertificateExpiresSoon"], by_rule["CertificateExpiresVerySoon"]
    # Urgency medium and high on a system of default criticality (medium): P3 and P2.
    assert (warning.urgency.value, warning.priority.value) == ("medium", "P3")
    assert (critical.urgency.value, critical.priority.value) == ("high", "P2")
    # The warning was open for 20 days before the critical tier came: it stays its own
    # ticket (inhibition holds back what has not been raised yet), the critical one is new.
    assert critical.parent_id is None and warning.parent_id is None
    for ticket, rule in ((warning, "CertificateExpiresSoon"),
                         (critical, "CertificateExpiresVerySoon")):
        assert ticket.host == host
        assert ticket.details["annotations"]["runbook_url"] == f"{PUBLIC_URL}/runbooks/{rule}"
        assert ticket.details["labels"]["subject"] == "CN=shop.example.net"
        assert ticket.details["labels"]["issuer"] == "CN=Regie Test CA"
        assert ticket.details["labels"]["path"] == str(leaf.cert)
    assert critical.summary == f"Certificate CN=shop.example.net on {host} expires in 5d 0h 0m 0s"


def test_first_seen_within_seven_days_pages_once(tmp_path):
    """A certificate already inside both tiers when first seen: both alerts fire in the same
    round, and the 30-day one attaches to the 7-day one's ticket instead of paging again."""
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=60)
    seen, tickets, _, _ = run_rounds(tmp_path, expires, (3,))
    assert seen == [["CertificateExpiresSoon", "CertificateExpiresVerySoon"]]
    by_rule = {t.details["rule"]: t for t in tickets}
    critical, warning = by_rule["CertificateExpiresVerySoon"], by_rule["CertificateExpiresSoon"]
    assert critical.parent_id is None
    assert warning.parent_id == critical.id
