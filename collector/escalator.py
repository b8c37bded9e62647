"""The escalation loop: sweeps due escalation timers and turns decisions into queued notices.

`Escalator.sweep_once` claims due escalations (collector/store/escalations.py) and, for each,
asks `alerting.escalation.decide` what to do now, with the schedule (alerting/schedule.py)
answering who is on call and whether it is business hours. The resulting notices become rows
on the delivery queue, one per channel, in the same transaction.

The loop sweeps every `sweep_interval_seconds` (0.5 s by default: a step fires within that of
its due time, after a restart too, since the timers are in the database) and at once when
`wake()` is called (a ticket opened or changed in this process).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from alerting.escalation import Audit, Decision, NoticeKind, decide
from alerting.escalation_policy import Policies
from alerting.inhibition import alert_labels
from alerting.maintenance import Occurrence
from alerting.notify.channels import Channel
from alerting.schedule import Schedules
from alerting.ticket import ACTIVE_STATUSES
from collector.rounds import Rounds
from collector.store.escalations import (
    SWEEP_LIMIT,
    Due,
    EscalationPlan,
    EscalationStore,
    Planned,
    Queued,
    Reassess,
    SweepResult,
)

log = logging.getLogger("regie.collector.escalation")

# The notice kinds a channel message knows; a multi-system notice is an escalation.
_MESSAGE_KIND = {NoticeKind.MULTI_SYSTEM: "escalate"}
# Timeline kinds that are also logged (at INFO) when their sweep commits.
_LOGGED = frozenset({"escalated", "escalation_failed", "acknowledgement_expired"})
# How far ahead to look for the start of business hours (a team with none: never).
_BUSINESS_SEARCH = timedelta(days=8)


class Escalator:
    def __init__(self, store: EscalationStore, *, policies: Policies,
                 schedules: Schedules | None, channels: Mapping[str, Channel],
                 clock: Callable[[], datetime], sweep_interval_seconds: float = 0.5,
                 on_sweep: Callable[[SweepResult, float], None] | None = None,
                 reassess: Reassess | None = None) -> None:
        self.store = store
        self.policies = policies
        self.schedules = schedules
        self._teams = {t.name: t for t in schedules.teams} if schedules is not None else {}
        self.channels = channels
        self._clock = clock
        self._rounds = Rounds(sweep_interval_seconds)
        self._on_sweep = on_sweep
        # Prices a ticket again when its correlation group spans systems (the intake's
        # criticality and matrix); None: priorities stay as assessed at opening.
        self._reassess = reassess
        # (ticket, audit) of the steps the running sweep_once fired, logged (and counted) after
        # its commit; None outside sweep_once (a caller sweeping the store itself logs nothing).
        self._told_log: list[tuple[int, Audit]] | None = None
        # The maintenance windows (collector/maintenance.py): a due step of a monitoring
        # ticket inside one waits for its end. None: no windows are held.
        self.maintenance: Any = None

    # -- what new tickets start with --------------------------------------------------------

    def team_for(self, facts: Mapping[str, str | None]) -> str | None:
        team = self.policies.routing.team_for(facts)
        if team is None and self.schedules is not None and self.schedules.teams:
            team = self.schedules.teams[0].name
        return team

    async def plan(self) -> EscalationPlan:
        """Store the policies (once per distinct policy) and say what new tickets start with."""
        ids = await self.store.register(self.policies, now=self._clock())
        return EscalationPlan(policy_ids=ids, team_for=self.team_for)

    # -- the loop ---------------------------------------------------------------------------

    def wake(self) -> None:
        self._rounds.wake()

    async def run(self) -> None:
        async def round_() -> bool:
            return (await self.sweep_once()).claimed >= SWEEP_LIMIT   # a backlog: again

        await self._rounds.run(round_, what="escalation sweep", log=log)

    async def sweep_once(self) -> SweepResult:
        loop = asyncio.get_running_loop()
        started = loop.time()
        told: list[tuple[int, Audit]] = []
        self._told_log = told
        try:
            result = await self.store.sweep(self._clock(), self.planned,
                                            window_seconds=self.policies.correlation.window,
                                            reassess=self._reassess)
        finally:
            self._told_log = None
        # Said once committed: a rolled-back sweep escalated nobody.
        for ticket_id, audit in told:
            log.info("ticket %d escalated: %s", ticket_id, audit.message)
        steps = tuple(audit.data["step"] for _, audit in told
                      if audit.kind == "escalated" and audit.data.get("step") is not None)
        if steps:
            result = replace(result, steps=steps)
        if self._on_sweep is not None:
            self._on_sweep(result, loop.time() - started)
        return result

    # -- one escalation ---------------------------------------------------------------------

    def planned(self, due: Due, now: datetime) -> Planned:
        audits: list[Audit] = []
        if self.maintenance is not None and due.source == "monitoring" \
                and due.facts.status in ACTIVE_STATUSES:
            labels = alert_labels(details=due.details, host=due.host, component=due.component)
            occurrence = self.maintenance.covering(due.host, due.service, labels, now)
            if occurrence is not None:
                return _held(due, occurrence)
            marker = due.maintenance
            if marker and due.state.next_step == 0 and not due.state.notified:
                audits.append(Audit(
                    "maintenance_ended",
                    f"maintenance {marker.get('name')} (window {marker.get('window')}) is "
                    "over and the alert is still active: escalating now", dict(marker)))
        decision = decide(due.policy, due.state, due.facts, now, who=self._who,
                          hours=self._hours)
        queued: list[Queued] = []
        # (step, person) -> the channels a notice was queued on: what the timeline says.
        told: dict[tuple[int | None, str | None], list[str]] = {}
        reasons: dict[int | None, str] = {}
        for notice in decision.notices:
            reasons[notice.step] = self._reason(due, notice)
            names = notice.channels or tuple(self.channels)
            if not names:
                audits.append(Audit("notification_failed",
                                    f"no channel configured to tell {notice.recipient}"))
            for name in names:
                channel = self.channels.get(name)
                if channel is None:
                    audits.append(Audit("notification_failed",
                                        f"channel {name!r} is not configured (any more)",
                                        {"channel": name}))
                    continue
                problem = self._unreachable(channel, notice.recipient)
                if problem:
                    audits.append(Audit("notification_failed",
                                        f"{notice.recipient} via {name}: {problem}",
                                        {"channel": name, "recipient": notice.recipient}))
                    continue
                queued.append(Queued(name, notice.recipient, notice.kind.value,
                                     self._payload(due, notice, now)))
                told.setdefault((notice.step, notice.recipient), []).append(name)
        decision = replace(decision, audits=tuple(
            _as_queued(audit, told, reasons) for audit in decision.audits))
        if self._told_log is not None:
            self._told_log.extend((due.ticket_id, a) for a in decision.audits
                                  if a.kind in _LOGGED)
        return Planned(decision=decision, notifications=queued, audits=audits)

    def _reason(self, due: Due, notice) -> str:
        """Why this person is told now: a restart's reason (a priority change) replaces the
        first step's "first notification"."""
        if due.restart_reason and notice.kind is NoticeKind.TRIGGER:
            return due.restart_reason
        return notice.reason

    def _payload(self, due: Due, notice, now: datetime) -> dict[str, Any]:
        steps = len(due.policy.steps)
        step = None
        if notice.step is not None:
            step = f"step {notice.step} of {steps}"
            if notice.role:
                step += f": {notice.role.replace('_', ' ')}"
        annotations = due.details.get("annotations") if isinstance(due.details, Mapping) else None
        runbook = annotations.get("runbook_url") if isinstance(annotations, Mapping) else None
        kind = _MESSAGE_KIND.get(notice.kind, notice.kind.value)
        if due.restart_reason and notice.kind is NoticeKind.TRIGGER:
            kind = "priority_changed"
        return {
            "kind": kind,
            "notice": notice.kind.value,
            "priority": due.facts.priority.value, "status": due.facts.status.value,
            "summary": due.summary, "host": due.host, "component": due.component,
            "runbook_url": runbook if isinstance(runbook, str) else None,
            "step": step, "reason": self._reason(due, notice), "recipient": notice.recipient,
            "occurred_at": now.isoformat(),
        }

    def _unreachable(self, channel: Channel, person: str | None) -> str | None:
        """Why `person` cannot be told through `channel`, or None."""
        if channel.kind != "email" or getattr(channel.settings, "to", ()):
            return None
        if person is None:
            return "the channel has no 'to' and the notice has no person"
        contact = self.schedules.people.get(person) if self.schedules else None
        if contact is None or not contact.email:
            return f"{person} has no e-mail address in the schedule"
        return None

    def _who(self, role: str, team: str | None, at: datetime) -> tuple[str, ...]:
        if self.schedules is None:
            return ()
        if team is not None and team not in self._teams:
            return ()
        return tuple(dict.fromkeys(s.person for s in self.schedules.who(at, role, team)))

    def _hours(self, team: str | None, at: datetime) -> tuple[bool, datetime | None]:
        found = self._teams.get(team) if team is not None else None
        if found is None:
            return True, None  # no team, no business hours to respect
        if found.in_business_hours(at):
            return True, None
        return False, _next_business_start(found.in_business_hours, at)


