"""End-of-support reference data: products and their release cycles (endoflife.date API v1).

The data model is pure and immutable: `Product` holds its `Cycle`s newest first, `Catalog`
finds a product by name or alias. `parse_product()` reads one API v1 document (or its bare
`result` object) and raises `DataError` naming the source and the reason; `load_directory()`
reads a directory in the API v1 shape (`products/<name>.json`, as in ../shared/eol-data) and
skips malformed files with a reason; `dump_catalog()` writes the catalog back as API v1 `result`
objects, which `catalog_from_dump()` reads again (the collector stores the data that way).

Field semantics follow the API v1 (schema 1.2.1, see eol-data/README.md):

- `eol` is the cycle's `eolFrom` date when set, else its boolean `isEol` (true: EOL, date
  unknown; false: not EOL, no date announced).
- `eoas` / `eoes` / `discontinued` are the same, and None when the product has no such
  phase (`labels.eoas` is null) or, for `eoes`, when the cycle cannot get extended support
  (`isEoes: null`; this is not the same as false).
- The snapshot's `is*` booleans were computed when the data was generated; when a date exists
  the flags here are recomputed against the `today` the caller passes (`today > date`, the
  rule the README gives and the snapshot itself follows: a cycle whose eolFrom is the
  generation day is not yet EOL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from regie.configfile import read_regular_file

# A phase end: a date, a boolean (reached or not, no date), or None (no such phase).
Phase = date | bool | None

DEFAULT_DATA_PACKAGE = "registry"
DEFAULT_DATA_FILE = "data/eol-default.json"
# The largest products/<name>.json read from a mirror (the biggest upstream is ~200 KB).
PRODUCT_FILE_BYTES = 32 * 1024 * 1024

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class DataError(ValueError):
    """End-of-support data that cannot be used: `source` is the file (or other origin) and
    `reason` says what is wrong with it."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Identifier:
    """An identifier endoflife.date attaches to a product: type is cpe, purl or repology."""

    type: str
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cycle:
    """One release cycle of a product (the key to match on is `name`)."""

    name: str
    codename: str | None = None
    label: str | None = None
    release_date: date | None = None
    lts: bool = False
    lts_from: date | None = None
    eol: date | bool = False
    eoas: Phase = None
    eoes: Phase = None
    discontinued: Phase = None
    latest: str | None = None
    latest_date: date | None = None
    latest_link: str | None = None
    link: str | None = None
    custom: tuple[tuple[str, str | None], ...] = ()

    def eol_date(self) -> date | None:
        """The end-of-life date, or None when the data has only a boolean."""
        return self.eol if isinstance(self.eol, date) else None

    def is_eol(self, today: date) -> bool:
        """EOL on `today`: recomputed from the date when there is one, else the data's flag."""
        return bool(_reached(self.eol, today))

    def is_eoas(self, today: date) -> bool | None:
        """Active support over on `today`; None when the product has no such phase."""
        return _reached(self.eoas, today)

    def is_eoes(self, today: date) -> bool | None:
        """Extended support over on `today`; None when the cycle cannot get extended support."""
        return _reached(self.eoes, today)

    def is_discontinued(self, today: date) -> bool | None:
        return _reached(self.discontinued, today)

    def is_maintained(self, today: date) -> bool:
        """Still in some support phase (active, security or extended), as the API's
        isMaintained: any phase the cycle has that has not ended yet."""
        return any(_reached(phase, today) is False for phase in (self.eoas, self.eol, self.eoes))


