"""Choosing a product's release cycle for an observed version.

The default is the longest of the product's cycle names that is a prefix of the version on
version-component boundaries (`ProductCycles.prefix`: 1.1.1k is in 1.1.1; 10.11 is not in 10.1;
9.6.24 is in 9.6, 10.23 in 10), after the product's normaliser (VERSION_NORMALISERS in
registry/product_rules.py). A few products have dedicated pickers (PICKERS, one table): Windows
builds and editions, SQL Server service-pack build bands, NVIDIA driver branches, Jenkins weekly
vs LTS, COS milestones, Exchange releases, PAN-OS's XFR line. The catalog index
(registry/catalog_index.py) holds one ProductCycles per product and chooses through this table
in `CatalogIndex.resolve`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from registry.end_of_support import Cycle, Product
from registry.product_rules import components
from registry.windows_rules import EXCHANGE_CYCLES


class ProductCycles:
    """One product's cycles, indexed for version prefixes and Windows-style builds."""

    __slots__ = ("by_build", "by_codename", "by_prefix", "cycles", "longest", "product")

    def __init__(self, product: Product) -> None:
        self.product = product
        self.cycles = product.cycles
        self.by_prefix: dict[tuple[int, ...], Cycle] = {}
        self.by_build: dict[int, list[Cycle]] = {}
        codenames: dict[str, Cycle | None] = {}
        for cycle in product.cycles:
            if re.fullmatch(r"\d+(\.\d+)*", cycle.name):
                key = tuple(int(p) for p in cycle.name.split("."))
                self.by_prefix.setdefault(key, cycle)  # newest first: keep the first
            latest = components(cycle.latest) if cycle.latest else None
            if latest and len(latest) >= 3:
                self.by_build.setdefault(latest[2], []).append(cycle)
            if cycle.codename:
                word = cycle.codename.split()[0].lower()
                codenames[word] = None if word in codenames else cycle
        self.by_codename = {k: v for k, v in codenames.items() if v is not None}
        self.longest = max((len(k) for k in self.by_prefix), default=0)

    def prefix(self, parts: tuple[int, ...] | None) -> Cycle | None:
        """The cycle whose name is the longest prefix of `parts`."""
        if not parts:
            return None
        for size in range(min(len(parts), self.longest), 0, -1):
            cycle = self.by_prefix.get(parts[:size])
            if cycle is not None:
                return cycle
        return None


# Cycle pickers: product -> (cycles, version, hints) -> Cycle | None.

Picker = Callable[[ProductCycles, str | None, dict[str, str]], Cycle | None]


def _variant(cycle_name: str) -> str:
    """windows cycle "10-21h2-e-lts" -> "e-lts"; "10-22h2" -> ""."""
    return "-".join(cycle_name.split("-")[2:])


def _choose_variant(candidates: list[Cycle], variant: str | None) -> Cycle | None:
    if not candidates:
        return None
    plain = [c for c in candidates if not _variant(c.name)]
    if variant:
        exact = [c for c in candidates if _variant(c.name) == variant]
        if exact:
            return exact[0]
        # A build without edition variants (10-22h2) serves Home/Pro and Enterprise alike;
        # an LTSC edition needs its own cycle.
        return plain[0] if plain and variant in ("e", "w") else None
    if len(candidates) == 1:
        return candidates[0]
    return None  # several editions with different dates: unknown edition, unknown cycle


def _build_of(version: str | None, hints: dict[str, str]) -> int | None:
    for text in (hints.get("build"), version):
        parts = components(text) if text else None
        if parts and len(parts) == 1 and parts[0] > 1000:
            return parts[0]
        if parts and len(parts) >= 3:
            return parts[2]
    return None


def _pick_windows(cycles: ProductCycles, version: str | None,
                  hints: dict[str, str]) -> Cycle | None:
    build = _build_of(version, hints)
    variant = hints.get("variant")
    found = _choose_variant(cycles.by_build.get(build, []), variant) if build else None
    if found is not None or build in cycles.by_build:
        return found
    display = (hints.get("display") or "").lower()
    if display and build:
        major = "11" if build >= 22000 else "10"
        named = [c for c in cycles.cycles if c.name.startswith(f"{major}-{display}")]
        return _choose_variant(named, variant)
    return None


_LTSC_YEARS = frozenset({"2000", "2003", "2008", "2012", "2016", "2019", "2022", "2025"})


def _pick_windows_server(cycles: ProductCycles, version: str | None,
                         hints: dict[str, str]) -> Cycle | None:
    """Build first (10.0.20348 is 2022); a build two releases share (17763: 2019 LTSC and
    1809 SAC) is told apart by the caption's year, its absence meaning a semi-annual or
    annual channel release ("Windows Server Datacenter"); service packs by CSDVersion."""
    build = _build_of(version, hints)
    year, sp, r2 = hints.get("year"), hints.get("sp"), hints.get("r2") == "1"
    if build in cycles.by_build:
        candidates = cycles.by_build[build]
    elif year:
        stem = f"{year}-r2" if r2 else year
        candidates = [c for c in cycles.cycles if c.name == stem or (
            c.name.startswith(f"{stem}-") and (r2 or "-r2" not in c.name))]
    else:
        return None
    if year:
        candidates = [c for c in candidates if c.name.split("-")[0] == year]
        if sp:
            with_sp = [c for c in candidates if c.name.endswith(f"-sp{sp}")]
            return with_sp[0] if with_sp else None
        plain = [c for c in candidates if c.name in (year, f"{year}-r2")]
        if plain:
            return plain[0]
        return candidates[0] if len(candidates) == 1 else None
    if len(candidates) == 1:
        return candidates[0]
    if "caption" in hints:
        channel = [c for c in candidates if c.name.split("-")[0] not in _LTSC_YEARS]
        return channel[0] if len(channel) == 1 else None
    return None


