"""The shared panel library: every panel of every dashboard is built here, so units, legends,
thresholds, colours and layout are the same everywhere and a dashboard module reads as a list
of what it shows (the node-mixin's lib/panels, in Python with grafanalib).

A dashboard module describes panels with `Query`s and a few words; `Layout` places them on
Grafana's 24-column grid, left to right, a new line when one is full, a row header before
each group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from grafanalib import core as g

COLUMNS = 24
# Grafana 9's dashboard schema: the panel JSON below (timeseries, stat, table options and
# field config) is in that shape, so Grafana does not run its old-schema migrations on it.
SCHEMA_VERSION = 36
TAG = "regie"

# Colours: Grafana's named palette, so themes keep them readable.
GREEN, AMBER, RED, BLUE, GREY = "green", "orange", "red", "blue", "text"
PRIORITY_COLOURS = {"P1": RED, "P2": AMBER, "P3": "yellow", "P4": BLUE}


@dataclass(frozen=True, slots=True)
class Query:
    """One PromQL query of a panel. `legend` is Grafana's legend format ({{host}}); `column`
    names the value column of a table (instant queries)."""

    expr: str
    legend: str = ""
    column: str = ""
    interval: str = ""       # Grafana's min interval for this query ("1d": one point a day)


def datasource(uid: str) -> dict[str, str]:
    return {"type": "prometheus", "uid": uid}


def steps(*pairs: tuple[str, float | None]) -> dict[str, Any]:
    """Absolute threshold steps, lowest first: steps((GREEN, None), (AMBER, 0.8), (RED, 0.9))."""
    return {"mode": "absolute",
            "steps": [{"color": colour, "value": value} for colour, value in pairs]}


def rising(amber: float, red: float) -> dict[str, Any]:
    """Green, then amber from `amber`, red from `red`: more is worse."""
    return steps((GREEN, None), (AMBER, amber), (RED, red))


def falling(red: float, amber: float) -> dict[str, Any]:
    """Red below `red`, amber below `amber`, else green: less is worse (days left)."""
    return steps((RED, None), (AMBER, red), (GREEN, amber))


def any_is_bad() -> dict[str, Any]:
    """Green at zero, red from one: a count that should be nothing."""
    return steps((GREEN, None), (RED, 1))


NEUTRAL = steps((BLUE, None))


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """How a table shows one value column: its unit, thresholds (cell background) and
    decimals."""

    unit: str = "none"
    thresholds: dict[str, Any] | None = None
    decimals: int | None = None
    width: int | None = None


@dataclass
class PanelSpec:
    """A panel as a dashboard module says it; `Layout` turns it into grafanalib."""

    kind: str                        # timeseries | stat | table | text
    title: str
    description: str
    queries: Sequence[Query] = ()
    unit: str = "none"
    width: int = 12
    height: int = 8
    thresholds: dict[str, Any] = field(default_factory=lambda: NEUTRAL)
    options: dict[str, Any] = field(default_factory=dict)


# -- what dashboard modules call ----------------------------------------------------------


def timeseries(title: str, description: str, queries: Sequence[Query], *, unit: str,
               thresholds: dict[str, Any] | None = None, width: int = 12, height: int = 8,
               min_value: int | None = None, max_value: int | None = None,
               bars: bool = False, stacked: bool = False, mean_of: str | None = None,
               colours: dict[str, str] | None = None) -> PanelSpec:
    """A time series panel. `mean_of`: an expression whose average is drawn as a dashed
    `mean` line (top-k panels: the fleet's norm beside its worst members). `colours`: a fixed
    colour per series name (priorities)."""
    queries = list(queries)
    if mean_of is not None:
        queries.append(Query(f"avg({mean_of})", legend="mean"))
    return PanelSpec("timeseries", title, description, queries, unit, width, height,
                     thresholds or NEUTRAL,
                     {"min": min_value, "max": max_value, "bars": bars, "stacked": stacked,
                      "mean": mean_of is not None, "colours": colours or {}})


def stat(title: str, description: str, query: Query, *, unit: str,
         thresholds: dict[str, Any], width: int = 4, height: int = 4,
         decimals: int | None = None) -> PanelSpec:
    """One big number, its background coloured by the thresholds."""
    return PanelSpec("stat", title, description, [query], unit, width, height, thresholds,
                     {"decimals": decimals})


def table(title: str, description: str, queries: Sequence[Query], *,
          columns: dict[str, Column], sort_by: str, descending: bool = True,
          labels: Sequence[str] = (), hide: Iterable[str] = (), width: int = 24,
          height: int = 8,
          mappings: dict[str, dict[str, tuple[str, str]]] | None = None,
          links: dict[str, str] | None = None) -> PanelSpec:
    """A table from instant queries joined on their labels (one row per label set), each
    query's value a column named by `Query.column`. `labels`: the label columns shown first,
    in this order (then the value columns). `hide`: label columns not shown (job, instance
    are always hidden). `mappings`: per column, value -> (text, colour).
    `links`: per column, a data link URL."""
    return PanelSpec("table", title, description, list(queries), "none", width, height,
                     NEUTRAL, {"columns": columns, "sort_by": sort_by, "descending": descending,
                               "labels": tuple(labels),
                               "hide": tuple(hide), "mappings": mappings or {},
                               "links": links or {}})


def text(title: str, content: str, *, width: int = 24, height: int = 4) -> PanelSpec:
    return PanelSpec("text", title, content, (), "none", width, height)


# -- turning specs into grafanalib panels, laid out -----------------------------------------


class Layout:
    """Places panels on the grid: rows of panels left to right, a new line when full."""

    def __init__(self, datasource_uid: str) -> None:
        self.datasource = datasource(datasource_uid)
        self.panels: list[g.Panel] = []
        self._x = self._y = self._line_height = 0
        self._ids = iter(range(1, 10_000))

    def row(self, title: str, *specs: PanelSpec) -> Layout:
        self._newline()
        self.panels.append(g.RowPanel(title=title, id=next(self._ids),
                                      dataSource=self.datasource,
                                      gridPos=g.GridPos(h=1, w=COLUMNS, x=0, y=self._y)))
        self._y += 1
        for spec in specs:
            self.add(spec)
        return self

    def add(self, spec: PanelSpec) -> None:
        if not 0 < spec.width <= COLUMNS:
            raise ValueError(f"{spec.title}: width {spec.width} outside 1..{COLUMNS}")
        if self._x + spec.width > COLUMNS:
            self._newline()
        position = g.GridPos(h=spec.height, w=spec.width, x=self._x, y=self._y)
        self.panels.append(_BUILDERS[spec.kind](spec, self.datasource, position,
                                                next(self._ids)))
        self._x += spec.width
        self._line_height = max(self._line_height, spec.height)

    def _newline(self) -> None:
        self._y += self._line_height
        self._x = self._line_height = 0


def _targets(spec: PanelSpec, ds: dict[str, str], *, instant: bool) -> list[g.Target]:
    return [g.Target(expr=q.expr, legendFormat=q.legend, refId=chr(ord("A") + i),
                     instant=instant, format="table" if instant else "time_series",
                     interval=q.interval, datasource=ds)
            for i, q in enumerate(spec.queries)]


def _timeseries(spec: PanelSpec, ds: dict[str, str], position: g.GridPos, id_: int):
    options = spec.options
    overrides = []
    if options["mean"]:
        overrides.append(_override("mean", [
            {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
            {"id": "custom.lineWidth", "value": 2},
            {"id": "color", "value": {"mode": "fixed", "fixedColor": GREY}}]))
    for name, colour in options["colours"].items():
        overrides.append(_override(name, [
            {"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}]))
    threshold_lines = "line" if len(spec.thresholds["steps"]) > 1 else "off"
    return g.TimeSeries(
        title=spec.title, description=spec.description, id=id_, gridPos=position,
        dataSource=ds, targets=_targets(spec, ds, instant=False), unit=spec.unit,
        valueMin=options["min"], valueMax=options["max"],
        drawStyle="bars" if options["bars"] else "line",
        fillOpacity=80 if options["bars"] else (30 if options["stacked"] else 10),
        stacking={"mode": "normal", "group": "A"} if options["stacked"] else {},
        lineWidth=1, showPoints="never", spanNulls=True,
        legendDisplayMode="table", legendPlacement="right",
        legendCalcs=["mean", "max", "lastNotNull"],
        tooltipMode="multi", tooltipSort="desc",
        thresholdsStyleMode=threshold_lines, overrides=overrides,
        extraJson={"fieldConfig": {"defaults": {"thresholds": spec.thresholds}}},
    )


def _stat(spec: PanelSpec, ds: dict[str, str], position: g.GridPos, id_: int):
    return g.Stat(
        title=spec.title, description=spec.description, id=id_, gridPos=position,
        dataSource=ds, targets=_targets(spec, ds, instant=False), format=spec.unit,
        decimals=spec.options["decimals"], colorMode="background", graphMode="area",
        reduceCalc="lastNotNull", noValue="0", textMode="value",
        extraJson={"fieldConfig": {"defaults": {"thresholds": spec.thresholds,
                                                "color": {"mode": "thresholds"}}}},
    )


# Label columns every table drops: Prometheus's own and the joined tables' time stamps.
_ALWAYS_HIDDEN = ("Time", "job", "instance", "__name__")


def _table(spec: PanelSpec, ds: dict[str, str], position: g.GridPos, id_: int):
    options = spec.options
    targets = _targets(spec, ds, instant=True)
    single = len(targets) == 1
    # Each instant query in table format gives a "Value" column ("Value #A" ... when several):
    # merged on the label columns they share, then renamed to the query's column title.
    renames = {("Value" if single else f"Value #{t.refId}"): q.column
               for t, q in zip(targets, spec.queries, strict=True)}
    hidden = {name: True for name in (*_ALWAYS_HIDDEN, *options["hide"])}
    # Column order (by the names before renaming): the chosen labels, then the values.
    order = {name: i for i, name in enumerate((*options["labels"], *renames))}
    transformations = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": hidden, "renameByName": renames,
                                       "indexByName": order}},
    ]
    overrides = []
    for name, column in options["columns"].items():
        properties: list[dict[str, Any]] = [{"id": "unit", "value": column.unit}]
        if column.thresholds is not None:
            properties += [{"id": "thresholds", "value": column.thresholds},
                           {"id": "custom.displayMode", "value": "color-background"}]
        if column.decimals is not None:
            properties.append({"id": "decimals", "value": column.decimals})
        if column.width is not None:
            properties.append({"id": "custom.width", "value": column.width})
        if name in options["mappings"]:
            properties.append({"id": "mappings", "value": [{
                "type": "value",
                "options": {value: {"text": text_, "color": colour, "index": i}
                            for i, (value, (text_, colour)) in
                            enumerate(options["mappings"][name].items())}}]})
            properties.append({"id": "custom.displayMode", "value": "color-background"})
        if name in options["links"]:
            properties.append({"id": "links", "value": [
                {"title": f"Open {name}", "url": options["links"][name]}]})
        overrides.append(_override(name, properties))
    for name, url in options["links"].items():
        if name not in options["columns"]:
            overrides.append(_override(name, [{"id": "links", "value": [
                {"title": f"Open {name}", "url": url}]}]))
    return g.Table(
        title=spec.title, description=spec.description, id=id_, gridPos=position,
        dataSource=ds, targets=targets, transformations=transformations, overrides=overrides,
        sortBy=[g.TableSortByField(displayName=options["sort_by"],
                                   desc=options["descending"])],
        extraJson={"options": {"footer": {"show": False}},
                   "fieldConfig": {"defaults": {"thresholds": NEUTRAL}}},
    )


def _text(spec: PanelSpec, ds: dict[str, str], position: g.GridPos, id_: int):
    return g.Text(title=spec.title, description=spec.description, id=id_, gridPos=position,
                  dataSource=ds, content=spec.description, mode="markdown")


def _override(name: str, properties: list[dict[str, Any]]) -> dict[str, Any]:
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}


_BUILDERS = {"timeseries": _timeseries, "stat": _stat, "table": _table, "text": _text}


# -- the dashboard around the panels --------------------------------------------------------


def variable(name: str, label: str, query: str, ds: dict[str, str]) -> g.Template:
    """A multi-select variable with "All" (all values, as a regex), refreshed on load."""
    return g.Template(name=name, label=label, query=query, dataSource=ds, multi=True,
                      includeAll=True, allValue=".+", default="$__all", refresh=1,
                      sort=1)


def dashboard(*, uid: str, title: str, description: str, layout: Layout,
              variables: Sequence[g.Template] = (), time_from: str = "now-6h",
              refresh: str = "1m") -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (a plain dict, ready for json.dumps)."""
    import json

    from grafanalib._gen import DashboardEncoder

    board = g.Dashboard(
        title=title, uid=uid, description=description, tags=[TAG], panels=layout.panels,
        templating=g.Templating(list=list(variables)), time=g.Time(time_from, "now"),
        refresh=refresh, timezone="browser", schemaVersion=SCHEMA_VERSION,
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR, editable=False,
        links=[g.DashboardLink(title="Regie", tags=[TAG], asDropdown=False, type="dashboards",
                               includeVars=False, keepTime=True)],
    )
    model = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    for template in model["templating"]["list"]:
        if template.get("includeAll"):   # "All" selected, as Grafana stores it
            template["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return model
