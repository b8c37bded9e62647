"""Every query of every panel, run against a real Prometheus that scrapes real Regie agents
and a real collector (tests/dashboards/world.py), with the variables filled in as Grafana
fills them ("All" selected: a regex of every host; $__rate_interval from the scrape interval).
Each must parse and return data, or be listed in NO_DATA_HERE with the reason this machine
cannot produce it. Then each dashboard is drawn into a PNG from the same Prometheus.

No Grafana server can be installed here: what is proven is that the queries the JSON carries
answer on a Regie fleet. The structure Grafana's import needs is test_build.py's.
"""

from __future__ import annotations

import time

import pytest

from dashboards import build
from dashboards.preview import Prometheus, PrometheusError, render, variable_values
from dashboards.promql import grafana_builtins, substitute
from tests.dashboards.world import HOSTS, SCRAPE_SECONDS, world

# (dashboard, panel title, refId) -> why this machine cannot give it data. Each must still
# run; one that answers after all fails the test (the list stays true).
NO_DATA_HERE = {
    ("regie-fleet", "Worst hosts", "F"):
        "failed systemd units: systemd is not PID 1 on this machine (no systemd collector)",
    ("regie-fleet", "Failed systemd units per host", "A"):
        "systemd is not PID 1 on this machine (no systemd collector)",
}

# (dashboard, panel title, refId) -> why its data depends on what the rest of the machine
# does; it must run, with or without data.
MAY_BE_EMPTY = {
    ("regie-fleet", "Filesystems filling up", "A"):
        "a filesystem whose free space fell over the window: this machine's root filesystem "
        "falls while other programs write to it, and not otherwise; nothing here can be made "
        "to fill one at a steady rate without mounting a filesystem",
    ("regie-fleet", "Filesystems filling up", "B"): "the same filesystems as query A",
}


@pytest.fixture(scope="module")
def live(tmp_path_factory, snmpd):
    with world(tmp_path_factory.mktemp("dashboards-world"), snmpd) as here:
        yield here


@pytest.mark.timeout(300)
def test_every_panel_query_answers_with_data(live, tmp_path):
    prometheus = Prometheus(live.prometheus)
    end = time.time()
    span = max(30.0, end - live.started)
    step = max(1.0, span / 120)
    problems, answered, expected_empty = [], 0, set()
    for name, model in build.dashboards().items():
        values = variable_values(model, prometheus)
        if name == "regie-fleet":
            # "All" is every host the agents report: both, as Grafana's regex.
            assert values["host"] == f"({'|'.join(HOSTS)})", values
        values |= grafana_builtins(range_seconds=span, step_seconds=step,
                                   scrape_interval_seconds=SCRAPE_SECONDS)
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                key = (name, panel["title"], target["refId"])
                expr = substitute(target["expr"], values)
                try:
                    if target["instant"]:
                        result = prometheus.instant(expr, end)
                    else:
                        result = [s for s in prometheus.range(expr, end - span, end, step)
                                  if s["values"]]
                except PrometheusError as exc:
                    problems.append(f"{key}: does not run: {exc}")
                    continue
                if key in MAY_BE_EMPTY:
                    continue
                if key in NO_DATA_HERE:
                    expected_empty.add(key)
                    if result:
                        problems.append(f"{key}: listed as impossible here, yet has data "
                                        f"({result[:2]}): remove it from NO_DATA_HERE")
                    continue
                if not result:
                    problems.append(f"{key}: no data for {expr}")
                answered += 1
    assert not problems, "\n".join(problems)
    assert expected_empty == set(NO_DATA_HERE)
    assert answered >= 60


def test_the_numbers_are_the_worlds(live):
    """A few panels checked for the values the world was given, not just for data."""
    prometheus = Prometheus(live.prometheus)
    model = build.dashboards()["regie-governance"]
    values = variable_values(model, prometheus)
    security = {s["metric"]["host"]: float(s["value"][1]) for s in prometheus.instant(
        substitute(next(t["expr"] for p in model["panels"] for t in p.get("targets", [])
                        if p["title"] == "Pending security updates per host"
                        and t["refId"] == "A"), values), time.time())}
    assert security == {"app-01": 3.0, "app-02": 12.0}
    soon = prometheus.instant(substitute(
        next(t["expr"] for p in model["panels"] for t in p.get("targets", [])
             if p["title"] == "Reaching end of support within 8 months" and t["refId"] == "A"),
        values), time.time())
    assert {(s["metric"]["host"], s["metric"]["product"]) for s in soon} >= {
        ("app-01", "alpine-linux"), ("app-01", "nodejs")}
    assert all(0 <= float(s["value"][1]) < 243 for s in soon)
    # The patch change was planned an hour before the push that showed it installed.
    [lag] = prometheus.instant(substitute(
        next(t["expr"] for p in model["panels"] for t in p.get("targets", [])
             if p["title"] == "Last patch change: slowest host"), values), time.time())
    assert 3600 <= float(lag["value"][1]) < 3600 + 600
    waiting = {s["metric"]["host"] for s in prometheus.instant(substitute(
        next(t["expr"] for p in model["panels"] for t in p.get("targets", [])
             if p["title"] == "Oldest pending security update per host"), values), time.time())}
    assert waiting == {"app-01", "app-02"}


def test_previews_are_drawn_from_the_live_prometheus(live, tmp_path):
    prometheus = Prometheus(live.prometheus)
    span = max(60.0, time.time() - live.started)
    for name, model in build.dashboards().items():
        out = render(model, prometheus, tmp_path / f"{name}.png", range_seconds=span,
                     scrape_interval_seconds=SCRAPE_SECONDS)
        data = out.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 50_000, (name, len(data))
