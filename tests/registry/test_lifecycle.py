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
NEAR = UNTIL  # the near threshold ([registry] near_horizon), 8 months as by default


@pytest.mark.parametrize(("row", "applies", "kind", "status"), [
    # security support ahead, beyond the horizon
    (sw(eol=date(2028, 6, 30)), date(2028, 6, 30), Support.SECURITY, Status.SUPPORTED),
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
    assert software_status(row, TODAY, NEAR) == (applies, kind, status)


DEBIAN_12 = sw(eol=date(2026, 7, 11), eoes=date(2028, 6, 30))


@pytest.mark.parametrize("within", ["8m", "1y", "5y", "90d"])
def test_status_is_the_items_own_the_horizon_only_filters(within):
    """Debian 12 on extended support (LTS to 2028) is `extended` whatever the horizon; an item
    ending in 3 months is `near` whether or not a short horizon lists it."""
    until = horizon_end(TODAY, within)
    soon = sw(eol=date(2027, 3, 1), product="ubuntu", cycle="22.04")
    later = sw(eol=date(2030, 1, 1), product="rhel", cycle="9")
    items = {i.what: i.status for i in software_items([DEBIAN_12, soon, later], TODAY, until,
                                                       near=NEAR)}
    assert items["debian"] is Status.EXTENDED
    assert items.get("ubuntu") is (Status.NEAR if until >= date(2027, 3, 1) else None)
    assert items.get("rhel") is (Status.SUPPORTED if until >= date(2030, 1, 1) else None)


def test_distribution_dates_apply_with_upstream_beside():
    """A distribution's package under the rule `distro` takes the release's dates; upstream's
    date is reported beside; `distro-limited` with an end date takes that date, without one
    upstream's dates."""
    base = dict(host="h1", product="prometheus", cycle="2.42", category="app",
                eol_date=date(2023, 3, 14), eol_flag=None, eoes_date=None,
                observed="dpkg: prometheus 2.42.0+ds-5+deb12u1")
    distro = Software(**base, rule="distro", covered_by="Debian 12",
                      covered_eol_date=date(2026, 7, 11), covered_eoes_date=date(2028, 6, 30))
    [item] = software_items([distro], TODAY, UNTIL, near=NEAR)
    assert (item.applies, item.kind, item.status, item.rule, item.upstream) == (
        date(2028, 6, 30), Support.EXTENDED, Status.EXTENDED, "distro", date(2023, 3, 14))
    assert "supported by Debian 12 until 2028-06-30, upstream 2023-03-14" in item.note
    ended = Software(**base, rule="distro-limited", covered_by="Debian 12",
                     covered_eol_date=date(2025, 10, 1), rule_note="Debian 12 ended ...")
    assert software_status(ended, TODAY, NEAR) == (date(2025, 10, 1), Support.SECURITY,
                                                   Status.PAST)
    limited = Software(**base, rule="distro-limited", covered_by="Debian 12",
                       rule_note="Debian 12 limits its support: trusted content only")
    [item] = software_items([limited], TODAY, UNTIL, near=NEAR)
    assert (item.applies, item.rule, item.upstream) == (date(2023, 3, 14), "distro-limited",
                                                        date(2023, 3, 14))
    assert item.note == "Debian 12 limits its support: trusted content only"
    upstream = Software(**base)
    [item] = software_items([upstream], TODAY, UNTIL, near=NEAR)
    assert (item.applies, item.rule, item.upstream, item.note) == (
        date(2023, 3, 14), "upstream", None, "")


def test_software_report_sorted_with_days_remaining():
    rows = [sw(eol=date(2027, 4, 1), product="ubuntu", cycle="22.04"),
            sw(eol=date(2026, 7, 11), product="debian", cycle="12"),
            sw(flag=True, product="routeros", cycle="6.48"),
            sw(eol=date(2030, 1, 1), product="rhel", cycle="9"),
            sw(flag=False, product="redis", cycle="8.4"),
            sw(eol=date(2020, 1, 1), product="linux", cycle=None)]
    items = software_items(rows, TODAY, UNTIL, near=NEAR)
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
    items = hardware_items(hardware, TODAY, UNTIL, near=NEAR)
    assert [(i.host, i.status) for i in items] == [("db1", Status.PAST), ("web1", Status.NEAR)]
    assert items[0].fields == (("vendor", "Dell Inc."), ("model", "PowerEdge R730"),
                               ("end_of_sale", "2019-05-01"))
    # A longer horizon lists more; the status stays the item's own.
    wide = hardware_items(hardware, TODAY, horizon_end(TODAY, "10y"), near=NEAR)
    assert [(i.host, i.status) for i in wide] == [
        ("db1", Status.PAST), ("web1", Status.NEAR), ("new1", Status.SUPPORTED)]
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