def _reached(value: Phase, today: date) -> bool | None:
    if isinstance(value, date):
        return today > value
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """A product with its cycles, newest first (the data's order)."""

    name: str
    label: str
    category: str | None = None
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    version_command: str | None = None
    # labels.{eoas,eol,eoes,discontinued}: what each phase is called for this product, e.g.
    # ubuntu's eol is "Maintenance & Security Support" and its eoes "Expanded Security
    # Maintenance". A None label means the product has no such phase.
    phase_labels: tuple[tuple[str, str | None], ...] = ()
    links: tuple[tuple[str, str | None], ...] = ()
    cycles: tuple[Cycle, ...] = ()
    _by_cycle: dict[str, Cycle] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_cycle: dict[str, Cycle] = {}
        for cycle in self.cycles:
            by_cycle.setdefault(cycle.name, cycle)
        object.__setattr__(self, "_by_cycle", by_cycle)

    def cycle(self, name: str) -> Cycle | None:
        return self._by_cycle.get(name)

    def phase_label(self, phase: str) -> str | None:
        return dict(self.phase_labels).get(phase)

    def identifiers_of(self, type_: str) -> tuple[str, ...]:
        return tuple(i.id for i in self.identifiers if i.type == type_)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Products by name; `get()` also accepts an alias, case-insensitively."""

    products: tuple[Product, ...] = ()
    _by_name: dict[str, Product] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Product] = {}
        for product in self.products:  # a product's own name wins over another's alias
            by_name.setdefault(product.name.lower(), product)
        for product in self.products:
            for alias in product.aliases:
                by_name.setdefault(alias.lower(), product)
        object.__setattr__(self, "_by_name", by_name)

    def get(self, name: str) -> Product | None:
        return self._by_name.get(name.lower()) if isinstance(name, str) else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name

    def __iter__(self) -> Iterator[Product]:
        return iter(self.products)

    def __len__(self) -> int:
        return len(self.products)

    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.products)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A catalog read from a directory, and the files left out: (file, reason)."""

    catalog: Catalog
    skipped: tuple[tuple[str, str], ...] = ()


# Parsing (the API v1 edge). Each phase: (attribute, the `is*` key, the `*From` key, and the
# single key of the classic API / upstream front matter holding a date or a boolean).
_PHASES = (
    ("eol", "isEol", "eolFrom", "eol"),
    ("eoas", "isEoas", "eoasFrom", "support"),
    ("eoes", "isEoes", "eoesFrom", "extendedSupport"),
    ("discontinued", "isDiscontinued", "discontinuedFrom", "discontinued"),
)
_PHASE_NAMES = ("eoas", "eol", "eoes", "discontinued")


def _date(value: Any, what: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{what} {value!r} is not a YYYY-MM-DD date")


def _text(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{what} is {type(value).__name__}, not a string")


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} is not a list of strings")
    return tuple(value)


def _pairs(value: Any, what: str) -> tuple[tuple[str, str | None], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not an object")
    return tuple((str(k), v if v is None or isinstance(v, str) else str(v))
                 for k, v in value.items())


def _phase(release: Mapping[str, Any], is_key: str, from_key: str, classic: str,
           where: str) -> Phase:
    """The phase end: its date when set, else its boolean; None when the phase is absent."""
    if is_key not in release and from_key not in release and classic in release:
        value = release[classic]
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and _DATE.fullmatch(value):
            return _date(value, f"{where}: {classic}")
        raise ValueError(f"{where}: {classic} {value!r} is neither a date nor a boolean")
    when = _date(release.get(from_key), f"{where}: {from_key}")
    if when is not None:
        return when
    flag = release.get(is_key)
    if flag is None or isinstance(flag, bool):
        return flag
    raise ValueError(f"{where}: {is_key} {flag!r} is neither a boolean nor null")


def _cycle(release: Any, index: int) -> Cycle:
    if not isinstance(release, Mapping):
        raise ValueError(f"releases[{index}] is {type(release).__name__}, not an object")
    name = release.get("name")
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)  # a YAML cycle such as 8 typed as a number
    elif isinstance(name, float):  # 3.10 would silently become 3.1
        raise ValueError(f"releases[{index}] name {name!r} is a number, not a string")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"releases[{index}] has no name")
    where = f"release {name!r}"
    phases = {attr: _phase(release, is_key, from_key, classic, where)
              for attr, is_key, from_key, classic in _PHASES}
    if phases["eol"] is None:
        raise ValueError(f"{where}: eol is neither a date nor a boolean "
                         f"(isEol {release.get('isEol')!r}, eolFrom {release.get('eolFrom')!r})")
    latest = release.get("latest")
    if isinstance(latest, str | int | float) and not isinstance(latest, bool):
        latest = {"name": str(latest)}  # the classic API's plain string
    if latest is not None and not isinstance(latest, Mapping):
        raise ValueError(f"{where}: latest is not an object")
    latest = latest or {}
    latest_name = latest.get("name")
    lts = release.get("isLts", False)
    if not isinstance(lts, bool):
        raise ValueError(f"{where}: isLts {lts!r} is not a boolean")
    return Cycle(
        name=name,
        codename=_text(release.get("codename"), f"{where}: codename"),
        label=_text(release.get("label"), f"{where}: label"),
        release_date=_date(release.get("releaseDate"), f"{where}: releaseDate"),
        lts=lts,
        lts_from=_date(release.get("ltsFrom"), f"{where}: ltsFrom"),
        latest=None if latest_name is None else str(latest_name),
        latest_date=_date(latest.get("date"), f"{where}: latest.date"),
        latest_link=_text(latest.get("link"), f"{where}: latest.link"),
        link=_text(release.get("link"), f"{where}: link"),
        custom=_pairs(release.get("custom"), f"{where}: custom"),
        **phases,
    )


