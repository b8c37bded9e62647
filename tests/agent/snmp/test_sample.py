"""Building a Sample from raw rows (pure: no snmpd, no pysnmp)."""

from __future__ import annotations

import pytest

from agent.snmp.sample import Interface, Processor, Storage, build_sample, failed


def _interfaces(row: dict) -> tuple[Interface, ...]:
    return build_sample("t", duration_seconds=0.1, system={},
                        tables={"interfaces": {"1": row}}).interfaces


@pytest.mark.parametrize(("row", "in_octets", "out_octets"), [
    # 64-bit counters win when the agent has ifXTable...
    ({"in_octets": 5, "out_octets": 6, "hc_in_octets": 2**40, "hc_out_octets": 2**41},
     2**40, 2**41),
    # ...and a zero from them is still a value, not a reason to fall back.
    ({"in_octets": 5, "out_octets": 6, "hc_in_octets": 0, "hc_out_octets": 0}, 0, 0),
    # No ifXTable (or SNMPv1): the 32-bit counters.
    ({"in_octets": 5, "out_octets": 6}, 5, 6),
    # noSuchInstance on both: no value, so no series.
    ({"in_octets": None, "hc_in_octets": None}, None, None),
])
def test_octets_prefer_64_bit_counters(row, in_octets, out_octets):
    (interface,) = _interfaces(row)
    assert (interface.in_octets, interface.out_octets) == (in_octets, out_octets)


@pytest.mark.parametrize(("row", "name"), [
    ({"name": "eth0", "descr": "Intel Corporation 82540EM"}, "eth0"),
    ({"name": "", "descr": "lo"}, "lo"),
    ({"descr": "lo"}, "lo"),
    ({}, "1"),
])
def test_interface_name_prefers_ifname(row, name):
    (interface,) = _interfaces(row)
    assert interface.name == name


def test_interface_counters_and_status_pass_through():
    (interface,) = _interfaces({"oper_status": 2, "in_errors": 1, "out_errors": 2,
                                "in_discards": 3, "out_discards": 4})
    assert interface == Interface(index="1", name="1", oper_status=2, in_octets=None,
                                  out_octets=None, in_errors=1, out_errors=2, in_discards=3,
                                  out_discards=4)


@pytest.mark.parametrize(("row", "expected"), [
    ({"descr": "/", "units": 4096, "size": 1000, "used": 250},
     Storage(index="7", descr="/", size_bytes=4_096_000, used_bytes=1_024_000)),
    ({"descr": "", "units": 1024, "size": 2, "used": 1},
     Storage(index="7", descr="7", size_bytes=2048, used_bytes=1024)),
    # Integer32 overflow on a large filesystem, or a missing column: no row.
    ({"descr": "/big", "units": 4096, "size": -5, "used": 1}, None),
    ({"descr": "/", "units": None, "size": 1, "used": 1}, None),
    ({"descr": "/", "units": 4096, "size": 1}, None),
])
def test_storage_in_bytes(row, expected):
    sample = build_sample("t", duration_seconds=0.1, system={},
                          tables={"storage": {"7": row}})
    assert sample.storage == ((expected,) if expected else ())


@pytest.mark.parametrize(("load", "expected"), [
    (0, (Processor(index="196608", load_ratio=0.0),)),
    (37, (Processor(index="196608", load_ratio=0.37),)),
    (100, (Processor(index="196608", load_ratio=1.0),)),
    (None, ()),
])
def test_processor_load_is_a_ratio(load, expected):
    sample = build_sample("t", duration_seconds=0.1, system={},
                          tables={"processors": {"196608": {"load": load}}})
    assert sample.processors == expected


@pytest.mark.parametrize(("ticks", "seconds"), [(12345, 123.45), (0, 0.0), (None, None)])
def test_uptime_from_timeticks(ticks, seconds):
    sample = build_sample("t", duration_seconds=0.1,
                          system={"descr": "d", "object_id": "1.3.6.1.4.1.8072.3.2.10",
                                  "name": "n", "uptime": ticks}, tables={})
    assert sample.system is not None
    assert sample.system.uptime_seconds == seconds
    assert (sample.system.descr, sample.system.name) == ("d", "n")


def test_rows_sort_by_numeric_index():
    rows = {str(i): {"descr": f"if{i}"} for i in (10, 2, 1, 33)}
    sample = build_sample("t", duration_seconds=0.1, system={}, tables={"interfaces": rows})
    assert [i.index for i in sample.interfaces] == ["1", "2", "10", "33"]


def test_failed_sample_has_only_the_reason():
    sample = failed("t", duration_seconds=1.0, error="timeout")
    assert (sample.up, sample.error, sample.system, sample.interfaces) == (
        False, "timeout", None, ())
