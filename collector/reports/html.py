"""The governance review as one self-contained HTML document (docs/reports.md).

Drawn from the report's JSON body (collector/reports/governance.py): a one-page summary first
(the signals, three key charts), the details after (every chart, the tables). Styles are
inline, charts are inline SVG: the file opens anywhere, offline, and requests nothing. Every
value from the store is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from collector.reports.charts import CHARTS

# Nothing may be fetched: a request the page tries to make is refused (and shows as an error).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
SUMMARY_CHARTS = ("eos-timeline", "p2-pareto", "response-times")

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5em; color: #222;
       max-width: 60em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.2em; }
.meta { color: #555; font-size: 0.9em; }
ol.signals li { margin: 0.3em 0; } .how { color: #666; font-size: 0.8em; display: block; }
figure { margin: 0.6em 0; break-inside: avoid; } figure svg { width: 100%; height: auto; }
figure.small svg { max-height: 15em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border-bottom: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
.empty { color: #666; font-style: italic; }
section.summary { break-after: page; }
.summary-charts { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5em; }
.summary-charts figure:last-child { grid-column: 1 / span 2; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 9pt; max-width: none; }
  ol.signals li { margin: 0.15em 0; } .how { font-size: 7pt; }
  figure.small svg { max-height: 6cm; }
  tr { break-inside: avoid; } thead { display: table-header-group; }
}
"""


def _table(headers: list[str], rows: list[list[Any]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>"
                                    for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(name: str, title: str, svg: str, small: bool = False) -> str:
    # matplotlib's SVG is our own output (text escaped by matplotlib); the title is escaped.
    return (f'<figure class="chart{" small" if small else ""}" data-chart="{name}" '
            f'aria-label="{escape(title)}">{svg}</figure>')


def _days(seconds: float | None, unit: float, suffix: str) -> str:
    return "" if seconds is None else f"{seconds / unit:.1f} {suffix}"


def render(body: dict[str, Any]) -> str:
    period = body["period"]
    charts = {name: draw(body) for name, draw in CHARTS}
    signals = body["signals"]
    if signals:
        items = "".join(f'<li data-rule="{escape(s["rule"])}">{escape(s["sentence"])}'
                        f'<span class="how">rule: {escape(s["how"])}</span></li>'
                        for s in signals)
        signal_html = f'<ol class="signals">{items}</ol>'
    else:
        signal_html = '<p class="empty">The data says nothing notable for this period.</p>'
    summary = "".join(_figure(n, *charts[n], small=True) for n in SUMMARY_CHARTS)
    details = "".join(_figure(n, *charts[n]) for n, _ in CHARTS)
    current, previous = body["response_times"]["current"], body["response_times"]["previous"]
    times = [[p, current[p]["tickets"], _days(current[p]["mtta_seconds"], 60, "min"),
              _days(previous[p]["mtta_seconds"], 60, "min"),
              _days(current[p]["mttr_seconds"], 3600, "h"),
              _days(previous[p]["mttr_seconds"], 3600, "h")] for p in current]
    eos = [[i["host"], f"{i['what']} {i['version'] or ''}".strip(), i["date"] or "unknown",
            i["status"], i["days_remaining"]] for i in body["end_of_support"]]
    components = [[c["component"], c["tickets"], c["P1"], c["P2"], c["P3"], c["P4"]]
                  for c in body["top_components"]]
    contracts = [[c["contract"], c["vendor"], c["host"], c["date"], c["renewal"],
                  c["owner"] or ""] for c in body["contracts_due"]]
    hardware = [[i["host"], i["what"], i["date"], i["status"]] for i in body["hardware_due"]]
    escalations = body["escalations"]
    patch = body["patch_lag"]
    patch_html = (
        '<p class="empty">No data: no patch change was planned in this period.</p>'
        if patch is None else
        f"<p>{patch['changes']} patch change(s), {patch['hosts_applied']} host(s) applied; "
        f"mean lag {patch['mean_days'] if patch['mean_days'] is not None else '-'} days.</p>")
    cases = body["vendor_cases"]
    cases_html = ('<p class="empty">No data: no vendor case is waiting on anyone.</p>'
                  if cases is None else
                  _table(["vendor", "case", "status", "age (days)", "summary"],
                         [[c["vendor"], c["case_number"], c["status"], c["age_days"],
                           c["summary"]] for c in cases], ""))
    changes = body["changes_with_incidents"]
    changes_html = ('<p class="empty">No data: no change failed or was rolled back in this '
                    'period.</p>' if changes is None else
                    _table(["change", "outcome", "incidents", "summary"],
                           [[c["id"], c["outcome"], c["incidents"], c["summary"]]
                            for c in changes], ""))
    title = f"Governance review {period['label']}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{escape(title)}</title><style>{STYLE}</style></head>
<body>
<section class="summary">
<h1>{escape(title)}</h1>
<p class="meta">{escape(period['start'])} to {escape(period['end'])}; compared with
{escape(body['previous']['label'])}; looking ahead to {escape(body['next']['label'])};
end of support as of {escape(body['as_of'])}. Generated {escape(body['generated_at'])}.</p>
<h2>Signals</h2>
{signal_html}
<div class="summary-charts">{summary}</div>
</section>
<section class="details">
<h2>Charts</h2>
{details}
<h2>Response times per priority</h2>
{_table(["priority", "tickets", "MTTA", "MTTA before", "MTTR", "MTTR before"], times, "")}
<h2>Escalations and notifications</h2>
<p>{escalations['to_escalation_manager']} ticket(s) reached the escalation manager;
{escalations['acknowledgements_expired']} acknowledgement(s) expired;
{escalations['dead_letters']} notification(s) dead-lettered.</p>
<h2>Systems past or near end of support</h2>
{_table(["host", "product", "date", "status", "days left"], eos,
        "No system is past or near end of support.")}
<h2>Top components by incidents</h2>
{_table(["component", "tickets", "P1", "P2", "P3", "P4"], components, "No tickets.")}
<h2>Contracts due by the end of {escape(body['next']['label'])}</h2>
{_table(["contract", "vendor", "covers", "ends", "renewal", "owner"], contracts,
        "No contract ends unrenewed.")}
<h2>Hardware end of support by the end of {escape(body['next']['label'])}</h2>
{_table(["asset", "model", "EOSL", "status"], hardware, "No hardware reaches end of support.")}
<h2>Patch lag</h2>
{patch_html}
<h2>Vendor cases</h2>
{cases_html}
<h2>Changes that caused incidents</h2>
{changes_html}
</section>
</body></html>
"""
