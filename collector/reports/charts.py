"""The governance review's charts: matplotlib figures rendered to SVG text for inline use.

Each chart takes the report's JSON body (collector/reports/governance.py) and returns
(title, svg). Titles state the finding; axes carry their units. Text stays text in the SVG
(`svg.fonttype: none`) so the titles are searchable and print sharply; no external asset is
referenced. A chart without data still renders, its title saying so.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

PRIORITY_COLOURS = {"P1": "#b2182b", "P2": "#ef8a62", "P3": "#67a9cf", "P4": "#2166ac"}


class MaxNLocator:
    """matplotlib.ticker.MaxNLocator, imported when a chart is drawn."""

    def __new__(cls, **kwargs):
        from matplotlib.ticker import MaxNLocator as locator

        return locator(**kwargs)


def _figure(width: float = 7.5, height: float = 3.4):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    pyplot.rcParams.update({"svg.fonttype": "none", "font.size": 9,
                            "axes.spines.top": False, "axes.spines.right": False,
                            "svg.hashsalt": "regie"})
    return pyplot.subplots(figsize=(width, height))


def _svg(fig) -> str:
    from matplotlib import pyplot

    buffer = io.StringIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    pyplot.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]   # inline: no XML declaration or DOCTYPE
    # The RDF metadata block only names its vocabularies (URLs a reader might follow).
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.DOTALL)


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def eos_timeline(body: dict[str, Any]) -> tuple[str, str]:
    items = body["end_of_support"]
    hosts_by_month: dict[str, set[str]] = defaultdict(set)
    as_of = date.fromisoformat(body["as_of"])
    for item in items:
        key = "past" if item["status"] == "past" else (item["date"] or "")[:7]
        hosts_by_month[key].add(item["host"])
    past = len(hosts_by_month.pop("past", set()))
    near = len({i["host"] for i in items if i["status"] == "near"})
    systems = f"{near} system{' reaches' if near == 1 else 's reach'}"
    title = (f"{systems} end of support within the horizon, {past} already past"
             if items else "No system past or near end of support")
    fig, ax = _figure()
    if items:
        months = sorted(hosts_by_month)
        labels = ["past", *months]
        values = [past] + [len(hosts_by_month[m]) for m in months]
        colours = ["#b2182b"] + ["#ef8a62"] * len(months)
        ax.bar(labels, values, color=colours)
        ax.set_xlabel(f"month support ends (from {as_of.isoformat()})")
        ax.set_ylabel("systems (hosts)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelrotation=45)
    else:
        _empty(ax, "nothing past or within the horizon")
    ax.set_title(title)
    return title, _svg(fig)


def p2_pareto(body: dict[str, Any]) -> tuple[str, str]:
    rows = body["pareto_p2"][:10]
    fig, ax = _figure()
    if rows:
        top = rows[0]
        title = (f"{round(top['share'] * 100)}% of P2 incidents concern {top['component']}")
        ax.bar([r["component"] for r in rows], [r["tickets"] for r in rows], color="#ef8a62")
        ax.set_ylabel("P2 tickets (count)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("component")
        ax.tick_params(axis="x", labelrotation=30)
        line = ax.twinx()
        line.plot([r["component"] for r in rows], [r["cumulative"] * 100 for r in rows],
                  color="#333333", marker="o")
        line.set_ylim(0, 105)
        line.set_ylabel("cumulative share (%)")
    else:
        title = "No P2 incidents in the period"
        _empty(ax, "no P2 tickets")
    ax.set_title(title)
    return title, _svg(fig)


def response_times(body: dict[str, Any]) -> tuple[str, str]:
    rows = body["response_times"]["by_month"]
    current = body["response_times"]["current"]
    _figure(0.1, 0.1)   # the style; this figure is not used
    from matplotlib import pyplot

    pyplot.close("all")
    fig, (left, right) = pyplot.subplots(1, 2, figsize=(7.5, 3.2))
    measured = [p for p in ("P1", "P2") if current[p]["mtta_seconds"] is not None]
    if measured:
        p = measured[0]
        title = (f"{p} mean time to acknowledge {current[p]['mtta_seconds'] / 60:.0f} min, "
                 f"to resolve {(current[p]['mttr_seconds'] or 0) / 3600:.1f} h")
    else:
        title = "No P1 or P2 ticket acknowledged in the period"
    months = sorted({r["month"] for r in rows})
    for ax, key, unit, scale in ((left, "mtta_seconds", "MTTA (minutes)", 60),
                                 (right, "mttr_seconds", "MTTR (hours)", 3600)):
        drawn = False
        for priority, colour in PRIORITY_COLOURS.items():
            points = [(r["month"], r[key] / scale) for r in rows
                      if r["priority"] == priority and r[key] is not None]
            if points:
                drawn = True
                ax.plot([months.index(m) for m, _ in points], [v for _, v in points],
                        marker="o", color=colour, label=priority)
        if drawn:
            ax.set_xticks(range(len(months)), months)
            ax.set_xlabel("month opened")
            ax.set_ylabel(unit)
            ax.legend(fontsize=7)
        else:
            _empty(ax, "no data")
        ax.set_title(unit.split()[0] + " per priority")
    fig.suptitle(title)
    return title, _svg(fig)


def weekly_volume(body: dict[str, Any]) -> tuple[str, str]:
    rows = body["weekly_volume"]
    total = body["tickets"]["total"]
    monitoring = body["tickets"]["by_source"].get("monitoring", 0)
    fig, ax = _figure()
    if rows:
        title = (f"{total} tickets, {round(monitoring / total * 100)}% from monitoring")
        weeks = sorted({r["week"] for r in rows})
        bottom = [0] * len(weeks)
        for source, hatch in (("monitoring", ""), ("user", "//")):
            for priority, colour in PRIORITY_COLOURS.items():
                values = [sum(r["tickets"] for r in rows if r["week"] == w
                              and r["source"] == source and r["priority"] == priority)
                          for w in weeks]
                if not any(values):
                    continue
                ax.bar(range(len(weeks)), values, bottom=bottom, color=colour, hatch=hatch,
                       edgecolor="white", label=f"{priority} {source}")
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_xticks(range(len(weeks)), [w[5:] for w in weeks], rotation=45)
        ax.set_xlabel("week starting (month-day)")
        ax.set_ylabel("tickets per week (count)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7, ncols=2)
    else:
        title = "No tickets in the period"
        _empty(ax, "no tickets")
    ax.set_title(title)
    return title, _svg(fig)


# The charts in the order the report shows them; the first three are on the summary page.
CHARTS: tuple[tuple[str, Callable[[dict[str, Any]], tuple[str, str]]], ...] = (
    ("eos-timeline", eos_timeline),
    ("p2-pareto", p2_pareto),
    ("response-times", response_times),
    ("weekly-volume", weekly_volume),
)
