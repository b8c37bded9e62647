"""Signals, reports and an injected clock for the store tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from alerting.priority import Assessment, assess
from alerting.ticket import Action, Criticality, Recovery, Signal, Urgency, UserReport

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def trigger(key: str, *, host: str | None = "web-01", component: str | None = None,
            summary: str | None = None, seconds: float = 0, host_down: bool = False,
            urgency: Urgency = Urgency.MEDIUM, recovery: Recovery = Recovery.RESOLVE,
            origin: str = "alertmanager", details: dict[str, Any] | None = None) -> Signal:
    return Signal(dedup_key=key, action=Action.TRIGGER, origin=origin,
                  summary=summary or f"{key} firing", occurred_at=at(seconds), host=host,
                  component=component, urgency=urgency, recovery=recovery, host_down=host_down,
                  details=details or {})


def resolve(key: str, *, seconds: float = 0, recovery: Recovery = Recovery.RESOLVE,
            origin: str = "alertmanager") -> Signal:
    return Signal(dedup_key=key, action=Action.RESOLVE, origin=origin,
                  summary=f"{key} recovered", occurred_at=at(seconds), recovery=recovery)


def acknowledge(key: str, *, seconds: float = 0, origin: str = "events") -> Signal:
    return Signal(dedup_key=key, action=Action.ACKNOWLEDGE, origin=origin,
                  summary=f"{key} acknowledged", occurred_at=at(seconds))


def report(summary: str = "VPN drops every hour", **fields: Any) -> UserReport:
    return UserReport(summary=summary, reporter=fields.pop("reporter", "alice"), **fields)


@dataclass
class Assessor:
    """`assess` for apply_signals: medium-criticality systems; records what it was asked."""

    criticality: Criticality = Criticality.MEDIUM
    calls: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, signal: Signal, systems_affected: int) -> Assessment:
        self.calls.append((signal.dedup_key, systems_affected))
        return assess(criticality=self.criticality, urgency=signal.urgency,
                      systems_affected=systems_affected)
