"""The governance signals' rules as pure functions: thresholds (no sentence below them), ties,
an empty period and a period with nothing before it to compare (collector/reports/signals.py),
and the period's parsing and refusals (collector/reports/period.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from collector.reports.period import choose, quarter_period
from collector.reports.signals import (
    MTT_MIN_TICKETS,
    PROBLEM_SHARE,
    REPEAT_MIN_TICKETS,
    Facts,
    TicketFact,
    signals,
)

START = datetime(2026, 7, 6, 10, tzinfo=UTC)


def ticket(n: int, priority: str = "P2", component: str | None = "db", source: str = "monitoring",
           ack_minutes: float | None = 10, fix_minutes: float | None = 60,
           start: datetime = START) -> TicketFact:
    """One ticket, opened n hours after `start` (a group of one, as the store counts them)."""
    opened = start + timedelta(hours=n)
    return TicketFact(priority=priority, component=component, source=source,
                      day=opened.date(), count=1,
                      acknowledged=int(ack_minutes is not None),
                      ack_seconds=(ack_minutes or 0) * 60.0,
                      resolved=int(fix_minutes is not None),
                      fix_seconds=(fix_minutes or 0) * 60.0)


def facts(tickets=(), previous=(), **extra) -> Facts:
    base = dict(period_label="2026Q3", previous_label="2026Q2", next_label="2026Q4",
                as_of=date(2026, 9, 30), near_label="8 months", tickets=tuple(tickets),
                previous=tuple(previous), escalated_to_manager=(), expired_acks=0,
                dead_letters=0, eos=(), hardware_next=(), contracts_next=(), patch_lags=None)
    return Facts(**(base | extra))


def rules(found) -> list[str]:
    return [s.rule for s in found]


def test_an_empty_period_says_nothing():
    assert signals(facts()) == []


def components(counts: dict[str | None, int], priority: str = "P2") -> list[TicketFact]:
    out, n = [], 0
    for component, count in counts.items():
        for _ in range(count):
            out.append(ticket(n, priority, component))
            n += 1
    return out


@pytest.mark.parametrize(("counts", "said"), [
    # Fewer tickets than REPEAT_MIN_TICKETS: no Pareto sentence even at 100%.
    ({"db": REPEAT_MIN_TICKETS - 1}, None),
    # Exactly the minimum, all one component.
    ({"db": REPEAT_MIN_TICKETS}, ("db", 100)),
    # 3 of 10 = 30%: at the threshold, said.
    ({"db": 3, "a": 2, "b": 2, "c": 2, "d": 1}, ("db", 30)),
    # 2 of 10 = 20%: below, not said.
    ({"db": 2, "a": 2, "b": 2, "c": 2, "d": 2}, None),
    # Tickets without a component count in the total, and are never the finding.
    ({None: 6, "db": 4}, ("db", 40)),
])
def test_repeat_incidents_threshold(counts, said):
    found = [s for s in signals(facts(components(counts))) if s.rule == "repeat_p2"]
    if said is None:
        assert found == []
        return
    (signal,) = found
    component, percent = said
    assert signal.number == percent
    assert f"{percent}% of P2 incidents" in signal.sentence and component in signal.sentence
    assert signal.data["components"] == [component]
    assert percent / 100 >= PROBLEM_SHARE


def test_a_tie_names_every_leading_component():
    (signal,) = [s for s in signals(facts(components({"b": 4, "a": 4, "c": 2})))
                 if s.rule == "repeat_p2"]
    assert signal.data["components"] == ["a", "b"]
    assert "concern a and b each" in signal.sentence and signal.number == 40


def test_p1_and_p2_are_separate_rules():
    found = signals(facts(components({"db": 10}, "P1") + components({"web": 10}, "P2")))
    assert {"repeat_p1", "repeat_p2"} <= set(rules(found))
    # P1 weighs more than P2.
    assert rules(found).index("repeat_p1") < rules(found).index("repeat_p2")


def test_response_times_need_a_previous_period_and_enough_tickets():
    now = [ticket(n, "P1", f"c{n}", ack_minutes=30) for n in range(MTT_MIN_TICKETS)]
    before = [ticket(n, "P1", f"c{n}", ack_minutes=10, start=START - timedelta(days=91))
              for n in range(MTT_MIN_TICKETS)]
    # Nothing before: no comparison.
    assert not [s for s in signals(facts(now)) if s.rule.startswith("mtt")]
    # One ticket too few before: none either.
    assert not [s for s in signals(facts(now, before[1:])) if s.rule.startswith("mtt")]
    (mtta,) = [s for s in signals(facts(now, before)) if s.rule == "mtta_p1"]
    assert mtta.number == 200 and "worsened from 10.0 min to 30.0 min (+200%" in mtta.sentence
    # The same MTTR both times: said for neither.
    assert "mttr_p1" not in rules(signals(facts(now, before)))


def test_a_small_change_in_response_time_is_not_a_signal():
    now = [ticket(n, "P2", ack_minutes=10.9) for n in range(MTT_MIN_TICKETS)]
    before = [ticket(n, "P2", ack_minutes=10, start=START - timedelta(days=91))
              for n in range(MTT_MIN_TICKETS)]
    assert "mtta_p2" not in rules(signals(facts(now, before)))   # +9%: below 10%
    faster = [ticket(n, "P2", ack_minutes=5) for n in range(MTT_MIN_TICKETS)]
    (signal,) = [s for s in signals(facts(faster, before)) if s.rule == "mtta_p2"]
    assert signal.number == -50 and "improved" in signal.sentence


def test_counts_are_said_only_when_something_happened():
    assert rules(signals(facts(escalated_to_manager=(3, 3, 5), expired_acks=2,
                               dead_letters=1))) == [
        "escalation_manager", "expired_acks", "dead_letters"]   # same rule weight: by count
    (manager,) = signals(facts(escalated_to_manager=(3, 3, 5)))
    assert manager.number == 2       # tickets, not records
    assert signals(facts(patch_lags=())) == []


def test_volume_against_a_previous_period():
    now = [ticket(n, component=f"c{n}", source="user" if n < 3 else "monitoring")
           for n in range(12)]
    (volume,) = signals(facts(now))
    assert volume.sentence == ("12 tickets opened: 75% from monitoring (9), 25% from users (3).")
    (volume,) = signals(facts(now, now[:8]))
    assert volume.sentence.endswith("; +50% against 2026Q2 (8).")


def test_signals_are_ordered_by_weight():
    found = signals(facts(components({"db": 10}), expired_acks=1, patch_lags=(86400.0,),
                          patch_changes=1))
    assert [s.weight for s in found] == sorted((s.weight for s in found), reverse=True)
    assert rules(found)[0] == "repeat_p2" and rules(found)[-1] == "volume"


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2026Q4", date(2026, 10, 1), date(2027, 1, 1)),
    ("2026-q1", date(2026, 1, 1), date(2026, 4, 1)),
])
def test_quarters(text, start, end):
    period = quarter_period(text)
    assert (period.start, period.end) == (start, end)


def test_previous_and_following_periods():
    q1 = quarter_period("2026Q1")
    assert q1.previous().label == "2025Q4" and q1.following_quarter().label == "2026Q2"
    span = choose(quarter=None, start=date(2026, 8, 1), end=date(2026, 8, 31),
                  today=date(2026, 12, 7))
    assert (span.previous().start, span.previous().end) == (date(2026, 7, 1), date(2026, 8, 1))
    assert span.following_quarter().label == "2026Q4"
    # No period given: the last complete quarter.
    assert choose(quarter=None, start=None, end=None, today=date(2026, 12, 7)).label == "2026Q3"


@pytest.mark.parametrize(("given", "reason"), [
    (dict(quarter="2027Q1"), "2027Q1 starts on 2027-01-01, in the future"),
    (dict(start=date(2026, 9, 1), end=date(2026, 8, 1)), "from (2026-09-01) is after to"),
    (dict(start=date(2026, 9, 1)), "from and to go together"),
    (dict(quarter="2026Q3", start=date(2026, 9, 1), end=date(2026, 9, 2)), "not both"),
    (dict(quarter="2026Q5"), "'2026Q5' is not a quarter such as 2026Q4"),
])
def test_refused_periods(given, reason):
    arguments = dict(quarter=None, start=None, end=None) | given
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        choose(**arguments, today=date(2026, 12, 7))
