"""Screenshots of the console on demo data, for the README and docs/console.md.

`python -m tests.collector.ui.make_screenshots docs/img/console` writes them; the test suite
takes the same pictures into a temporary directory (test_console_screenshots.py), so the code
that makes the README's images runs on every test run. The data is what `regie demo` has (its
sample hardware and contracts, collector/demo_registry.py) plus a small night's queue: an
inventory push, alerts through the Alertmanager webhook (a host down with alerts attached),
people's reports, an acknowledgement and a note; the real collector application, on-call
configured, a real webhook receiver; time is an injected clock.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

from tests.collector.browser import chromium
from tests.collector.conftest import create_tokens, migrated
from tests.collector.ui.world import alert, world

PACKAGES = [("bash", "5.0-4"), ("libc6", "2.28-10+deb10u2"), ("nginx", "1.14.2-2+deb10u5"),
            ("openssl", "1.1.1n-0+deb10u6"), ("postgresql-11", "11.22-0+deb10u1"),
            ("python3", "3.7.3-1"), ("systemd", "241-7~deb10u10")]

# The other pages, each pictured too: (file name, path).
PAGES = (("oncall", "/ui/oncall"), ("eos", "/ui/eos"), ("hosts", "/ui/hosts"),
         ("host", "/ui/hosts/db1"), ("report", "/ui/report"), ("changes", "/ui/changes"))


async def _data(c) -> int:
    """The demo queue; the id of the ticket shown on its own page."""
    await c.call("POST", "/api/v1/inventory", role="agent", expect=202, body={
        "idempotency_key": uuid.uuid4().hex,
        "document": {"schema": "regie.inventory/v1", "host": {"hostname": "db1"},
                     "os": {"PRETTY_NAME": "Debian GNU/Linux 10 (buster)", "ID": "debian",
                            "VERSION_ID": "10"},
                     "packages": [{"manager": "dpkg", "name": n, "version": v}
                                  for n, v in PACKAGES],
                     "observations": [
                         {"source": "os-release", "raw": {"ID": "debian", "VERSION_ID": "10"}},
                         *({"source": "dpkg", "raw": {"package": n, "version": v}}
                           for n, v in PACKAGES)]}})
    await c.call("POST", "/api/v1/tickets", expect=201, body={
        "summary": "Printer on floor 3 jams", "impact": "low", "urgency": "low"})
    c.clock.advance(minutes=40)
    await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200, body=alert(
        "FilesystemFilling", host="web2", summary="/var on web2 is 91% full", severity="warning"))
    c.clock.advance(minutes=25)
    await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200, body=alert(
        "HostDown", host="web3", summary="web3 does not answer", regie_host_down="true"))
    for name, summary in (("NginxDown", "nginx down on web3"),
                          ("DiskIoSaturated", "disk I/O saturated on web3")):
        await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200,
                     body=alert(name, host="web3", summary=summary))
    report = await c.call("POST", "/api/v1/tickets", expect=201, body={
        "summary": "Checkout page times out for customers", "service": "shop",
        "impact": "high", "urgency": "high", "description": "Since about 02:30."})
    await c.call("POST", f"/api/v1/tickets/{report['id']}/ack", expect=200)
    c.clock.advance(minutes=9)
    await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200, body=alert(
        "PostgresReplicationLag", host="db1", summary="PostgreSQL replica on db1 is 45 s "
        "behind", component="postgres"))
    await c.settle()
    c.clock.advance(minutes=3)
    queue = await c.call("GET", "/api/v1/tickets")
    lag = next(t for t in queue["tickets"] if "replica" in t["summary"])
    await c.call("POST", f"/api/v1/tickets/{lag['id']}/note", expect=201, body={
        "text": "Replica catching up after the nightly vacuum; watching."})
    await c.settle()
    await _changes(c)
    return lag["id"]


async def _changes(c) -> None:
    """The week's changes: two on web3 at once (a warning), a standard one approved as it was
    submitted, and an emergency one waiting for its review."""
    night = {"timezone": "Europe/Amsterdam", "planned_start": "2026-12-05T01:00:00Z",
             "planned_end": "2026-12-05T03:00:00Z"}
    for body, moves in (
        ({"type": "normal", "summary": "Kernel 6.1.119 on the web tier", "hosts": ["web*"],
          **night}, [("submit", "responder"), ("approve", "admin")]),
        ({"type": "normal", "summary": "Replace web3's RAID controller", "hosts": ["web3"],
          **night}, [("submit", "responder")]),
        ({"type": "standard", "summary": "Monthly log rotation", "services": ["logging"],
          "planned_start": "2026-12-06T02:00:00Z", "planned_end": "2026-12-06T02:30:00Z"},
         [("submit", "responder")]),
        ({"type": "emergency", "summary": "OpenSSL security update on db1",
          "hosts": ["db1"], "packages": [{"name": "openssl", "version": None}],
          "planned_start": "2026-12-02T03:30:00Z", "planned_end": "2026-12-02T04:30:00Z"},
         [("submit", "responder"), ("start", "responder")]),
    ):
        change = await c.call("POST", "/api/v1/changes", expect=201, body=body)
        for action, role in moves:
            await c.call("POST", f"/api/v1/changes/{change['id']}/{action}", role=role,
                          expect=200)


async def take(out: Path, db: str, work: Path) -> list[Path]:
    """The screenshots, written into `out`; their paths."""
    from collector.demo_registry import import_samples

    await import_samples(db)
    tokens = await asyncio.to_thread(create_tokens, db)   # it runs its own event loop
    shots = []
    async with world(db, work, tokens) as (c, _receiver), chromium() as page:
        shown = await _data(c)
        await page.watch()
        await page.goto(f"{c.url}/ui/login")
        await page.fill("#token", tokens["responder"])
        await page.click("form.stack button")
        await page.viewport(1100, 760)
        await page.goto(f"{c.url}/ui/queue")
        shots.append(await page.screenshot(out / "queue.png"))
        await page.goto(f"{c.url}/ui/ticket/{shown}")
        shots.append(await page.screenshot(out / "ticket.png"))
        for name, path in PAGES:
            await page.goto(f"{c.url}{path}")
            shots.append(await page.screenshot(out / f"{name}.png"))
        await page.viewport(390, 800, mobile=True)
        await page.goto(f"{c.url}/ui/queue")
        shots.append(await page.screenshot(out / "queue-phone.png"))
        if page.console_errors:
            raise AssertionError(f"console errors: {page.console_errors}")
    return shots


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/img/console")
    with tempfile.TemporaryDirectory(prefix="regie-shots-") as work:
        db = migrated(f"sqlite:///{Path(work) / 'regie.db'}")
        for path in asyncio.run(take(out, db, Path(work))):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
