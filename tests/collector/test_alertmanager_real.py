"""A real Alertmanager delivers to the real collector (SQLite), with the shipped configuration.

Alerts are posted to Alertmanager's own API (v2) the way Prometheus posts them; Alertmanager
groups them and calls the collector's webhook with a bearer token read from a file.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.collector.conftest import collector_process
from tests.services import require_binary, wait_for

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"


def post_alerts(alertmanager_url: str, alerts: list[dict]) -> None:
    request = urllib.request.Request(f"{alertmanager_url}/api/v2/alerts",
                                     data=json.dumps(alerts).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def local_config(tmp_path: Path, collector_url: str, token: str) -> str:
    token_file = tmp_path / "regie.token"
    token_file.write_text(token + "\n")
    config = SHIPPED.read_text()
    config = config.replace("http://127.0.0.1:8847", collector_url)
    config = config.replace("/etc/alertmanager/regie.token", str(token_file))
    # The shipped timings are for production; a test waits seconds, not minutes.
    return config.replace("group_wait: 10s", "group_wait: 0s").replace(
        "group_interval: 1m", "group_interval: 1s")


def test_shipped_config_passes_amtool(tmp_path):
    config = tmp_path / "am.yml"
    config.write_text(local_config(tmp_path, "http://127.0.0.1:8847", "regie_x"))
    result = subprocess.run([require_binary("amtool"), "check-config", str(config)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_fires_and_resolves_a_ticket(tmp_path, sqlite_db, start_alertmanager):
    with collector_process(tmp_path, sqlite_db) as collector:
        alertmanager = start_alertmanager(
            local_config(tmp_path, collector.url, collector.tokens["ingest"]))
        now = datetime.now(UTC)
        alert = {"labels": {"alertname": "DiskAlmostFull", "instance": "web-01:9847",
                            "severity": "warning", "component": "disk", "mountpoint": "/var"},
                 "annotations": {"summary": "/var is 95% full on web-01"},
                 "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
                 "generatorURL": "http://prometheus.example/graph"}
        post_alerts(alertmanager.url, [alert])

        def open_tickets() -> list:
            return collector.call("GET", "/api/v1/tickets", token="viewer")[1]["tickets"]

        (ticket,) = wait_for(open_tickets, timeout=30, interval=0.2,
                             what="the ticket from Alertmanager's webhook")
        with urllib.request.urlopen(f"{alertmanager.url}/api/v2/alerts", timeout=10) as r:
            (am_alert,) = json.loads(r.read())
        assert ticket["dedup_key"] == f"alertmanager/{am_alert['fingerprint']}"
        assert (ticket["host"], ticket["component"], ticket["urgency"], ticket["summary"]) == (
            "web-01", "disk", "medium", "/var is 95% full on web-01")

        post_alerts(alertmanager.url, [{**alert, "endsAt": datetime.now(UTC).isoformat()}])

        def resolved() -> list:
            return collector.call("GET", "/api/v1/tickets?status=resolved",
                                  token="viewer")[1]["tickets"]

        (done,) = wait_for(resolved, timeout=30, interval=0.2, what="the resolved notification")
        assert done["id"] == ticket["id"]
        assert open_tickets() == []


def test_a_long_annotation_does_not_cost_its_group(tmp_path, sqlite_db, start_alertmanager):
    """Prometheus templates whatever a rule says into its annotations and its whole expression
    into generatorURL; Alertmanager sends a group in one webhook call and does not send it
    again after a 4xx. An alert with a 10,000-character description, a 5,000-character label
    and a 6,000-character link, grouped with an ordinary alert of the same host, opens both
    tickets: the long values are cut and say so, the link is kept whole. (Before, the whole
    group was refused with 400 and neither ticket opened.)"""
    with collector_process(tmp_path, sqlite_db) as collector:
        alertmanager = start_alertmanager(
            local_config(tmp_path, collector.url, collector.tokens["ingest"]))
        now = datetime.now(UTC)
        link = "http://prometheus.example/graph?g0.expr=" + "up%7Bjob%3D%22node%22%7D+or+" * 200
        ordinary = {"labels": {"alertname": "ServiceFlapping", "instance": "web-02:9847",
                               "unit": "nginx.service"},
                    "annotations": {"summary": "nginx.service flaps on web-02"},
                    "startsAt": now.isoformat(),
                    "endsAt": (now + timedelta(hours=1)).isoformat()}
        long = {"labels": {"alertname": "ServiceFlapping", "instance": "web-02:9847",
                           "unit": "cron.service", "restarts": "r" * 5_000},
                "annotations": {"description": "cron restarted: " + "x" * 10_000},
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
                "generatorURL": link}
        post_alerts(alertmanager.url, [ordinary, long])

        def tickets() -> list:
            found = collector.call("GET", "/api/v1/tickets?details=true",
                                   token="viewer")[1]["tickets"]
            return found if len(found) == 2 else []

        by_unit = {t["details"]["labels"]["unit"]: t
                   for t in wait_for(tickets, timeout=30, interval=0.2,
                                     what="both tickets of the group")}
        assert by_unit["nginx.service"]["summary"] == "nginx.service flaps on web-02"
        details = by_unit["cron.service"]["details"]
        description = details["annotations"]["description"]
        assert len(description) == 4096
        assert description.endswith(" … [cut from 10,016 characters]")
        assert details["labels"]["restarts"].endswith(" … [cut from 5,000 characters]")
        assert details["generator_url"] == link
        assert by_unit["cron.service"]["summary"] == description[:1024]
