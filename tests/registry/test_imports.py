"""registry/imports.py: hardware lifecycle, assets and contracts from CSV and YAML."""

from __future__ import annotations

from datetime import date

import pytest

from registry.imports import Asset, ContractRecord, HardwareModel, ImportProblem, parse_records

HARDWARE_CSV = """\
# exported from the CMDB
vendor,model,end_of_sale,end_of_support,note
Dell Inc.,PowerEdge R730,2019-05-01,2026-05-31,Dell EOSL letter 2024
HPE,ProLiant DL360 Gen10,,2027-03-01,
"""

CONTRACTS_YAML = """\
- {asset: db1, vendor: Dell, number: "C-1", end_date: 2027-01-15, owner: ops}
- asset: web1
  vendor: HPE
  number: C-2
  kind: warranty
  end_date: "2027-01-01"
  renewal: Renewed
"""


def test_hardware_from_csv():
    assert parse_records("hardware", HARDWARE_CSV, source="models.csv") == [
        HardwareModel(vendor="Dell Inc.", model="PowerEdge R730", end_of_sale=date(2019, 5, 1),
                      end_of_support=date(2026, 5, 31), note="Dell EOSL letter 2024"),
        HardwareModel(vendor="HPE", model="ProLiant DL360 Gen10", end_of_sale=None,
                      end_of_support=date(2027, 3, 1), note=None),
    ]


def test_contracts_from_yaml_with_defaults():
    assert parse_records("contracts", CONTRACTS_YAML, source="contracts.yml") == [
        ContractRecord(asset="db1", vendor="Dell", number="C-1", end_date=date(2027, 1, 15),
                       kind="support", renewal="pending", owner="ops"),
        ContractRecord(asset="web1", vendor="HPE", number="C-2", end_date=date(2027, 1, 1),
                       kind="warranty", renewal="renewed", owner=None),
    ]


def test_assets_csv():
    text = "name,vendor,model,serial\nsw-core-1,Cisco,C9300-48P,FOC1234\n"
    assert parse_records("assets", text, source="assets.csv") == [
        Asset(name="sw-core-1", vendor="Cisco", model="C9300-48P", serial="FOC1234")]


@pytest.mark.parametrize(("kind", "source", "text", "where", "reason"), [
    ("hardware", "m.csv", "", "header", "empty file"),
    ("hardware", "m.csv", "vendor,end_of_support\nDell,2026-01-01\n", "header",
     "missing column 'model'"),
    ("hardware", "m.csv", "vendor,model,end_of_support\nDell,R730,2026-13-01\n",
     "row 2: end_of_support", "'2026-13-01' is not a date (YYYY-MM-DD)"),
    ("hardware", "m.csv", "vendor,model\nDell,\n", "row 2: model", "is required"),
    ("hardware", "m.csv", "vendor,model,colour\nDell,R730,red\n", "row 2",
     "unknown column 'colour'"),
    ("hardware", "m.csv", "vendor,model\nDell,R730,extra\n", "row 2",
     "more fields than the header has"),
    ("hardware", "m.csv", "vendor,model\nDell,R730\ndell,r730\n", "row 3",
     "duplicate of row 2"),
    ("contracts", "c.yml", "asset: db1\n", "(top)", "must be a list"),
    ("contracts", "c.yml", "- [1, 2]\n", "item 1", "must be a mapping"),
    ("contracts", "c.yml", "- {asset: a, vendor: v, number: n, end_date: 2027-01-01, "
                           "renewal: maybe}\n", "item 1: renewal", "'maybe' is not one of"),
    ("contracts", "c.yml", "- {asset: a, vendor: v, number: n}\n", "item 1: end_date",
     "is required"),
    ("contracts", "c.yml", "- {asset: a\n", "line 2", "invalid YAML"),
    ("assets", "a.yml", "- {name: [x]}\n", "item 1: name", "must be text"),
])
def test_problems_name_file_row_and_column(kind, source, text, where, reason):
    with pytest.raises(ImportProblem) as caught:
        parse_records(kind, text, source=source)
    assert caught.value.source == source
    assert caught.value.where == where
    assert reason in caught.value.reason
