"""The governance review's signals: computed findings in sentences, each with its number and
the rule that produced it, ordered by weight (docs/reports.md).

Pure: the facts a report gathered (collector/reports/governance.py) in, `Signal`s out. A rule
that has nothing to say says nothing: no sentence below its threshold, none without data. The
thresholds are the constants below; docs/reports.md states each one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from statistics import mean

from registry.lifecycle import Item, Status

# Repeat incidents: a component's share of a priority's tickets is worth a sentence from this
# many tickets of that priority (fewer: no Pareto), and from this share on it merits a
# problem investigation (ITIL problem management); below it, no sentence.
REPEAT_MIN_TICKETS = 10
PROBLEM_SHARE = 0.30
# MTTA/MTTR: compared when both periods have this many measured tickets of the priority,
# and said when the mean moved by at least this fraction.
MTT_MIN_TICKETS = 5
MTT_CHANGE = 0.10
# Vendor cases still waiting after this many days are "aging".
CASE_AGE_DAYS = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketFact:
    """The tickets of one priority, component and source opened on one day (UTC): how many,
    and the sums the response times are means of (the store aggregates them)."""

    priority: str
    component: str | None
    source: str
    day: date
    count: int = 1
    acknowledged: int = 0         # of them acknowledged
    ack_seconds: float = 0.0      # sum of acknowledged_at - created_at over those
    resolved: int = 0
    fix_seconds: float = 0.0      # sum of resolved_at - created_at over the resolved ones


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFact:
    vendor: str
    case_number: str
    summary: str
    status: str
    age_days: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeFact:
    id: int
    summary: str
    outcome: str
    incidents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What the report knows about its period, its previous one, and what is due next."""

    period_label: str
    previous_label: str
    next_label: str
    as_of: date
    near_label: str                               # "8 months"
    tickets: tuple[TicketFact, ...]               # opened in the period (unattached)
    previous: tuple[TicketFact, ...]              # opened in the previous period
    escalated_to_manager: tuple[int, ...]         # tickets whose escalation reached the role
    expired_acks: int
    dead_letters: int
    eos: tuple[Item, ...]                         # software past or near end of support
    hardware_next: tuple[Item, ...]               # hardware EOSL past or in the next quarter
    contracts_next: tuple[Item, ...]              # contracts ending by the next quarter's end
    patch_lags: tuple[float, ...] | None          # applied hosts' lag (s); None: no changes
    patch_changes: int = 0
    cases: tuple[CaseFact, ...] | None = None     # active vendor cases; None: none recorded
    changes: tuple[ChangeFact, ...] | None = None  # failed/rolled back; None: none recorded


@dataclass(frozen=True, slots=True)
class Signal:
    rule: str          # which rule produced it (a key of RULES)
    weight: float      # ordering: heavier first
    number: float      # the figure the sentence is about
    sentence: str
    how: str           # the rule in words: what was counted, against which threshold
    data: dict = field(default_factory=dict, compare=False)


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


# -- end of support ---------------------------------------------------------------------------

def eos_signals(facts: Facts) -> list[Signal]:
    out = []
    past = [i for i in facts.eos if i.status is Status.PAST]
    near = [i for i in facts.eos if i.status is Status.NEAR]
    for items, rule, weight, says in (
            (past, "eos_past", 100, "are already past end of support"),
            (near, "eos_near", 90, f"reach end of support within the next {facts.near_label}")):
        hosts = sorted({i.host for i in items})
        if not hosts:
            continue
        products = Counter()
        for product, members in _by_product(items).items():
            products[product] = len({m.host for m in members})
        listing = ", ".join(f"{p}: {n}" for p, n in products.most_common(5))
        verb = says if len(hosts) != 1 else says.replace("are ", "is ").replace("reach ",
                                                                                 "reaches ")
        out.append(Signal(
            rule, weight + len(hosts) / 1000, len(hosts),
            f"{_plural(len(hosts), 'system')} {verb} ({listing}).",
            "distinct hosts with a matched product cycle whose applicable support (security, "
            "then extended) ended on or before the report date" if rule == "eos_past" else
            f"distinct hosts with a cycle whose support ends within {facts.near_label} of the "
            "report date (and none past)",
            {"hosts": hosts, "by_product": dict(products)}))
    return out


def _by_product(items: Sequence[Item]) -> dict[str, list[Item]]:
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        groups[f"{item.what} {item.version or ''}".strip()].append(item)
    return groups


# -- repeat incidents -------------------------------------------------------------------------

