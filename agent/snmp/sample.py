"""One poll of one SNMP target as plain, frozen data, and its construction from raw rows.

Pure: `build_sample()` takes the values the poller read (already converted from pysnmp types to
int / str / None, keyed by the `field` names in oids.py) and returns a `Sample`. No pysnmp
here, so metrics.py and the tests of this logic stay light.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Value = int | str | None
# Row index (the OID suffix, "3" or "1.4") -> field -> value.
Table = Mapping[str, Mapping[str, Value]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemInfo:
    descr: str
    object_id: str
    name: str
    uptime_seconds: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Interface:
    index: str
    name: str
    # The raw IF-MIB ifOperStatus: 1 up, 2 down, 3 testing, 4 unknown, 5 dormant,
    # 6 notPresent, 7 lowerLayerDown.
    oper_status: int | None
    in_octets: int | None
    out_octets: int | None
    in_errors: int | None
    out_errors: int | None
    in_discards: int | None
    out_discards: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Storage:
    index: str
    descr: str
    size_bytes: int
    used_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Processor:
    index: str
    load_ratio: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    # The target's configured name: the only identity that reaches labels and logs.
    target: str
    up: bool
    duration_seconds: float
    # Why the poll failed, already free of credentials; None when up.
    error: str | None = None
    system: SystemInfo | None = None
    interfaces: tuple[Interface, ...] = ()
    storage: tuple[Storage, ...] = ()
    processors: tuple[Processor, ...] = ()


def failed(target: str, *, duration_seconds: float, error: str) -> Sample:
    return Sample(target=target, up=False, duration_seconds=duration_seconds, error=error)


def build_sample(target: str, *, duration_seconds: float, system: Mapping[str, Value],
                 tables: Mapping[str, Table]) -> Sample:
    return Sample(
        target=target,
        up=True,
        duration_seconds=duration_seconds,
        system=_system(system),
        interfaces=tuple(_interface(i, row) for i, row in _rows(tables.get("interfaces"))),
        storage=tuple(s for i, row in _rows(tables.get("storage"))
                      if (s := _storage(i, row)) is not None),
        processors=tuple(p for i, row in _rows(tables.get("processors"))
                         if (p := _processor(i, row)) is not None),
    )


def _rows(table: Table | None) -> list[tuple[str, Mapping[str, Value]]]:
    """Rows in numeric index order (so "10" sorts after "9")."""
    return sorted((table or {}).items(), key=lambda item: _index_key(item[0]))


def _index_key(index: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in index.split("."))
    except ValueError:
        return ()


def _int(value: Value) -> int | None:
    return value if isinstance(value, int) else None


def _text(value: Value) -> str:
    return value if isinstance(value, str) else ""


def _system(values: Mapping[str, Value]) -> SystemInfo:
    ticks = _int(values.get("uptime"))
    return SystemInfo(
        descr=_text(values.get("descr")),
        object_id=_text(values.get("object_id")),
        name=_text(values.get("name")),
        uptime_seconds=ticks / 100 if ticks is not None else None,
    )


def _first(row: Mapping[str, Value], *fields: str) -> int | None:
    for field in fields:
        value = _int(row.get(field))
        if value is not None:
            return value
    return None


def _interface(index: str, row: Mapping[str, Value]) -> Interface:
    return Interface(
        index=index,
        # ifName is the short name ("eth0", "Gi0/1"); ifDescr is often a product string.
        name=_text(row.get("name")) or _text(row.get("descr")) or index,
        oper_status=_int(row.get("oper_status")),
        # The 64-bit counters when the agent has them: a 32-bit octet counter wraps in
        # 34 s at 1 Gbit/s, faster than most polling intervals (RFC 2863 section 3.1.6).
        in_octets=_first(row, "hc_in_octets", "in_octets"),
        out_octets=_first(row, "hc_out_octets", "out_octets"),
        in_errors=_int(row.get("in_errors")),
        out_errors=_int(row.get("out_errors")),
        in_discards=_int(row.get("in_discards")),
        out_discards=_int(row.get("out_discards")),
    )


def _storage(index: str, row: Mapping[str, Value]) -> Storage | None:
    units, size, used = (_int(row.get(k)) for k in ("units", "size", "used"))
    # Agents report negative sizes when a large filesystem overflows Integer32: skip them
    # rather than expose a nonsense value.
    if units is None or size is None or used is None or min(units, size, used) < 0:
        return None
    return Storage(index=index, descr=_text(row.get("descr")) or index,
                   size_bytes=size * units, used_bytes=used * units)


def _processor(index: str, row: Mapping[str, Value]) -> Processor | None:
    load = _int(row.get("load"))
    if load is None:
        return None
    return Processor(index=index, load_ratio=load / 100)
