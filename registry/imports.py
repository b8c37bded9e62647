"""Hardware model lifecycle, assets and contracts from CSV or YAML files.

endoflife.date has no server hardware, so vendors' end-of-sale / end-of-support (EOSL) dates,
the asset list and warranty and support contracts come from files an operator keeps (often an
export of a CMDB or a spreadsheet). Pure: text in, records out; every problem is an
`ImportError_` naming the file, the row (or YAML item) and the column, and nothing is imported
from a file with any problem.

CSV: a header row with the column names below (order free, extra columns refused, `#`
comment lines allowed). YAML: a list of mappings with the same keys.

| kind | required | optional |
|---|---|---|
| hardware | vendor, model | end_of_sale, end_of_support, note |
| assets | name | vendor, model, serial |
| contracts | asset, vendor, number, end_date | kind (support), renewal (pending), owner |
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

RENEWAL = ("pending", "in-progress", "renewed", "not-renewing")
CONTRACT_KINDS = ("support", "warranty")


class ImportProblem(ValueError):
    def __init__(self, source: str, where: str, reason: str) -> None:
        super().__init__(f"{source}: {where}: {reason}")
        self.source = source
        self.where = where
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class HardwareModel:
    vendor: str
    model: str
    end_of_sale: date | None = None
    end_of_support: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    name: str
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractRecord:
    asset: str
    vendor: str
    number: str
    end_date: date
    kind: str = "support"
    renewal: str = "pending"
    owner: str | None = None


def _text(value: Any, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError("is required")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("must be text")
    text = str(value).strip()
    if len(text) > 255:
        raise ValueError("longer than 255 characters")
    return text


def _date(value: Any, *, required: bool) -> date | None:
    if isinstance(value, date):
        return value
    text = _text(value, required=required)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _choice(options: Sequence[str], default: str) -> Callable[..., str]:
    def parse(value: Any, *, required: bool) -> str:
        text = _text(value, required=False)
        if text is None:
            return default
        if text.lower() not in options:
            raise ValueError(f"{text!r} is not one of {', '.join(options)}")
        return text.lower()

    return parse


@dataclass(frozen=True, slots=True)
class Kind:
    columns: Mapping[str, tuple[Callable[..., Any], bool]]   # name -> (parser, required)
    build: Callable[..., Any]


KINDS: Mapping[str, Kind] = {
    "hardware": Kind({"vendor": (_text, True), "model": (_text, True),
                      "end_of_sale": (_date, False), "end_of_support": (_date, False),
                      "note": (_text, False)}, HardwareModel),
    "assets": Kind({"name": (_text, True), "vendor": (_text, False), "model": (_text, False),
                    "serial": (_text, False)}, Asset),
    "contracts": Kind({"asset": (_text, True), "vendor": (_text, True),
                       "number": (_text, True), "end_date": (_date, True),
                       "kind": (_choice(CONTRACT_KINDS, "support"), False),
                       "renewal": (_choice(RENEWAL, "pending"), False),
                       "owner": (_text, False)}, ContractRecord),
}


def parse_records(kind: str, text: str, *, source: str, yaml_format: bool | None = None
                  ) -> list[Any]:
    """Records of `kind` from CSV or YAML text (by `source`'s suffix unless told)."""
    spec = KINDS[kind]
    if yaml_format is None:
        yaml_format = source.lower().endswith((".yml", ".yaml"))
    items = _yaml_items(text, source) if yaml_format else _csv_items(text, source, spec)
    records = []
    seen: dict[tuple, str] = {}
    for where, item in items:
        unknown = sorted(set(item) - set(spec.columns))
        if unknown:
            raise ImportProblem(source, where, f"unknown column {unknown[0]!r}; columns: "
                                               f"{', '.join(spec.columns)}")
        values = {}
        for name, (parse, required) in spec.columns.items():
            try:
                values[name] = parse(item.get(name), required=required)
            except ValueError as exc:
                raise ImportProblem(source, f"{where}: {name}", str(exc)) from None
        record = spec.build(**values)
        key = _key(kind, record)
        if key in seen:
            raise ImportProblem(source, where, f"duplicate of {seen[key]} ({', '.join(key)})")
        seen[key] = where
        records.append(record)
    return records


def _key(kind: str, record: Any) -> tuple:
    if kind == "hardware":
        return (record.vendor.lower(), record.model.lower())
    if kind == "assets":
        return (record.name,)
    return (record.asset, record.vendor, record.number)


def _csv_items(text: str, source: str, spec: Kind) -> list[tuple[str, dict[str, Any]]]:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), restkey="\x00extra")
    if not reader.fieldnames:
        raise ImportProblem(source, "header", "empty file: expected a header row with "
                                              + ", ".join(spec.columns))
    header = [name.strip() for name in reader.fieldnames]
    missing = [c for c, (_, required) in spec.columns.items() if required and c not in header]
    if missing:
        raise ImportProblem(source, "header", f"missing column {missing[0]!r}")
    out = []
    for number, row in enumerate(reader, start=2):
        if "\x00extra" in row:
            raise ImportProblem(source, f"row {number}", "more fields than the header has")
        out.append((f"row {number}", {k.strip(): v for k, v in row.items() if k is not None}))
    return out


def _yaml_items(text: str, source: str) -> list[tuple[str, dict[str, Any]]]:
    import yaml

    from regie import yaml_documents

    try:
        data = yaml_documents.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        raise ImportProblem(source, where, f"invalid YAML: "
                                           f"{getattr(exc, 'problem', None) or exc}") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise ImportProblem(source, "(top)", "must be a list of records")
    out = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ImportProblem(source, f"item {index + 1}", "must be a mapping")
        out.append((f"item {index + 1}", {str(k): v for k, v in item.items()}))
    return out
