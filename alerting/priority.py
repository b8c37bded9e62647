"""Priority from impact x urgency (ITIL style), one function for user and monitoring tickets.

Impact starts at the affected system's criticality and is raised one level for each
aggravating fact: the problem touches more than one system, or the system is past its end of
support (an input the registry fills). The matrix maps (impact, urgency) to P1..P4 and can be
replaced in the collector's settings. Pure: plain values in, an `Assessment` out, with the
reasons spelled out for the ticket's timeline.

Default matrix (docs/configuration.md):

    impact \\ urgency    high  medium  low
    business-critical   P1    P1      P2
    high                P1    P2      P3
    medium              P2    P3      P4
    low                 P3    P4      P4
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alerting.ticket import Criticality, Priority, Urgency

# Most severe first: raising impact moves toward index 0.
IMPACT_ORDER: tuple[Criticality, ...] = (
    Criticality.BUSINESS_CRITICAL, Criticality.HIGH, Criticality.MEDIUM, Criticality.LOW,
)

Matrix = Mapping[Criticality, Mapping[Urgency, Priority]]

DEFAULT_MATRIX: Matrix = {
    Criticality.BUSINESS_CRITICAL: {Urgency.HIGH: Priority.P1, Urgency.MEDIUM: Priority.P1,
                                    Urgency.LOW: Priority.P2},
    Criticality.HIGH: {Urgency.HIGH: Priority.P1, Urgency.MEDIUM: Priority.P2,
                       Urgency.LOW: Priority.P3},
    Criticality.MEDIUM: {Urgency.HIGH: Priority.P2, Urgency.MEDIUM: Priority.P3,
                         Urgency.LOW: Priority.P4},
    Criticality.LOW: {Urgency.HIGH: Priority.P3, Urgency.MEDIUM: Priority.P4,
                      Urgency.LOW: Priority.P4},
}


@dataclass(frozen=True, slots=True)
class ImpactSource:
    """Where a ticket's starting impact came from, said on its timeline: the system's
    configured criticality (`detail`: which rule, e.g. "host glob web-*", "default") or the
    person who reported it."""

    kind: str            # a key of _SOURCE_WORDING
    detail: str | None = None

    def reason(self, impact: Criticality) -> str:
        text = _SOURCE_WORDING[self.kind].format(impact=impact.value)
        return f"{text} ({self.detail})" if self.detail else text


_SOURCE_WORDING = {
    "system": "system criticality {impact}",
    "user": "impact {impact}",
}
USER_REPORTED = ImpactSource("user", "reported by the user")


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    impact: Criticality
    urgency: Urgency
    priority: Priority
    reasons: tuple[str, ...]


def raise_impact(impact: Criticality, steps: int = 1) -> Criticality:
    index = max(0, IMPACT_ORDER.index(impact) - steps)
    return IMPACT_ORDER[index]


def assess(*, criticality: Criticality, urgency: Urgency, systems_affected: int = 1,
           past_end_of_support: bool = False, matrix: Matrix = DEFAULT_MATRIX,
           source: ImpactSource | None = None) -> Assessment:
    """The priority of a problem on a system of `criticality`, with the reasons; `source`
    says where `criticality` came from (default: the system's criticality, unexplained)."""
    impact = criticality
    reasons = [(source or ImpactSource("system")).reason(criticality)]
    if systems_affected > 1:
        impact = raise_impact(impact)
        reasons.append(f"{systems_affected} systems affected: impact raised to {impact.value}")
    if past_end_of_support:
        impact = raise_impact(impact)
        reasons.append(f"system past end of support: impact raised to {impact.value}")
    priority = matrix[impact][urgency]
    reasons.append(f"impact {impact.value} x urgency {urgency.value} = {priority.value}")
    return Assessment(impact=impact, urgency=urgency, priority=priority, reasons=tuple(reasons))


def validate_matrix(matrix: Matrix) -> None:
    """Every (impact, urgency) pair must be present; raises ValueError naming the gap."""
    for impact in IMPACT_ORDER:
        row = matrix.get(impact)
        if row is None:
            raise ValueError(f"priority matrix has no row for impact {impact.value!r}")
        for urgency in Urgency:
            if urgency not in row:
                raise ValueError(f"priority matrix row {impact.value!r} has no {urgency.value!r}")