def _sql_group(cycle: Cycle) -> tuple[int, ...] | None:
    parts = components(cycle.name.split("-")[0])
    return parts[:2] if parts else None


def _sql_band(group: list[Cycle], build: int) -> Cycle | None:
    """Each service pack has its own band of build numbers (2016 RTM 1601-2218, SP1
    4001-4604, SP2 5026-5893, SP3 6300-6xxx): the cycle whose latest build is in the same
    thousand, else the first cycle whose latest build is not below the observed one."""
    latest = sorted((lb[2], c) for c in group
                    if (lb := components(c.latest or "")) and len(lb) >= 3)
    same = [c for b, c in latest if b // 1000 == build // 1000]
    if len(same) == 1:
        return same[0]
    above = [c for b, c in latest if b >= build]
    return above[0] if above and not same else None


def _pick_mssql(cycles: ProductCycles, version: str | None, hints: dict[str, str]) -> Cycle | None:
    parts = components(version) if version else None
    if parts and len(parts) >= 2:
        group = [c for c in cycles.cycles if _sql_group(c) == parts[:2]]
        level = (hints.get("level") or "").lower()
        if level.startswith("sp"):
            named = [c for c in group if c.name.endswith(f"-{level}")]
            if named:
                return named[0]
        elif level == "rtm":
            rtm = [c for c in group if "-sp" not in c.name]
            if len(rtm) == 1:
                return rtm[0]
        if len(group) == 1:
            return group[0]
        if len(parts) >= 3:
            return _sql_band(group, parts[2])
        return None
    year = hints.get("year")
    if year:
        labelled = [c for c in cycles.cycles
                    if (c.label or "").startswith(year) and "-" not in c.name]
        return labelled[0] if len(labelled) == 1 else None
    return None


def _pick_nvidia(cycles: ProductCycles, version: str | None, hints: dict[str, str]) -> Cycle | None:
    parts = components(version) if version else None
    if not parts:
        return None
    system = (hints.get("os") or ("windows" if len(parts) == 2 else "linux")).lower()
    if "win" in system:
        # Windows drivers of branch r535 are numbered 536.xx-539.xx.
        branches = sorted((int(m.group(1)), c) for c in cycles.cycles
                          if (m := re.fullmatch(r"r(\d+)-windows", c.name)))
        below = [(b, c) for b, c in branches if b <= parts[0] < b + 5]
        return below[-1][1] if below else None
    return cycles.product.cycle(f"r{parts[0]}-linux")


def _pick_jenkins(cycles: ProductCycles, version: str | None,
                  hints: dict[str, str]) -> Cycle | None:
    parts = components(version) if version else None
    if not parts:
        return None
    if len(parts) == 2:  # weekly releases are 2.x; LTS releases are 2.x.y
        return cycles.product.cycle(str(parts[0]))
    return cycles.by_prefix.get(parts[:2])  # an LTS line the data does not list: no cycle


def _pick_cos(cycles: ProductCycles, version: str | None, hints: dict[str, str]) -> Cycle | None:
    parts = components(version) if version else None
    return cycles.product.cycle(f"cos-{parts[0]}") if parts else None


def _pick_exchange(cycles: ProductCycles, version: str | None,
                   hints: dict[str, str]) -> Cycle | None:
    """Exchange cycles are release years; the version's major.minor (and, for 15.2, the build:
    2019 or Subscription Edition) names the release (EXCHANGE_CYCLES)."""
    parts = components(version) if version else None
    if not parts or len(parts) < 2:
        return None
    build = parts[2] if len(parts) > 2 else None
    for prefix, first_build, name in EXCHANGE_CYCLES:
        if parts[:len(prefix)] != prefix:
            continue
        if first_build and (build is None or build < first_build):
            if build is None:
                return None  # 15.2 without a build: 2019 or Subscription Edition
            continue
        return cycles.product.cycle(name)
    return None


def _pick_panos(cycles: ProductCycles, version: str | None,
                hints: dict[str, str]) -> Cycle | None:
    """PAN-OS: by prefix, except the VM-Series XFR line (9.0-XFR), a cycle of its own that the
    version's -xfr suffix names."""
    parts = components(version) if version else None
    if parts and len(parts) >= 2 and "xfr" in (version or "").lower():
        return cycles.product.cycle(f"{parts[0]}.{parts[1]}-xfr")
    return cycles.prefix(parts)


PICKERS: dict[str, Picker] = {
    "windows": _pick_windows,
    "windows-server": _pick_windows_server,
    "windows-server-core": _pick_windows_server,
    "windows-nano-server": _pick_windows_server,
    "mssqlserver": _pick_mssql,
    "nvidia": _pick_nvidia,
    "jenkins": _pick_jenkins,
    "cos": _pick_cos,
    "msexchange": _pick_exchange,
    "panos": _pick_panos,
}