def _identifiers(value: Any) -> tuple[Identifier, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("identifiers is not a list")
    found = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str) \
                or not isinstance(item.get("id"), str):
            raise ValueError(f"identifiers[{i}] is not {{'type': str, 'id': str}}")
        found.append(Identifier(item["type"], item["id"]))
    return tuple(found)


def parse_product(document: Any, source: str) -> Product:
    """One product from an API v1 document ({"result": {...}}) or its bare result object.

    Raises DataError(source, reason) for anything malformed. A product without releases is
    valid and has no cycles."""
    if not isinstance(document, Mapping):
        raise DataError(source, f"the document is {type(document).__name__}, not an object")
    result = document.get("result", document)
    if not isinstance(result, Mapping):
        raise DataError(source, "result is not an object")
    name = result.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DataError(source, "result.name is missing or not a non-empty string")
    releases = result.get("releases", [])
    if releases is None:
        releases = []
    if not isinstance(releases, list):
        raise DataError(source, f"result.releases is {type(releases).__name__}, not a list")
    try:
        label = _text(result.get("label"), "result.label") or name
        labels = result.get("labels")
        if labels is not None and not isinstance(labels, Mapping):
            raise ValueError("result.labels is not an object")
        return Product(
            name=name,
            label=label,
            category=_text(result.get("category"), "result.category"),
            aliases=_strings(result.get("aliases"), "result.aliases"),
            tags=_strings(result.get("tags"), "result.tags"),
            identifiers=_identifiers(result.get("identifiers")),
            version_command=_text(result.get("versionCommand"), "result.versionCommand"),
            phase_labels=tuple((phase, _text((labels or {}).get(phase), f"labels.{phase}"))
                               for phase in _PHASE_NAMES) if labels is not None else (),
            links=_pairs(result.get("links"), "result.links"),
            cycles=tuple(_cycle(release, i) for i, release in enumerate(releases)),
        )
    except ValueError as exc:
        raise DataError(source, str(exc)) from None


def _unique(products: Iterable[Product]) -> tuple[tuple[Product, ...], list[tuple[str, str]]]:
    seen: set[str] = set()
    kept, dropped = [], []
    for product in products:
        if product.name.lower() in seen:
            dropped.append((product.name, f"a second product named {product.name!r}"))
            continue
        seen.add(product.name.lower())
        kept.append(product)
    return tuple(kept), dropped


def load_directory(path: str | Path) -> LoadResult:
    """Read `products/*.json` under `path` (the API v1 shape). A file that cannot be read or
    parsed is skipped with its reason; a missing directory raises DataError."""
    root = Path(path)
    try:
        found = root.is_dir()
    except OSError as exc:   # a name too long to look up raises, it does not say no
        shown = str(root) if len(str(root)) <= 200 else f"{str(root)[:200]}..."
        raise DataError(shown, f"cannot be looked up: {exc.strerror or exc}") from None
    if not found:
        raise DataError(str(root), "not a directory")
    directory = root / "products"
    if not directory.is_dir():
        raise DataError(str(root), "has no products/ directory (expected the endoflife.date "
                                   "API v1 shape: products/<name>.json)")
    products: list[Product] = []
    skipped: list[tuple[str, str]] = []
    sources: dict[str, str] = {}
    for file in sorted(directory.glob("*.json")):
        try:
            # A regular file only: a FIFO in the mirror would block the read for ever.
            document = json.loads(read_regular_file(file, limit=PRODUCT_FILE_BYTES)
                                  .decode("utf-8"))
        except OSError as exc:
            skipped.append((str(file), f"cannot be read: {exc.strerror or exc}"))
            continue
        except UnicodeDecodeError as exc:
            skipped.append((str(file), f"cannot be read: {exc}"))
            continue
        except json.JSONDecodeError as exc:
            skipped.append((str(file), f"invalid JSON: {exc}"))
            continue
        try:
            product = parse_product(document, str(file))
        except DataError as exc:
            skipped.append((str(file), exc.reason))
            continue
        if product.name.lower() in sources:
            skipped.append((str(file), f"product {product.name!r} already read from "
                                       f"{sources[product.name.lower()]}"))
            continue
        sources[product.name.lower()] = str(file)
        products.append(product)
    return LoadResult(Catalog(tuple(products)), tuple(skipped))


