"""`regie dashboards preview`: each dashboard drawn from a live Prometheus into one PNG, for
the README and for anyone without a Grafana at hand. Not Grafana's rendering: the same panels,
queries, units and thresholds, drawn with matplotlib (time series as lines or bars, stats as
big numbers on their threshold colour, tables as tables with coloured cells).

Variables are set as Grafana sets them with "All" selected: every value the variable's
label_values() query finds.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboards.promql import grafana_builtins, regex_of, substitute
from regie.inputs import url_problem

TIMEOUT_SECONDS = 30.0
POINTS = 120            # points per series over the range (Grafana's default is ~ panel width)
COLOURS = {"green": "#56a64b", "orange": "#ff9830", "red": "#e02f44", "blue": "#3274d9",
           "yellow": "#f2cc0c", "text": "#8e8e8e"}
PALETTE = ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9",
           "#705da0", "#508642", "#cca300", "#447ebc", "#c15c17"]


class PrometheusError(Exception):
    """Prometheus refused a query or could not be reached."""


@dataclass(frozen=True, slots=True)
class Prometheus:
    url: str
    timeout: float = TIMEOUT_SECONDS

    def get(self, path: str, params: Mapping[str, str]) -> Any:
        query = urllib.parse.urlencode(params)
        url = f"{self.url.rstrip('/')}{path}?{query}"
        if not url.startswith(("http://", "https://")):
            raise PrometheusError(f"{self.url}: not an http(s) URL")
        if problem := url_problem(self.url):   # one urllib fails on, with no error message
            raise PrometheusError(f"the Prometheus URL {problem}")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                detail = exc.reason
            raise PrometheusError(f"{params.get('query', path)}: {detail}") from None
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise PrometheusError(f"{self.url}: {exc}") from None
        if not isinstance(answer, dict):
            raise PrometheusError(f"{self.url}: the answer is not the Prometheus API's")
        if answer.get("status") != "success":
            raise PrometheusError(f"{params.get('query', path)}: {answer.get('error')}")
        return answer["data"]

    def instant(self, expr: str, at: float) -> list[dict[str, Any]]:
        return self.get("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})["result"]

    def range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        return self.get("/api/v1/query_range", {"query": expr, "start": f"{start:.3f}",
                                                "end": f"{end:.3f}", "step": f"{step:g}"})[
            "result"]

    def label_values(self, query: str) -> list[str]:
        """Grafana's `label_values(selector, label)` / `label_values(label)`."""
        match = re.fullmatch(r"label_values\((?:(.+),\s*)?(\w+)\)", query.strip())
        if match is None:
            raise PrometheusError(f"{query}: not a label_values() query")
        selector, label = match.groups()
        params = {"match[]": selector} if selector else {}
        return sorted(self.get(f"/api/v1/label/{label}/values", params))


# -- variables and time ----------------------------------------------------------------------


def parse_duration(text: str) -> float:
    """'6h', '7d', '90d', '30m', '45s' -> seconds."""
    match = re.fullmatch(r"(\d+)([smhdw])", text.strip())
    if match is None:
        raise ValueError(f"{text!r}: a duration such as 30m, 6h, 7d")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400,
                                  "w": 604800}[match.group(2)]


def dashboard_range(model: Mapping[str, Any]) -> float:
    """The dashboard's default range ('now-6h' -> 6 hours) in seconds."""
    return parse_duration(model["time"]["from"].removeprefix("now-"))


def variable_values(model: Mapping[str, Any], prometheus: Prometheus) -> dict[str, str]:
    """Each variable as Grafana fills it with "All" selected, in the dashboard's order (a
    later query may use an earlier variable)."""
    values: dict[str, str] = {}
    for template in model["templating"]["list"]:
        query = substitute(template["query"], values)
        found = prometheus.label_values(query)
        values[template["name"]] = regex_of(found) if found else template.get("allValue", ".+")
    return values


# -- drawing ---------------------------------------------------------------------------------


