"""registry/lifecycle.py: horizons and which support date applies, as tables."""

from __future__ import annotations

from datetime import date

import pytest

from registry.lifecycle import (
    Contract,
    Hardware,
    Software,
    Status,
    Support,
    contract_items,
    hardware_items,
    horizon_end,
    is_past,
    parse_horizon,
    software_items,
    software_status,
)

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(("horizon", "end"), [
    ("8m", date(2027, 7, 29)),
    ("90d", date(2027, 2, 27)),
    ("2w", date(2026, 12, 13)),
    ("1y", date(2027, 11, 29)),
    ("3m", date(2027, 2, 28)),      # 29 February 2027 does not exist: the month's last day
    ("0d", TODAY),
])
def test_horizon_end(horizon, end):
    assert horizon_end(TODAY, horizon) == end


@pytest.mark.parametrize("bad", ["8", "m", "8 months", "-1m", "1.5y", "", "8x"])
def test_bad_horizons_say_what_is_accepted(bad):
    with pytest.raises(ValueError, match="such as 90d, 6w, 8m or 1y"):
        parse_horizon(bad)


def sw(eol=None, flag=None, eoes=None, cycle="12", product="debian") -> Software:
    return Software(host="h1", product=product, cycle=cycle, category="os", eol_date=eol,
                    eol_flag=flag, eoes_date=eoes)


UNTIL = horizon_end(TODAY, "8m")


@pytest.mark.parametrize(("row", "applies", "kind", "status"), [
    # security support ahead, beyond the horizon
    (sw(eol=date(2028, 6, 30)), date(2028, 6, 30), Support.SECURITY, Status.LATER),
    # security support ends within 8 months
    (sw(eol=date(2027, 4, 1)), date(2027, 4, 1), Support.SECURITY, Status.NEAR),
    # security support over, no extended support: past
    (sw(eol=date(2026, 7, 11)), date(2026, 7, 11), Support.SECURITY, Status.PAST),
    # security over, extended (e.g. Debian LTS) runs beyond the horizon
    (sw(eol=date(2026, 7, 11), eoes=date(2028, 6, 30)), date(2028, 6, 30), Support.EXTENDED,
     Status.EXTENDED),
    # security over, extended ends within the horizon
    (sw(eol=date(2026, 7, 11), eoes=date(2027, 1, 31)), date(2027, 1, 31), Support.EXTENDED,
     Status.NEAR),
    # both over
    (sw(eol=date(2020, 1, 1), eoes=date(2024, 6, 30)), date(2024, 6, 30), Support.EXTENDED,
     Status.PAST),
    # EOL, date unknown
    (sw(flag=True), None, Support.SECURITY, Status.PAST),
    # not EOL, no date announced
    (sw(flag=False), None, Support.SECURITY, Status.UNKNOWN),
    # ends today: past (support ends at the start of the day given)
    (sw(eol=TODAY), TODAY, Support.SECURITY, Status.PAST),
])
def test_which_date_applies(row, applies, kind, status):
    assert software_status(row, TODAY, UNTIL) == (applies, kind, status)


def test_software_report_sorted_with_days_remaining():
    rows = [sw(eol=date(2027, 4, 1), product="ubuntu", cycle="22.04"),
            sw(eol=date(2026, 7, 11), product="debian", cycle="12"),
            sw(flag=True, product="routeros", cycle="6.48"),
            sw(eol=date(2030, 1, 1), product="rhel", cycle="9"),
            sw(flag=False, product="redis", cycle="8.4"),
            sw(eol=date(2020, 1, 1), product="linux", cycle=None)]
    items = software_items(rows, TODAY, UNTIL)
    assert [(i.what, i.status, i.days_remaining) for i in items] == [
        ("routeros", Status.PAST, None),
        ("debian", Status.PAST, -141),
        ("ubuntu", Status.NEAR, 123),
    ]
    later = software_items(rows, TODAY, UNTIL, include_later=True)
    assert [i.what for i in later][-1] == "rhel"
    assert is_past(rows[1], TODAY) and not is_past(rows[0], TODAY)


def test_hardware_and_contracts():
    hardware = [Hardware(asset="db1", vendor="Dell Inc.", model="PowerEdge R730",
                         end_of_sale=date(2019, 5, 1), end_of_support=date(2026, 5, 31)),
                Hardware(asset="web1", vendor="HPE", model="DL360 Gen10",
                         end_of_sale=None, end_of_support=date(2027, 3, 1)),
                Hardware(asset="new1", vendor="HPE", model="DL360 Gen11",
                         end_of_sale=None, end_of_support=date(2032, 1, 1)),
                Hardware(asset="box", vendor=None, model=None, end_of_sale=None,
                         end_of_support=None)]
    items = hardware_items(hardware, TODAY, UNTIL)
    assert [(i.host, i.status) for i in items] == [("db1", Status.PAST), ("web1", Status.NEAR)]
    contracts = [Contract(asset="db1", vendor="Dell", number="C-1", kind="support",
                          end_date=date(2027, 1, 15), renewal="pending", owner="ops"),
                 Contract(asset="web1", vendor="HPE", number="C-2", kind="warranty",
                          end_date=date(2027, 1, 1), renewal="renewed", owner=None),
                 Contract(asset="web1", vendor="HPE", number="C-3", kind="support",
                          end_date=date(2028, 1, 1), renewal="pending", owner=None)]
    due = contract_items(contracts, TODAY, horizon_end(TODAY, "90d"))
    assert [(i.version, i.days_remaining, i.detail) for i in due] == [
        ("C-1", 47, "renewal pending, owner ops")]
    assert len(contract_items(contracts, TODAY, horizon_end(TODAY, "90d"),
                              include_renewed=True)) == 2
