"""Reading samples back out of a registry, for assertions that do not know every label."""

from __future__ import annotations

from prometheus_client import CollectorRegistry


def series(registry: CollectorRegistry, name: str,
           target: str | None = None) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of every sample called `name`, optionally of one target only."""
    return [(s.labels, s.value) for family in registry.collect() for s in family.samples
            if s.name == name and (target is None or s.labels.get("target") == target)]


def names_for(registry: CollectorRegistry, target: str) -> set[str]:
    """Every sample name the target has in this scrape."""
    return {s.name for family in registry.collect() for s in family.samples
            if s.labels.get("target") == target}