def component_shares(tickets: Sequence[TicketFact], priority: str) -> list[tuple[str, int]]:
    """(component, tickets) for one priority, most first, then by name; tickets without a
    component count in the total as "(none)"."""
    counts: Counter[str] = Counter()
    for t in tickets:
        if t.priority == priority:
            counts[t.component or "(none)"] += t.count
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def repeat_signals(facts: Facts) -> list[Signal]:
    out = []
    for priority, weight in (("P1", 85), ("P2", 80)):
        shares = component_shares(facts.tickets, priority)
        total = sum(n for _, n in shares)
        if total < REPEAT_MIN_TICKETS:
            continue
        named = [(c, n) for c, n in shares if c != "(none)"]
        if not named:
            continue
        top = named[0][1]
        leaders = [c for c, n in named if n == top]
        share = top / total
        if share < PROBLEM_SHARE:
            continue
        names = " and ".join(leaders)
        each = " each" if len(leaders) > 1 else ""
        out.append(Signal(
            f"repeat_{priority.lower()}", weight + share, round(share * 100),
            f"{_pct(share)} of {priority} incidents ({top} of {total}) concern {names}{each}: "
            f"above the {_pct(PROBLEM_SHARE)} that merits a problem investigation.",
            f"the largest share of the period's {priority} tickets one component holds; said "
            f"from {REPEAT_MIN_TICKETS} {priority} tickets and a share of "
            f"{_pct(PROBLEM_SHARE)}",
            {"components": leaders, "tickets": top, "total": total}))
    return out


# -- response times ---------------------------------------------------------------------------

def mtt(tickets: Sequence[TicketFact], priority: str, which: str) -> tuple[int, float]:
    """(tickets measured, total seconds) from opening to acknowledgement (`mtta`) or
    resolution (`mttr`), for one priority."""
    count, total = 0, 0.0
    for t in tickets:
        if t.priority != priority:
            continue
        if which == "mtta":
            count, total = count + t.acknowledged, total + t.ack_seconds
        else:
            count, total = count + t.resolved, total + t.fix_seconds
    return count, total


def mtt_signals(facts: Facts) -> list[Signal]:
    out = []
    for which, name in (("mtta", "MTTA"), ("mttr", "MTTR")):
        for priority in ("P1", "P2", "P3", "P4"):
            now, now_total = mtt(facts.tickets, priority, which)
            before, before_total = mtt(facts.previous, priority, which)
            if now < MTT_MIN_TICKETS or before < MTT_MIN_TICKETS:
                continue
            a, b = before_total / before, now_total / now
            if a <= 0:
                continue
            change = (b - a) / a
            if abs(change) < MTT_CHANGE:
                continue
            worse = change > 0
            until = "acknowledgement" if which == "mtta" else "resolution"
            rank = {"P1": 4, "P2": 3, "P3": 2, "P4": 1}[priority]
            out.append(Signal(
                f"{which}_{priority.lower()}", (60 if worse else 30) + rank + abs(change) / 100,
                round(change * 100),
                f"{name} for {priority} {'worsened' if worse else 'improved'} from "
                f"{_duration(a)} to {_duration(b)} ({'+' if worse else ''}{round(change * 100)}%"
                f" against {facts.previous_label}).",
                f"mean time from opening to {until} of the {priority} tickets opened in each "
                f"period; said when both periods have "
                f"{MTT_MIN_TICKETS} measured tickets and it moved {_pct(MTT_CHANGE)} or more",
                {"previous_seconds": a, "seconds": b, "tickets": now,
                 "previous_tickets": before}))
    return out


# -- volume, escalations, notifications -------------------------------------------------------

def volume_signals(facts: Facts) -> list[Signal]:
    total = sum(t.count for t in facts.tickets)
    if total == 0:
        return []
    monitoring = sum(t.count for t in facts.tickets if t.source == "monitoring")
    users = total - monitoring
    sentence = (f"{_plural(total, 'ticket')} opened: {_pct(monitoring / total)} from monitoring "
                f"({monitoring}), {_pct(users / total)} from users ({users})")
    before = sum(t.count for t in facts.previous)
    if before:
        change = (total - before) / before
        sentence += (f"; {'+' if change >= 0 else ''}{round(change * 100)}% against "
                     f"{facts.previous_label} ({before})")
    return [Signal("volume", 20, total, sentence + ".",
                   "tickets opened in the period (attached alerts not counted), by source",
                   {"monitoring": monitoring, "user": users, "previous": before})]