def _held(due: Due, occurrence: Occurrence) -> Planned:
    """No notice while the ticket is in a maintenance window: look again at its end. An
    escalation that has paged nobody yet counts its steps from then."""
    state = due.state
    if state.next_step == 0 and not state.notified:
        state = replace(state, epoch=occurrence.end)
    marker = occurrence.marker()
    audit = Audit("escalation_held",
                  f"escalation held: during maintenance {occurrence.window.name} (window "
                  f"{occurrence.window.key}) until {marker['end']}", marker)
    return Planned(decision=Decision(notices=(), audits=(audit,), state=state,
                                     due_at=occurrence.end), maintenance=marker)


def _next_business_start(inside: Callable[[datetime], bool], at: datetime) -> datetime | None:
    """The first minute at or after `at` inside business hours: 15-minute strides, then a
    binary search to the minute."""
    stride = timedelta(minutes=15)
    probe = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = at + _BUSINESS_SEARCH
    while probe < end and not inside(probe):
        probe += stride
    if probe >= end:
        return None
    low, high = probe - stride, probe      # outside at low (or before at), inside at high
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            break
        if inside(middle):
            high = middle
        else:
            low = middle
    return max(high, at)


def _as_queued(audit: Audit, told: Mapping[tuple[int | None, str | None], list[str]],
               reasons: Mapping[int | None, str]) -> Audit:
    """An `escalated` audit said as it happened: who was queued on which channel, once (the
    pure decision names the policy's channels, which may be "every channel": none by name).
    Delivery then adds its own row (`notified` or `notification_failed`)."""
    if audit.kind != "escalated" or "recipients" not in audit.data:
        return audit
    data = dict(audit.data)
    step = data.get("step")
    if step is not None:
        head = f"step {step} ({data.get('target') or 'channel'})"
    else:   # the multi-system notice; its reason says how many systems, and who decides
        head = "multi-system impact"
    parts, queued = [], {}
    for person in data["recipients"]:
        who = person or "the channel"
        channels = told.get((step, person), [])
        queued[who] = list(channels)
        parts.append(f"{who} via {', '.join(channels)}" if channels
                     else f"{who}: not reachable (see below)")
    data["queued"] = queued
    why = reasons.get(step)
    message = f"{head}: queued for {'; '.join(parts)}" + (f": {why}" if why else "")
    return Audit(audit.kind, message, data)
