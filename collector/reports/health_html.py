"""The monthly health report as one self-contained HTML document (no script, no request),
drawn from its JSON body (collector/reports/health.py); every value escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from collector.reports.html import CSP, STYLE, _table


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def render(body: dict[str, Any]) -> str:
    systems = body["systems"]
    rows = [[s["host"], f"{s['availability'] * 100:.3f}%",
             f"{s['down_seconds'] / 60:.0f} min", s["incidents"]["P1"], s["incidents"]["P2"],
             s["incidents"]["P3"], s["incidents"]["P4"], s["security_updates"],
             "; ".join(f"{e['what']} {e['version'] or ''} {e['status']} {e['date'] or ''}"
                       for e in s["end_of_support"])] for s in systems]
    capacity = body["capacity"]
    if not capacity["available"]:
        capacity_html = (f'<p class="empty" data-section="capacity">Capacity is missing: '
                         f'{escape(capacity["reason"])}.</p>')
    else:
        lines = []
        for host, found in capacity["hosts"].items():
            filesystems = "; ".join(
                f"{mount} {_percent(f.get('used_ratio'))} used"
                + (f", full in {f['days_to_full']:.0f} days" if "days_to_full" in f else "")
                for mount, f in sorted(found["filesystems"].items()))
            lines.append([host, _percent(found.get("memory_used_p95")),
                          _percent(found.get("cpu_utilisation_p50")),
                          _percent(found.get("cpu_utilisation_p95")), filesystems])
        capacity_html = ('<div data-section="capacity">' + _table(
            ["host", "memory used p95", "CPU p50", "CPU p95", "filesystems"], lines,
            "No data for these hosts in Prometheus.") + "</div>")
    title = f"Health report {body['month']}"
    if body.get("group"):
        title += f" for {body['group']}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">{escape(_selection(body))}; end of support as of {escape(body['as_of'])}.
Generated {escape(body['generated_at'])}.</p>
<h2>Systems</h2>
{_table(["host", "availability", "down", "P1", "P2", "P3", "P4", "security updates",
         "end of support"], rows, "No system matches.")}
<h2>Capacity</h2>
{capacity_html}
</body></html>
"""


def _selection(body: dict) -> str:
    if body.get("group"):
        return f"Hosts whose agent pushes the label {body['group']}"
    return f"Hosts {body['host']}"