def escalation_signals(facts: Facts) -> list[Signal]:
    out = []
    reached = len(set(facts.escalated_to_manager))
    if reached:
        out.append(Signal(
            "escalation_manager", 70 + reached / 1000, reached,
            f"{_plural(reached, 'ticket')} escalated up to the escalation manager.",
            "tickets whose escalation notified the escalation_manager role in the period "
            "(their timeline's 'escalated' records)", {}))
    if facts.expired_acks:
        out.append(Signal(
            "expired_acks", 50 + facts.expired_acks / 1000, facts.expired_acks,
            f"{_plural(facts.expired_acks, 'acknowledgement')} expired without a resolution "
            "and paged again.",
            "'acknowledgement_expired' records on tickets' timelines in the period", {}))
    if facts.dead_letters:
        out.append(Signal(
            "dead_letters", 50 + facts.dead_letters / 1000, facts.dead_letters,
            f"{_plural(facts.dead_letters, 'notification')} could not be delivered "
            "(dead letters).",
            "notifications given up (status dead) in the period", {}))
    return out


# -- what is due next quarter -----------------------------------------------------------------

def due_signals(facts: Facts) -> list[Signal]:
    out = []
    hosts = sorted({i.host for i in facts.hardware_next})
    if hosts:
        past = sum(1 for i in facts.hardware_next if i.status is Status.PAST)
        out.append(Signal(
            "hardware_eol", 45 + len(hosts) / 1000, len(hosts),
            f"{_plural(len(hosts), 'asset')} past or reaching hardware end of support by the end "
            f"of {facts.next_label} ({past} already past).",
            f"assets whose model's end of support (EOSL) is on or before the end of "
            f"{facts.next_label}", {"assets": hosts}))
    contracts = [i for i in facts.contracts_next]
    if contracts:
        out.append(Signal(
            "contract_renewals", 45 + len(contracts) / 1000, len(contracts),
            f"{_plural(len(contracts), 'contract')} not yet renewed end by the end of "
            f"{facts.next_label}: {', '.join(sorted({i.version or '' for i in contracts})[:5])}"
            f"{'...' if len(contracts) > 5 else ''}.",
            f"contracts ending on or before the end of {facts.next_label} whose renewal is not "
            "'renewed'", {}))
    return out


# -- patching, vendor cases, changes ----------------------------------------------------------

def patch_signals(facts: Facts) -> list[Signal]:
    if not facts.patch_lags:
        return []
    lag = mean(facts.patch_lags)
    days = lag / 86400
    return [Signal(
        "patch_lag", 55 + max(days, 0) / 1000, round(days, 1),
        f"Patches were applied on average {days:.1f} days "
        f"{'later' if days >= 0 else 'earlier'} than planned "
        f"({_plural(len(facts.patch_lags), 'host')}, {_plural(facts.patch_changes, 'change')}).",
        "mean of installed - planned start over the hosts of the patch changes planned in "
        "the period where the agents' inventory shows the packages installed "
        "(docs/patching.md)", {})]


def case_signals(facts: Facts) -> list[Signal]:
    if not facts.cases:
        return []
    aging = [c for c in facts.cases if c.age_days >= CASE_AGE_DAYS]
    if not aging:
        return []
    oldest = max(aging, key=lambda c: c.age_days)
    return [Signal(
        "vendor_cases", 40 + len(aging) / 1000, len(aging),
        f"{_plural(len(aging), 'vendor case')} open for {CASE_AGE_DAYS} days or more; the "
        f"oldest, {oldest.vendor} {oldest.case_number}, for {oldest.age_days} days.",
        f"cases still waiting on someone at the report date, opened {CASE_AGE_DAYS} or more "
        "days before it", {})]


def change_signals(facts: Facts) -> list[Signal]:
    if not facts.changes:
        return []
    harmful = [c for c in facts.changes if c.incidents]
    if not harmful:
        return []
    incidents = sum(c.incidents for c in harmful)
    return [Signal(
        "changes_incidents", 65 + len(harmful) / 1000, len(harmful),
        f"{_plural(len(harmful), 'failed or rolled-back change')} of {len(facts.changes)} "
        f"caused {_plural(incidents, 'incident')}.",
        "failed or rolled-back changes started in the period with tickets opened on their "
        "hosts during their window or within the attribution period after it "
        "(docs/changes.md)", {})]


# The rules, in one table: each turns the facts into zero or more signals.
RULES: tuple[Callable[[Facts], list[Signal]], ...] = (
    eos_signals, repeat_signals, mtt_signals, volume_signals, escalation_signals,
    due_signals, patch_signals, case_signals, change_signals)


def signals(facts: Facts) -> list[Signal]:
    """Every rule's signals, heaviest first (ties by rule name)."""
    found = [s for rule in RULES for s in rule(facts)]
    return sorted(found, key=lambda s: (-s.weight, s.rule))
