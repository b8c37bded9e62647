"""Every lookup matching needs, built once from a catalog: `CatalogIndex`.

Product names, aliases and labels; cpe, purl (deb/rpm/apk/docker/oci/pypi/...) and repology
identifiers (registry/identifiers.py); plus the small tables of registry/product_rules.py where
the data's names are not enough. A name two products claim is ambiguous and matches nothing.
`CatalogIndex.resolve` turns a reader's Hit into a Match, choosing the cycle through
registry/cycle_selection.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from registry import product_rules as rules
from registry.appliance_rules import APPLIANCE_NAMES, APPLIANCE_PRODUCTS
from registry.cycle_selection import PICKERS, ProductCycles
from registry.end_of_support import Catalog, Cycle
from registry.identifiers import cpe_fields, cpe_key, parse_purl, purl_image_key
from registry.observations import Hit, Match
from registry.product_rules import components

_AMBIGUOUS = ""  # a name two products claim in the same layer: never matched


class _Names:
    """Names from several sources in priority order. A name set by an earlier layer keeps its
    product; a name two products claim within one layer is ambiguous and matches nothing."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def layer(self, pairs: Iterable[tuple[str, str]]) -> None:
        claims: dict[str, str] = {}
        for key, product in pairs:
            key = key.strip().lower()
            if not key or key in self.values:
                continue
            if claims.get(key, product) != product:
                claims[key] = _AMBIGUOUS
            else:
                claims[key] = product
        self.values.update(claims)

    def get(self, key: str) -> str | None:
        return self.values.get(key) or None

    def deny(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.values.pop(key, None)


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class CatalogIndex:
    """Every lookup the readers need, built once from a catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.cycles = {p.name: ProductCycles(p) for p in catalog}
        allowed = [p for p in catalog if p.category in rules.NAME_CATEGORIES]
        purls = [(parse_purl(i.id), p.name) for p in catalog for i in p.identifiers
                 if i.type == "purl"]
        repology = [(i.id, p.name) for p in catalog for i in p.identifiers
                    if i.type == "repology" and ":" not in i.id]

        # Names for free text, binaries and images (not OS names: see os_names).
        self.tokens = _Names()
        self.tokens.layer((p.name, p.name) for p in allowed if len(p.name) >= 3)
        self.tokens.layer((a, p.name) for p in allowed for a in p.aliases if len(a) >= 4)
        self.tokens.layer((p.label, p.name) for p in allowed)
        self.tokens.layer(repology)
        self.tokens.layer((u.name, p) for u, p in purls if u and u.type == "generic")
        self.tokens.deny(rules.NAME_DENYLIST)

        self.appliances = _Names()
        self.appliances.layer((n, p.name) for p in catalog if p.name in APPLIANCE_PRODUCTS
                              for n in (p.name, p.label, *p.aliases))
        self.appliances.layer((n, p) for n, p in APPLIANCE_NAMES.items() if p in catalog)

        self.os_names = _Names()
        oses = [p for p in catalog if p.category == "os"]
        self.os_names.layer((p.name, p.name) for p in oses)
        self.os_names.layer((a, p.name) for p in oses for a in p.aliases)

        # OS package names: the data's purls per type, then the generic names above.
        self.packages = _Names()
        self.packages.layer((f"{u.type}/{u.name}", p) for u, p in purls
                            if u and u.type in rules.OS_PACKAGE_TYPES)
        self.ecosystems = _Names()
        self.ecosystems.layer(
            (f"{u.type}/{u.namespace}/{u.name}" if u.namespace else f"{u.type}/{u.name}", p)
            for u, p in purls if u and u.type not in rules.OS_PACKAGE_TYPES)

        self.images = _Names()
        self.images.layer((k, v or _AMBIGUOUS) for k, v in rules.IMAGE_NAMES.items())
        self.images.layer((key, p) for u, p in purls if u for key in [purl_image_key(u)] if key)

        # One alternation of every package rule, tried first: most package names match
        # none, and one regex is ~50x cheaper than the loop over the rules.
        self.package_prefilter = re.compile("|".join(
            "(?:" + _NAMED_GROUP.sub("(?:", rule.pattern.pattern) + ")"
            for rule in rules.PACKAGE_RULES))

        self.cpes = _Names()
        self.cpes.layer((key, p.name) for p in catalog for i in p.identifiers
                        if i.type == "cpe" for key in [cpe_key(i.id)] if key)

    # Lookups.

    def token(self, name: str | None) -> str | None:
        return self.tokens.get(name.lower()) if name else None

    def appliance(self, name: str | None) -> str | None:
        """An appliance or hypervisor product by its name, label or a vendor's name for it."""
        return self.appliances.get(name.strip().lower()) if name else None

    def os_product(self, os_id: str | None, name: str | None = None) -> str | None:
        if not os_id:
            return None
        key = os_id.strip().lower().replace(" ", "")
        if key == "centos" and name and "stream" in name.lower():
            return "centos-stream"
        if key in rules.OS_IDS:
            return rules.OS_IDS[key]
        return self.os_names.get(key)

    def package(self, ptype: str, name: str) -> tuple[str | None, str | None]:
        """(product, version from the name) for an installed package, or (None, None)."""
        if name in rules.NAME_DENYLIST:
            return None, None
        found = self.packages.values.get(f"{ptype}/{name}")
        if found is not None:
            return found or None, None
        if ptype not in rules.OS_PACKAGE_TYPES:
            return self.ecosystems.get(f"{ptype}/{name}"), None
        found = self.tokens.values.get(name)
        if found is not None:
            return found or None, None
        if self.package_prefilter.fullmatch(name) is None:
            return None, None
        for rule in rules.PACKAGE_RULES:
            matched = rule.pattern.fullmatch(name)
            if matched and (not rule.types or ptype in rule.types):
                return rule.product, matched.group(rule.version_group) \
                    if rule.version_group else None
        return None, None

    def binary(self, name: str) -> str | None:
        for rule in rules.BINARY_RULES:
            if rule.pattern.fullmatch(name):
                return rule.product
        return self.token(name)

    def image(self, repository: str) -> str | None:
        found = self.images.values.get(repository)
        if found is not None:
            return found or None
        last = repository.rsplit("/", 1)[-1]
        return self.token(last) or self.os_names.get(last)

    def cpe(self, text: str) -> tuple[str | None, str | None]:
        key = cpe_key(text)
        if key is None:
            return None, None
        fields = cpe_fields(text)
        version = fields[3] if len(fields) > 3 and fields[3] not in ("*", "-", "") else None
        return self.cpes.get(key), version

    # Resolution.

    def resolve(self, hit: Hit | None) -> Match | None:
        if hit is None:
            return None
        product = self.catalog.get(hit.product)
        if product is None:
            return None  # a product this catalog does not have (e.g. the bundled subset)
        cycles = self.cycles[product.name]
        cycle: Cycle | None
        if hit.cycle is not None:
            cycle = product.cycle(hit.cycle)
        elif product.name in PICKERS:
            cycle = PICKERS[product.name](cycles, hit.version, dict(hit.hints))
        elif hit.version:
            normalise = rules.VERSION_NORMALISERS.get(product.name, components)
            cycle = cycles.prefix(normalise(hit.version))
        else:
            cycle = None
        if cycle is None:
            return Match(product.name, None, None)
        return Match(product.name, cycle.name, cycle.eol)
