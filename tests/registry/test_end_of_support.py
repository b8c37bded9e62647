"""The end-of-support data model: parsing API v1 documents, loading a directory, recomputed
status flags, the dump round trip and the bundled dataset."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from registry.end_of_support import (
    Catalog,
    Cycle,
    DataError,
    catalog_from_dump,
    dump_catalog,
    dump_product,
    load_default,
    load_directory,
    parse_product,
)
from tests.registry import EOL_DATA, REPO, requires_snapshot, snapshot

GENERATED = date(2026, 11, 29)  # the snapshot's generated_at: its is* flags are as of this day


def _release(name: str = "1.0", **fields: object) -> dict[str, object]:
    return {"name": name, "isEol": False, "eolFrom": None, **fields}


def _product(*releases: object, **fields: object) -> dict[str, object]:
    return {"result": {"name": "demo", "label": "Demo", "releases": list(releases), **fields}}


# Parsing: what each field becomes.

@pytest.mark.parametrize(
    ("release", "attribute", "expected"),
    [
        (_release(isEol=True, eolFrom="2024-06-30"), "eol", date(2024, 6, 30)),
        (_release(isEol=False, eolFrom=None), "eol", False),  # not EOL, no date announced
        (_release(isEol=True, eolFrom=None), "eol", True),  # EOL, date unknown
        (_release(isEoes=None, eoesFrom=None), "eoes", None),  # cannot get extended support
        (_release(isEoes=False, eoesFrom=None), "eoes", False),
        (_release(isEoes=False, eoesFrom="2032-04-09"), "eoes", date(2032, 4, 9)),
        (_release(), "eoas", None),  # no eoas keys: the product has no such phase
        (_release(isEoas=True, eoasFrom="2024-09-30"), "eoas", date(2024, 9, 30)),
        (_release(releaseDate="2022-04-21"), "release_date", date(2022, 4, 21)),
        (_release(isLts=True, ltsFrom="2023-01-01"), "lts", True),
        (_release(latest={"name": "22.04.5", "date": "2024-09-12", "link": None}),
         "latest", "22.04.5"),
        (_release(latest=None), "latest", None),
        (_release(custom={"chromeVersion": "M112"}), "custom", (("chromeVersion", "M112"),)),
        # The classic API / upstream front matter: one key holding a date or a boolean.
        ({"name": "2", "eol": "2025-01-31"}, "eol", date(2025, 1, 31)),
        ({"name": "2", "eol": True, "latest": "2.9"}, "latest", "2.9"),
        ({"name": 8, "eol": False}, "name", "8"),  # an integer cycle name from YAML
    ],
)
def test_cycle_fields(release, attribute, expected):
    product = parse_product(_product(release), "demo.json")
    assert getattr(product.cycles[0], attribute) == expected


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], r"the document is list, not an object"),
        ({"result": "nope"}, r"result is not an object"),
        ({"result": {"label": "X", "releases": []}}, r"result.name is missing"),
        ({"result": {"name": "", "releases": []}}, r"result.name is missing"),
        ({"result": {"name": "x", "releases": {}}}, r"result.releases is dict, not a list"),
        (_product("9.6"), r"releases\[0\] is str, not an object"),
        (_product({"isEol": True}), r"releases\[0\] has no name"),
        (_product({"name": "  ", "isEol": True}), r"releases\[0\] has no name"),
        (_product({"name": 3.10, "isEol": True}), r"releases\[0\] name 3.1 is a number"),
        (_product({"name": "1"}), r"release '1': eol is neither a date nor a boolean"),
        (_product({"name": "1", "isEol": "yes"}), r"isEol 'yes' is neither a boolean nor null"),
        (_product({"name": "1", "isEol": True, "eolFrom": "2024-13-45"}),
         r"eolFrom '2024-13-45' is not a YYYY-MM-DD date"),
        (_product({"name": "1", "isEol": True, "eolFrom": 20240101}),
         r"eolFrom 20240101 is not a YYYY-MM-DD date"),
        (_product({"name": "1", "eol": "soon"}), r"eol 'soon' is neither a date nor a boolean"),
        (_product({"name": "1", "eol": 3}), r"eol 3 is neither a date nor a boolean"),
        (_product(_release(isLts="no")), r"isLts 'no' is not a boolean"),
        (_product(_release(latest=["1.0.1"])), r"latest is not an object"),
        (_product(aliases="pg"), r"result.aliases is not a list of strings"),
        (_product(identifiers=[{"type": "purl"}]), r"identifiers\[0\] is not"),
    ],
)
def test_malformed_documents_raise_data_error_with_reason(document, reason):
    with pytest.raises(DataError, match=reason) as caught:
        parse_product(document, "products/demo.json")
    assert caught.value.source == "products/demo.json"
    assert str(caught.value).startswith("products/demo.json: ")


def test_a_product_without_releases_is_valid():
    product = parse_product({"result": {"name": "demo", "label": "Demo", "releases": []}}, "x")
    assert product.cycles == ()
    assert product.cycle("1.0") is None
    assert parse_product({"name": "bare", "label": "Bare"}, "x").cycles == ()  # bare result


# Status: recomputed from dates, not the snapshot's booleans.

@pytest.mark.parametrize(
    ("eol", "today", "expected"),
    [
        (date(2024, 6, 30), date(2024, 6, 29), False),
        (date(2024, 6, 30), date(2024, 6, 30), False),  # the eolFrom day itself: not yet
        (date(2024, 6, 30), date(2024, 7, 1), True),
        (True, date(2000, 1, 1), True),  # no date: the data's flag is authoritative
        (False, date(2099, 1, 1), False),
    ],
)
def test_is_eol_is_recomputed_from_the_date(eol, today, expected):
    cycle = Cycle(name="1", eol=eol)
    assert cycle.is_eol(today) is expected
    assert cycle.eol_date() == (eol if isinstance(eol, date) else None)


def test_a_past_eol_date_wins_over_a_stale_snapshot_flag():
    document = _product(_release("5", isEol=False, eolFrom="2020-01-01"),
                        _release("6", isEol=True, eolFrom="2099-01-01"))
    old, new = parse_product(document, "x").cycles
    assert old.is_eol(date(2026, 1, 1)) is True
    assert new.is_eol(date(2026, 1, 1)) is False


@pytest.mark.parametrize(
    ("eoas", "eol", "eoes", "maintained"),
    [
        (None, date(2030, 1, 1), None, True),
        (None, date(2020, 1, 1), None, False),
        (None, date(2020, 1, 1), date(2030, 1, 1), True),  # paid extended support
        (date(2030, 1, 1), True, None, True),  # odd data, as the API computes it
        (None, True, None, False),
    ],
)
def test_is_maintained(eoas, eol, eoes, maintained):
    cycle = Cycle(name="1", eoas=eoas, eol=eol, eoes=eoes)
    assert cycle.is_maintained(date(2026, 1, 1)) is maintained


# The snapshot directory.

@requires_snapshot
def test_the_snapshot_loads_without_skips():
    result = load_directory(EOL_DATA)
    assert result.skipped == ()
    assert len(result.catalog) == 464
    assert sum(len(p.cycles) for p in result.catalog) == 8351


@requires_snapshot
@pytest.mark.parametrize(
    ("name", "product"),
    [
        ("esxi", "esxi"), ("vmware-esxi", "esxi"),  # the id is the permalink; files differ
        ("linux", "linux"), ("linux-kernel", "linux"),
        ("Postgres", "postgresql"), ("varnish", "vinyl-cache"), ("nope", None),
    ],
)
def test_catalog_finds_products_by_name_and_alias(name, product):
    found = snapshot().get(name)
    assert (found.name if found else None) == product


@requires_snapshot
@pytest.mark.parametrize(
    ("product", "cycle", "attribute", "expected"),
    [
        ("ubuntu", "22.04", "eol", date(2027, 4, 1)),
        ("ubuntu", "22.04", "eoes", date(2032, 4, 9)),
        ("ubuntu", "22.04", "codename", "Jammy Jellyfish"),
        ("windows-server", "2019", "eoes", None),  # cannot get ESU: null, not false
        ("apache-http-server", "2.4", "eol", False),
        ("oracle-solaris", "11.2", "eol", True),
        ("ibm-aix", "7.2.5", "eol", False),
        ("redis", "8.4", "eol", False),
        ("routeros", "6.48", "eol", True),
        ("esxi", "8.0", "latest", "8.0 Update 3k"),
        ("sles", "15.4", "latest", None),
    ],
)
def test_snapshot_semantics(product, cycle, attribute, expected):
    assert getattr(snapshot().get(product).cycle(cycle), attribute) == expected


@requires_snapshot
def test_snapshot_flags_agree_with_the_recomputed_ones_on_its_generation_day():
    for product in snapshot():
        file = EOL_DATA / "products" / f"{product.name}.json"
        if not file.is_file():
            continue  # 20 permalinks differ from their file names
        releases = json.loads(file.read_text())["result"]["releases"]
        for release, cycle in zip(releases, product.cycles, strict=True):
            assert cycle.is_eol(GENERATED) is release["isEol"], (product.name, cycle.name)


# A directory with bad files.

def _write(directory: Path, name: str, content: object) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    (directory / "products" / name).write_text(text, encoding="utf-8")


def test_bad_files_are_skipped_with_their_reason(tmp_path):
    (tmp_path / "products").mkdir()
    _write(tmp_path, "good.json", _product(_release("1.0", isEol=True, eolFrom="2020-01-01")))
    _write(tmp_path, "empty.json", {"result": {"name": "empty", "label": "E", "releases": []}})
    _write(tmp_path, "broken.json", "{not json")
    _write(tmp_path, "shape.json", {"result": {"label": "no name"}})
    _write(tmp_path, "eol.json", {"result": {"name": "bad-eol", "releases": [
        {"name": "1", "isEol": "maybe"}]}})
    _write(tmp_path, "twice.json", _product())
    (tmp_path / "products" / "notes.txt").write_text("ignored")
    result = load_directory(tmp_path)
    assert sorted(p.name for p in result.catalog) == ["demo", "empty"]
    reasons = {Path(file).name: reason for file, reason in result.skipped}
    assert set(reasons) == {"broken.json", "shape.json", "eol.json", "twice.json"}
    assert reasons["broken.json"].startswith("invalid JSON")
    assert "result.name is missing" in reasons["shape.json"]
    assert "isEol 'maybe' is neither a boolean nor null" in reasons["eol.json"]
    assert "already read from" in reasons["twice.json"]


@pytest.mark.parametrize("layout", ["missing", "file", "no-products"])
def test_a_directory_that_is_not_one_is_a_data_error(tmp_path, layout):
    path = tmp_path / "data"
    if layout == "file":
        path.write_text("x")
    elif layout == "no-products":
        path.mkdir()
    with pytest.raises(DataError, match=r"not a directory|has no products/"):
        load_directory(path)


# Round trip.

@requires_snapshot
def test_dump_round_trip_keeps_every_field():
    catalog = snapshot()
    again = catalog_from_dump(json.loads(json.dumps(dump_catalog(catalog, today=GENERATED))))
    assert again.products == catalog.products


@requires_snapshot
def test_dump_on_the_generation_day_reproduces_the_snapshot_files():
    for file in sorted((EOL_DATA / "products").glob("*.json")):
        original = json.loads(file.read_text())["result"]
        assert dump_product(parse_product(original, str(file)), today=GENERATED) == original


def test_catalog_from_dump_is_strict():
    with pytest.raises(DataError, match=r"<dump>\[1\]: result.name is missing"):
        catalog_from_dump([{"name": "a", "releases": []}, {"releases": []}])
    with pytest.raises(DataError, match="a second product named 'a'"):
        catalog_from_dump([{"name": "a"}, {"name": "a"}])
    with pytest.raises(DataError, match="expected a list"):
        catalog_from_dump({"name": "a"})
    assert isinstance(catalog_from_dump([]), Catalog)


# The bundled default dataset.

@requires_snapshot
def test_the_bundled_dataset_is_a_verbatim_subset_of_the_snapshot():
    bundled = json.loads((REPO / "registry" / "data" / "eol-default.json").read_text())
    originals = {}
    for file in (EOL_DATA / "products").glob("*.json"):
        result = json.loads(file.read_text())["result"]
        originals[result["name"]] = result
    assert len(bundled) >= 100
    for result in bundled:
        assert result == originals[result["name"]], result["name"]


def test_the_bundled_dataset_loads_and_is_attributed():
    catalog = load_default()
    data = REPO / "registry" / "data"
    source = (data / "SOURCE.md").read_text()
    for product in catalog:
        assert f"`{product.name}`" in source
    for needed in ("debian", "ubuntu", "rhel", "windows-server", "windows", "linux",
                   "postgresql", "mssqlserver", "nginx", "openssl", "amazon-corretto",
                   "esxi", "cisco-ios-xe", "routeros", "ibm-aix", "sles", "freebsd"):
        assert catalog.get(needed) is not None, needed
    assert "a70eca337600e7d721dc48112c271f98661d208b" in source
    assert "MIT" in (data / "LICENSE.endoflife-date").read_text()


@requires_snapshot
def test_the_bundled_license_is_the_snapshots():
    bundled = (REPO / "registry" / "data" / "LICENSE.endoflife-date").read_bytes()
    assert bundled == (EOL_DATA / "LICENSE.endoflife-date").read_bytes()
