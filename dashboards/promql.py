"""What the dashboards need to know about PromQL text without a Prometheus: the metric names an
expression reads, and the expression with Grafana's variables filled in as Grafana would.

Both are used twice: the metric names by the test that every name is exported (docs/metrics.md)
or recorded, the substitution by the preview (`regie dashboards preview`) and by the test that
runs every panel's query against a real Prometheus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# Words of the language that look like names: aggregation modifiers, set operators, keywords.
_KEYWORDS = frozenset({
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan", "atan2",
    # Aggregations, which may stand before their `by (...)` rather than their parenthesis.
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile",
})
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
# by (a, b) / without (...) / on (...) / ignoring (...) / group_left (...) / group_right (...)
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_NAME = re.compile(r"(?<![\w$.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_NUMBER_WORD = re.compile(r"^(?:0x[0-9a-fA-F]+|\d)")
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def metric_names(expr: str) -> set[str]:
    """The metric names `expr` selects, e.g. {"regie_cpu_seconds_total"} for
    ``sum by (host) (rate(regie_cpu_seconds_total{mode!="idle"}[5m]))``.

    Strings, label matchers, range and offset durations, label lists and function names are
    stripped first; what is left that looks like a name and is no keyword is a metric."""
    text = _STRING.sub('""', expr)
    text = _VARIABLE.sub("1", text)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _LABEL_LIST.sub(r"\1", text)
    text = re.sub(r"\boffset\s+-?\w+", "", text)
    names = set()
    for match in _NAME.finditer(text):
        word = match.group(1)
        if word.lower() in _KEYWORDS or _NUMBER_WORD.match(word):
            continue
        names.add(word)
    return names


def variables_used(text: str) -> set[str]:
    """Names of the `$var` / `${var}` references in `text` (Grafana's own `$__...` included)."""
    return {a or b for a, b in _VARIABLE.findall(text)}


def regex_of(values: Sequence[str]) -> str:
    """A multi-value variable as Grafana formats it for Prometheus: an escaped alternation."""
    escaped = [re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """`expr` with every `$name` / `${name}` replaced by `values[name]` (KeyError when one is
    missing: a query that names an undefined variable fails here, not in Grafana)."""
    def one(match: re.Match[str]) -> str:
        return values[match.group(1) or match.group(2)]

    return _VARIABLE.sub(one, expr)


def grafana_builtins(*, range_seconds: float, step_seconds: float,
                     scrape_interval_seconds: float) -> dict[str, str]:
    """Grafana's own variables for a query over `range_seconds` at `step_seconds`:
    `$__rate_interval` is max(4 x scrape interval, step + scrape interval), as Grafana computes
    it for a Prometheus data source whose scrape interval is set."""
    rate = max(4 * scrape_interval_seconds, step_seconds + scrape_interval_seconds)
    return {
        "__rate_interval": duration(rate),
        "__interval": duration(step_seconds),
        "__range": duration(range_seconds),
        "__range_s": str(int(range_seconds)),
    }


def duration(seconds: float) -> str:
    """Seconds as a Prometheus duration, whole seconds at least (1s)."""
    return f"{max(1, round(seconds))}s"
