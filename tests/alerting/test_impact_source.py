"""Where a ticket's starting impact came from, as its timeline's first reason says it."""

from __future__ import annotations

import pytest

from alerting.priority import USER_REPORTED, ImpactSource, assess
from alerting.ticket import Criticality as C
from alerting.ticket import Urgency as U


@pytest.mark.parametrize(("source", "impact", "first_reason"), [
    (None, C.LOW, "system criticality low"),
    (USER_REPORTED, C.LOW, "impact low (reported by the user)"),
    (ImpactSource("system", "host glob web-*"), C.HIGH,
     "system criticality high (host glob web-*)"),
    (ImpactSource("system", "default"), C.MEDIUM, "system criticality medium (default)"),
    (ImpactSource("system", "service payroll"), C.BUSINESS_CRITICAL,
     "system criticality business-critical (service payroll)"),
])
def test_the_first_reason_names_the_source(source, impact, first_reason):
    result = assess(criticality=impact, urgency=U.LOW, source=source)
    assert result.reasons[0] == first_reason
    assert result.reasons[-1].startswith(f"impact {impact.value} x urgency low = ")


def test_the_source_changes_no_priority():
    for source in (None, USER_REPORTED, ImpactSource("system", "default")):
        assert assess(criticality=C.HIGH, urgency=U.MEDIUM, past_end_of_support=True,
                      source=source).priority.value == "P1"