def catalog_from_dump(documents: Any, source: str = "<dump>") -> Catalog:
    """The inverse of dump_catalog(): a list of API v1 result objects. Strict: the first
    malformed product raises DataError (stored data is expected to be valid)."""
    if not isinstance(documents, list):
        raise DataError(source, f"expected a list of products, not {type(documents).__name__}")
    products = [parse_product(doc, f"{source}[{i}]") for i, doc in enumerate(documents)]
    kept, dropped = _unique(products)
    if dropped:
        raise DataError(source, dropped[0][1])
    return Catalog(kept)


def load_default() -> Catalog:
    """The curated dataset bundled with the package (registry/data/eol-default.json)."""
    resource = resources.files(DEFAULT_DATA_PACKAGE).joinpath(DEFAULT_DATA_FILE)
    source = f"{DEFAULT_DATA_PACKAGE}/{DEFAULT_DATA_FILE}"
    try:
        documents = json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(source, f"cannot be read: {exc}") from None
    return catalog_from_dump(documents, source)


# Dumping (API v1 result objects, so any API v1 reader, this one included, can read it back).

def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _dump_phase(value: Phase, today: date) -> tuple[bool | None, str | None]:
    if isinstance(value, date):
        return today > value, value.isoformat()
    return value, None


def _dump_cycle(cycle: Cycle, today: date, phases: set[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": cycle.name,
        "codename": cycle.codename,
        "label": cycle.label,
        "releaseDate": _iso(cycle.release_date),
        "isLts": cycle.lts,
        "ltsFrom": _iso(cycle.lts_from),
    }
    for attr, is_key, from_key, _ in _PHASES:
        value = getattr(cycle, attr)
        if attr != "eol" and attr not in phases and value is None:
            continue  # the product has no such phase: the API leaves both keys out
        entry[is_key], entry[from_key] = _dump_phase(value, today)
    entry["isMaintained"] = cycle.is_maintained(today)
    has_latest = (cycle.latest, cycle.latest_date, cycle.latest_link) != (None, None, None)
    entry["latest"] = None if not has_latest else {
        "name": cycle.latest, "date": _iso(cycle.latest_date), "link": cycle.latest_link}
    if cycle.link is not None:
        entry["link"] = cycle.link
    entry["custom"] = dict(cycle.custom) if cycle.custom else None
    return entry


def dump_product(product: Product, *, today: date) -> dict[str, Any]:
    labels = dict(product.phase_labels)
    phases = {phase for phase, label in product.phase_labels if label is not None}
    return {
        "name": product.name,
        "aliases": list(product.aliases),
        "label": product.label,
        "category": product.category,
        "tags": list(product.tags),
        "versionCommand": product.version_command,
        "identifiers": [{"type": i.type, "id": i.id} for i in product.identifiers],
        "labels": labels if product.phase_labels else None,
        "links": dict(product.links),
        "releases": [_dump_cycle(c, today, phases) for c in product.cycles],
    }


def dump_catalog(catalog: Catalog, *, today: date | None = None) -> list[dict[str, Any]]:
    """The catalog as a list of API v1 result objects (JSON-serialisable).

    The `is*` flags of dated phases are computed against `today` (default: the current date),
    as the live API does at build time; readers, this module included, recompute them."""
    day = date.today() if today is None else today
    return [dump_product(p, today=day) for p in catalog.products]