def render(model: Mapping[str, Any], prometheus: Prometheus, out: Path, *,
           range_seconds: float | None = None, now: float | None = None,
           scrape_interval_seconds: float = 30.0) -> Path:
    """Draw `model` into `out` (PNG). Panels keep their places on Grafana's grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = time.time() if now is None else now
    span = range_seconds if range_seconds is not None else dashboard_range(model)
    start = end - span
    step = max(1.0, span / POINTS)
    values = variable_values(model, prometheus) | grafana_builtins(
        range_seconds=span, step_seconds=step, scrape_interval_seconds=scrape_interval_seconds)
    panels = model["panels"]
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    unit_height = 0.42        # inches per grid row (Grafana: 30 px)
    figure = plt.figure(figsize=(22, bottom * unit_height + 0.9), dpi=72)
    figure.suptitle(f"{model['title']}  ·  last {_human_span(span)}  ·  "
                    f"{datetime.fromtimestamp(end, UTC):%Y-%m-%d %H:%M} UTC",
                    x=0.01, ha="left", fontsize=16, fontweight="bold")
    top_margin = 0.9 / (bottom * unit_height + 0.9)
    for panel in panels:
        grid = panel["gridPos"]
        left = grid["x"] / 24
        width = grid["w"] / 24
        height = grid["h"] / bottom * (1 - top_margin)
        top = 1 - top_margin - grid["y"] / bottom * (1 - top_margin)
        kind = panel["type"]
        # Time series need room for their y tick labels on the left.
        pad = 0.04 if kind == "timeseries" else 0.006
        box = [left + pad, top - height + 0.014, width - pad - 0.006, height - 0.034]
        if kind == "row":
            figure.text(left + 0.004, top - 0.01, panel["title"], fontsize=13,
                        fontweight="bold", va="top", color="#333333")
            continue
        axes = figure.add_axes(box)
        axes.set_title(panel["title"], loc="left", fontsize=11, fontweight="bold")
        try:
            _DRAW[kind](axes, panel, prometheus, values, start, end, step)
        except PrometheusError as exc:
            _message(axes, f"query failed: {exc}"[:160])
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=72)
    plt.close(figure)
    return out


def _exprs(panel: Mapping[str, Any], values: Mapping[str, str]) -> list[tuple[str, str, str]]:
    return [(substitute(t["expr"], values), t.get("legendFormat", ""), t.get("refId", ""))
            for t in panel.get("targets", []) if not t.get("hide")]


def _legend(template: str, metric: Mapping[str, str]) -> str:
    if not template:
        return "{" + ", ".join(f"{k}={v}" for k, v in metric.items() if k != "__name__") + "}"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), template)


def _draw_timeseries(axes, panel, prometheus, values, start, end, step) -> None:
    defaults = panel["fieldConfig"]["defaults"]
    unit = defaults.get("unit", "none")
    bars = defaults["custom"].get("drawStyle") == "bars"
    fixed = _fixed_colours(panel)
    drawn = 0
    for expr, legend, _ in _exprs(panel, values):
        for series in prometheus.range(expr, start, end, step):
            name = _legend(legend, series["metric"])
            points = [(float(t), _number(v)) for t, v in series["values"]]
            points = [(t, v) for t, v in points if v is not None]
            if not points:
                continue
            xs = [datetime.fromtimestamp(t, UTC) for t, _ in points]
            ys = [v for _, v in points]
            colour = fixed.get(name, PALETTE[drawn % len(PALETTE)])
            if name == "mean":
                axes.plot(xs, ys, linestyle="--", linewidth=2, color="#555555", label=name)
            elif bars:
                axes.bar(xs, ys, width=(step / 86400) * 0.8, color=colour, label=name,
                         alpha=0.85)
            else:
                axes.plot(xs, ys, linewidth=1.4, color=colour, label=name)
            drawn += 1
    if not drawn:
        _message(axes, "no data")
        return
    for threshold in defaults.get("thresholds", {}).get("steps", [])[1:]:
        if threshold["value"] is not None and _in_view(axes, threshold["value"]):
            axes.axhline(threshold["value"], color=COLOURS.get(threshold["color"], "#999"),
                         linestyle=":", linewidth=1)
    if defaults.get("min") is not None:
        axes.set_ylim(bottom=defaults["min"])
    if defaults.get("max") is not None:
        axes.set_ylim(top=defaults["max"] * 1.05)   # a series at the maximum stays visible
    axes.yaxis.set_major_formatter(_formatter(unit))
    axes.set_ylabel(_unit_label(unit), fontsize=9)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    import matplotlib.dates as mdates

    span = end - start
    axes.xaxis.set_major_formatter(mdates.DateFormatter(
        "%H:%M:%S" if span <= 3600 else "%H:%M" if span <= 2 * 86400 else "%m-%d"))
    axes.margins(x=0)
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        axes.legend(handles[:8], labels[:8], fontsize=7, loc="upper left", framealpha=0.75,
                    ncol=2 if len(handles) > 4 else 1)


def _draw_stat(axes, panel, prometheus, values, start, end, step) -> None:
    defaults = panel["fieldConfig"]["defaults"]
    (expr, _, _), = _exprs(panel, values)
    result = prometheus.instant(expr, end)
    number = sum(_number(s["value"][1]) or 0.0 for s in result) if result else None
    colour = _threshold_colour(defaults.get("thresholds", {}), number)
    axes.set_facecolor(COLOURS.get(colour, colour) if number is not None else "#dddddd")
    axes.set_xticks([])
    axes.set_yticks([])
    shown = defaults.get("noValue", "no data") if number is None else _format(
        number, defaults.get("unit", "none"), defaults.get("decimals"))
    axes.text(0.5, 0.45, shown, ha="center", va="center", fontsize=30, fontweight="bold",
              color="white", transform=axes.transAxes)


def _draw_table(axes, panel, prometheus, values, start, end, step) -> None:
    rows, columns = _table_rows(panel, prometheus, values, end)
    axes.axis("off")
    if not rows:
        _message(axes, "no rows")
        return
    overrides = _column_overrides(panel)
    sort = (panel.get("options", {}).get("sortBy") or [{}])[0]
    key = sort.get("displayName")
    if key in columns:
        present = [r for r in rows if r.get(key) is not None]
        absent = [r for r in rows if r.get(key) is None]
        present.sort(key=lambda r: (isinstance(r[key], str), r[key]),
                     reverse=bool(sort.get("desc")))
        rows = present + absent
    grid = panel["gridPos"]
    shown_rows = max(1, grid["h"] * 2 - 3)
    cells, colours = [], []
    for row in rows[:shown_rows]:
        line, line_colours = [], []
        for column in columns:
            value = row.get(column)
            override = overrides.get(column, {})
            text_, colour = _cell(value, override)
            line.append(text_)
            line_colours.append(colour)
        cells.append(line)
        colours.append(line_colours)
    table = axes.table(cellText=cells, colLabels=columns, cellColours=colours, loc="upper left",
                       cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.25)
    for (r, _), cell in table.get_celld().items():
        cell.set_edgecolor("#dddddd")
        if r == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#eeeeee")
    if len(rows) > shown_rows:
        axes.text(1.0, 0.0, f"{len(rows) - shown_rows} more rows", ha="right", va="bottom",
                  fontsize=8, color="#666666", transform=axes.transAxes)


def _draw_text(axes, panel, prometheus, values, start, end, step) -> None:
    axes.axis("off")
    content = panel.get("options", {}).get("content", "").replace("**", "")
    axes.text(0.0, 0.9, content, ha="left", va="top", fontsize=11, wrap=True,
              transform=axes.transAxes)


_DRAW = {"timeseries": _draw_timeseries, "stat": _draw_stat, "table": _draw_table,
         "text": _draw_text}


# -- tables as Grafana joins them ---------------------------------------------------------


def _table_rows(panel, prometheus, values, at) -> tuple[list[dict[str, Any]], list[str]]:
    """Instant queries merged on their labels, as the panel's merge + organize transforms do:
    label columns first, then one value column per query (renamed)."""
    organize = next((t["options"] for t in panel.get("transformations", [])
                     if t["id"] == "organize"), {})
    hidden = set(organize.get("excludeByName", {}))
    renames = organize.get("renameByName", {})
    targets = _exprs(panel, values)
    single = len(targets) == 1
    rows: dict[tuple, dict[str, Any]] = {}
    labels_seen: list[str] = []
    value_columns: list[str] = []
    results = []
    for expr, _, ref in targets:
        column = renames.get("Value" if single else f"Value #{ref}", f"Value #{ref}")
        value_columns.append(column)
        results.append((column, prometheus.instant(expr, at)))
    # Join on the labels all of a row's series share (Grafana's merge joins on equal label
    # columns; series of different queries carry the same labels here, less the value).
    for _column, series_list in results:
        for series in series_list:
            for label in series["metric"]:
                if label not in hidden and label not in labels_seen:
                    labels_seen.append(label)
    for column, series_list in results:
        for series in series_list:
            labels = {k: v for k, v in series["metric"].items() if k not in hidden}
            key = tuple(sorted((k, v) for k, v in labels.items() if k in labels_seen))
            row = next((r for k, r in rows.items() if _compatible(k, key)), None)
            if row is None:
                row = rows.setdefault(key, dict(labels))
            row.update(labels)
            row[column] = _number(series["value"][1])
    index = organize.get("indexByName", {})
    label_columns = sorted((label for label in labels_seen if label not in renames.values()),
                           key=lambda label: index.get(label, len(index)))
    return list(rows.values()), [*label_columns, *value_columns]


def _compatible(a: tuple, b: tuple) -> bool:
    da, db = dict(a), dict(b)
    shared = set(da) & set(db)
    return bool(shared) and all(da[k] == db[k] for k in shared)


def _column_overrides(panel) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for override in panel["fieldConfig"].get("overrides", []):
        name = override["matcher"]["options"]
        out[name] = {p["id"]: p["value"] for p in override["properties"]}
    return out


def _cell(value: Any, override: Mapping[str, Any]) -> tuple[str, str]:
    if value is None:
        return "", "white"
    if isinstance(value, str):
        return value, "white"
    for mapping in override.get("mappings", []):
        hit = mapping["options"].get(_plain(value))
        if hit is not None:
            return hit["text"], _light(COLOURS.get(hit["color"], hit["color"]))
    text_ = _format(value, override.get("unit", "none"), override.get("decimals"))
    thresholds = override.get("thresholds")
    if thresholds is None:
        return text_, "white"
    colour = _threshold_colour(thresholds, value)
    return text_, _light(COLOURS.get(colour, colour))


# -- numbers and units ---------------------------------------------------------------------


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _threshold_colour(thresholds: Mapping[str, Any], value: float | None) -> str:
    colour = "blue"
    for step in thresholds.get("steps", []):
        if step["value"] is None or (value is not None and value >= step["value"]):
            colour = step["color"]
    return colour


def _light(hex_colour: str) -> str:
    """A cell background: the threshold colour, lightened so the text stays readable."""
    if not hex_colour.startswith("#") or len(hex_colour) != 7:
        return "white"
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(int(c + (255 - c) * 0.55) for c in (r, g, b)))


def _format(value: float, unit: str, decimals: int | None = None) -> str:
    if unit == "percentunit":
        return f"{value * 100:.{1 if decimals is None else max(0, decimals - 2)}f} %"
    if unit == "bytes":
        return _scaled(value, 1024, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"])
    if unit == "Bps":
        return _scaled(value, 1024, ["B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"])
    if unit in ("pps", "reqps"):
        suffix = "p/s" if unit == "pps" else "req/s"
        return f"{value:.{2 if decimals is None else decimals}f} {suffix}"
    if unit == "s":
        return _duration_text(value)
    if unit == "d":
        return f"{value:.{0 if decimals is None else decimals}f} d"
    if unit.startswith("dateTime"):
        return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d")
    if decimals is not None:
        return f"{value:.{decimals}f}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _scaled(value: float, base: int, units: Sequence[str]) -> str:
    index = 0
    while abs(value) >= base and index < len(units) - 1:
        value /= base
        index += 1
    return f"{value:.1f} {units[index]}" if index else f"{value:.0f} {units[0]}"


def _duration_text(seconds: float) -> str:
    for size, name in ((86400 * 365, "y"), (86400, "d"), (3600, "h"), (60, "min")):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f} {name}"
    return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def _formatter(unit: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: _format(value, unit))


def _unit_label(unit: str) -> str:
    return {"percentunit": "percent", "bytes": "bytes", "Bps": "bytes/s", "pps": "packets/s",
            "reqps": "requests/s", "s": "seconds", "d": "days", "none": "count"}.get(unit, unit)


def _in_view(axes, value: float) -> bool:
    low, high = axes.get_ylim()
    return low <= value <= high * 1.5


def _fixed_colours(panel) -> dict[str, str]:
    out = {}
    for override in panel["fieldConfig"].get("overrides", []):
        for prop in override["properties"]:
            if prop["id"] == "color" and prop["value"].get("mode") == "fixed":
                colour = prop["value"]["fixedColor"]
                out[override["matcher"]["options"]] = COLOURS.get(colour, colour)
    return out


def _message(axes, text_: str) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    axes.text(0.5, 0.5, text_, ha="center", va="center", fontsize=10, color="#888888",
              transform=axes.transAxes, wrap=True)


def _human_span(seconds: float) -> str:
    for size, name in ((86400, "days"), (3600, "hours"), (60, "minutes")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {name[:-1] if count == 1 else name}"
    return f"{int(seconds)} seconds"
