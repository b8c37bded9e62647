"""Alert text templates that render the same in the embedded evaluator and in Prometheus.

The syntax is deliberately small (alerting/rules.py documents it): `{{ host }}`, `{{ value }}`,
`{{ labels.NAME }}`, optionally piped through one of Prometheus's humanize functions. Numbers
are formatted as Go formats them and the humanize functions are ports of Prometheus's
`template/template.go`, so a rule's summary reads the same whichever path fired it.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

# Labels Prometheus adds at scrape time; the embedded evaluator never sees them.
SCRAPE_LABELS = frozenset({"instance", "job"})

# --------------------------------------------------------------------------- templates

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_FIELD = re.compile(r"\s*(host|value|labels\.([a-zA-Z_][a-zA-Z0-9_]*))\s*(?:\|\s*(\w+)\s*)?")
FIELDS = ("host", "value", "labels.NAME")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``{{ ... }}`` of a template: field "host", "value" or "labels"."""

    field: str
    label: str = ""
    function: str = ""


@functools.lru_cache(maxsize=512)
def template_parts(template: str) -> tuple[str | Placeholder, ...]:
    """Split a template into literal text and placeholders, or raise ValueError with the reason."""
    parts: list[str | Placeholder] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > pos:
            parts.append(template[pos:match.start()])
        parts.append(_placeholder(match.group(1)))
        pos = match.end()
    rest = template[pos:]
    if "{{" in rest:
        raise ValueError("'{{' without a closing '}}'")
    if rest:
        parts.append(rest)
    return tuple(parts)


def _placeholder(inner: str) -> Placeholder:
    match = _FIELD.fullmatch(inner)
    if not match:
        word = inner.strip().split("|")[0].strip()
        close = difflib.get_close_matches(word, ["host", "value", "labels."], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown field {{{{{inner}}}}}{hint}; "
                         f"fields are {', '.join(FIELDS)}, optionally 'value | FUNCTION'")
    name, label, function = match.group(1), match.group(2), match.group(3) or ""
    if label in SCRAPE_LABELS:
        raise ValueError(f"labels.{label} exists only in Prometheus; use {{{{ host }}}}")
    if function:
        if name != "value":
            raise ValueError(f"functions apply to value only, not to {name}")
        if function not in VALUE_FUNCTIONS:
            raise ValueError(f"unknown function {function!r}; "
                             f"known: {', '.join(VALUE_FUNCTIONS)}")
    if label:
        return Placeholder("labels", label=label)
    return Placeholder(name, function=function)


def render(template: str, *, host: str, value: float, labels: Mapping[str, str]) -> str:
    """Expand a template as Prometheus would; a missing label renders as ''."""
    out = []
    for part in template_parts(template):
        if isinstance(part, str):
            out.append(part)
        elif part.field == "host":
            out.append(host)
        elif part.field == "labels":
            out.append(labels.get(part.label, ""))
        else:
            out.append(VALUE_FUNCTIONS[part.function](value) if part.function
                       else go_float(value))
    return "".join(out)


def _go_special(v: float) -> str | None:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return None


def go_float(v: float) -> str:
    """`v` as Go's ``fmt.Sprint(float64)`` writes it, which is what ``{{ $value }}`` shows:
    the shortest digits that read back exactly (as Python's repr), in %e form when the
    exponent is below -4 or 6 and above (``1.234567e+06``, ``123456``, ``1e-05``)."""
    special = _go_special(v)
    if special:
        return special
    if v == 0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(v)).as_tuple()
    all_digits = "".join(map(str, digit_tuple))
    digits = all_digits.rstrip("0")
    point = len(all_digits) + int(exponent)   # where the decimal point falls in `digits`
    exp10 = point - 1
    prefix = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{prefix}{digits}{'0' * (point - len(digits))}"
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def _g4(v: float) -> str:
    """Go's ``%.4g`` (C's, except for NaN and infinities)."""
    return _go_special(v) or f"{v:.4g}"


def humanize(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return f"{_g4(v)}{prefix}"
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}"


def humanize1024(v: float) -> str:
    if abs(v) <= 1 or not math.isfinite(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return f"{_g4(v)}{prefix}"


def humanize_percentage(v: float) -> str:
    return f"{_g4(v * 100)}%"


def humanize_duration(v: float) -> str:
    if not math.isfinite(v):
        return _g4(v)
    if v == 0:
        return f"{_g4(v)}s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        whole = int(v)
        seconds, minutes = whole % 60, (whole // 60) % 60
        hours, days = (whole // 3600) % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


# Prometheus's names, so the export is a plain rename (template/template.go).
VALUE_FUNCTIONS: dict[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}
