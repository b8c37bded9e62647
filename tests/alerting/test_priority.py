"""Priority from impact x urgency: the whole default matrix and every aggravating fact."""

from __future__ import annotations

import pytest

from alerting.priority import DEFAULT_MATRIX, assess, raise_impact, validate_matrix
from alerting.ticket import Criticality as C
from alerting.ticket import Priority as P
from alerting.ticket import Urgency as U


@pytest.mark.parametrize(
    ("criticality", "urgency", "expected"),
    [
        (C.BUSINESS_CRITICAL, U.HIGH, P.P1), (C.BUSINESS_CRITICAL, U.MEDIUM, P.P1),
        (C.BUSINESS_CRITICAL, U.LOW, P.P2),
        (C.HIGH, U.HIGH, P.P1), (C.HIGH, U.MEDIUM, P.P2), (C.HIGH, U.LOW, P.P3),
        (C.MEDIUM, U.HIGH, P.P2), (C.MEDIUM, U.MEDIUM, P.P3), (C.MEDIUM, U.LOW, P.P4),
        (C.LOW, U.HIGH, P.P3), (C.LOW, U.MEDIUM, P.P4), (C.LOW, U.LOW, P.P4),
    ],
)
def test_default_matrix(criticality, urgency, expected):
    assert assess(criticality=criticality, urgency=urgency).priority == expected


@pytest.mark.parametrize(
    ("systems", "past_eos", "impact", "priority"),
    [
        (1, False, C.MEDIUM, P.P3),
        (2, False, C.HIGH, P.P2),
        (1, True, C.HIGH, P.P2),
        (5, True, C.BUSINESS_CRITICAL, P.P1),
    ],
)
def test_aggravating_facts_raise_impact(systems, past_eos, impact, priority):
    result = assess(criticality=C.MEDIUM, urgency=U.MEDIUM, systems_affected=systems,
                    past_end_of_support=past_eos)
    assert (result.impact, result.priority) == (impact, priority)
    assert result.reasons[-1] == f"impact {impact.value} x urgency medium = {priority.value}"


def test_impact_is_capped_at_business_critical():
    assert raise_impact(C.BUSINESS_CRITICAL, 3) == C.BUSINESS_CRITICAL
    assert raise_impact(C.LOW, 2) == C.HIGH


def test_custom_matrix_is_used():
    flat = {c: dict.fromkeys(U, P.P4) for c in C}
    assert assess(criticality=C.BUSINESS_CRITICAL, urgency=U.HIGH, matrix=flat).priority == P.P4


def test_validate_matrix_names_the_gap():
    validate_matrix(DEFAULT_MATRIX)
    broken = {c: dict(row) for c, row in DEFAULT_MATRIX.items()}
    del broken[C.LOW][U.LOW]
    with pytest.raises(ValueError, match="row 'low' has no 'low'"):
        validate_matrix(broken)
