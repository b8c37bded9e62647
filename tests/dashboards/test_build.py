"""What Grafana's import needs, checked on the generated JSON (no Grafana server can run
here), and deploy/grafana/ equal to what the code generates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dashboards import build
from dashboards.promql import variables_used
from tests.collector.conftest import regie

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "grafana"
MODELS = build.dashboards()
# Units a numeric panel may carry (Grafana's ids) and the panel types that show numbers.
UNITS = {"percentunit", "bytes", "Bps", "pps", "reqps", "s", "d", "none",
         "dateTimeAsIsoNoDateIfToday"}
NUMERIC = {"timeseries", "stat", "table"}


def panels(model: dict) -> list[dict]:
    out = []
    for panel in model["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def test_deploy_grafana_is_what_the_code_generates(tmp_path):
    """No drift: `regie dashboards build` with the defaults writes deploy/grafana/ exactly."""
    regie("dashboards", "build", "--out", str(tmp_path))
    generated = {p.relative_to(tmp_path): p.read_bytes()
                 for p in tmp_path.rglob("*") if p.is_file()}
    shipped = {p.relative_to(DEPLOY): p.read_bytes() for p in DEPLOY.rglob("*") if p.is_file()}
    assert sorted(map(str, generated)) == sorted(map(str, shipped)), (
        "regenerate with: regie dashboards build --out deploy/grafana")
    for path, content in generated.items():
        assert shipped[path] == content, (
            f"deploy/grafana/{path} differs from the code's output; regenerate with: "
            f"regie dashboards build --out deploy/grafana")


def test_build_honours_the_datasource_uid(tmp_path):
    regie("dashboards", "build", "--out", str(tmp_path), "--datasource-uid", "prom-main",
          "--prometheus-url", "http://prometheus.example.net:9090")
    (source,) = yaml.safe_load((tmp_path / "datasources" / "regie.yaml").read_text())[
        "datasources"]
    assert (source["uid"], source["url"], source["type"]) == (
        "prom-main", "http://prometheus.example.net:9090", "prometheus")
    for path in (tmp_path / "dashboards" / "regie").glob("*.json"):
        model = json.loads(path.read_text())
        assert {ref["uid"] for ref in datasource_refs(model)} == {"prom-main"}


def test_the_provider_loads_the_dashboards_directory():
    (provider,) = yaml.safe_load((DEPLOY / "dashboards" / "regie.yaml").read_text())[
        "providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards/regie"
    assert sorted(p.name for p in (DEPLOY / "dashboards" / "regie").iterdir()) == sorted(
        f"{b.name}.json" for b in build.BOARDS)


def datasource_refs(node) -> list[dict]:
    """Every `datasource` value anywhere in the model."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                found.append(value)
            else:
                found.extend(datasource_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(datasource_refs(item))
    return found


@pytest.mark.parametrize("name", list(MODELS))
def test_structure_grafana_needs(name):
    model = MODELS[name]
    assert model["schemaVersion"] >= 30
    assert model["uid"] == name and model["title"].startswith("Regie / ")
    assert "regie" in model["tags"]
    all_panels = panels(model)
    ids = [p["id"] for p in all_panels]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    # Inside 24 columns, no two panels overlapping.
    cells: dict[tuple[int, int], str] = {}
    for panel in all_panels:
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
    # Every data source reference is the provisioned one (rows and text panels included).
    for ref in datasource_refs(model):
        assert ref == {"type": "prometheus", "uid": build.DEFAULT_DATASOURCE_UID}, ref
    for panel in all_panels:
        if panel["type"] == "row":
            continue
        assert panel["description"], f"{panel['title']}: no description"
        if panel["type"] in NUMERIC:
            assert panel["targets"], panel["title"]
            unit = panel["fieldConfig"]["defaults"].get("unit")
            overrides = [p["value"] for o in panel["fieldConfig"]["overrides"]
                         for p in o["properties"] if p["id"] == "unit"]
            units = overrides if panel["type"] == "table" else [unit]
            assert units and all(u in UNITS for u in units), (panel["title"], units)
            for target in panel["targets"]:
                assert target["refId"] and target["expr"], panel["title"]


@pytest.mark.parametrize("name", list(MODELS))
def test_every_variable_is_defined_and_used(name):
    model = MODELS[name]
    defined = {t["name"] for t in model["templating"]["list"]}
    used_in_panels = set()
    for panel in panels(model):
        for target in panel.get("targets", []):
            used_in_panels |= variables_used(target["expr"])
        used_in_panels |= variables_used(json.dumps(panel.get("fieldConfig", {})))
    used_in_variables = set()
    for template in model["templating"]["list"]:
        used_in_variables |= variables_used(template["query"])
        assert template["multi"] and template["includeAll"], template["name"]
        assert template["datasource"]["uid"] == build.DEFAULT_DATASOURCE_UID
    builtin = {v for v in used_in_panels | used_in_variables if v.startswith("__")}
    assert builtin <= {"__rate_interval", "__interval", "__range", "__data",
                       "__url_time_range"}, builtin
    assert (used_in_panels | used_in_variables) - builtin <= defined
    assert defined <= used_in_panels, f"defined but unused: {defined - used_in_panels}"


def test_dashboards_link_to_each_other():
    for model in MODELS.values():
        (link,) = model["links"]
        assert link["type"] == "dashboards" and link["tags"] == ["regie"]
