"""What people do with changes, the same for every way in (the API; the CLI goes through it):
create, the moves of the state machine, notes, a risk override, conflicts and the calendar.

Parse (collector/payloads/changes.py) -> the domain (alerting/changes.py: the rules, the risk
score, conflicts) -> the store (collector/store/changes.py). The inputs the domain needs from
elsewhere come in through the constructor: the criticality settings, who is past end of
support (the registry), the on-call schedules when configured, and the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.changes import (
    APPROVERS,
    INCIDENT_DAYS,
    Action,
    ChangeRefused,
    ChangeStatus,
    Conflict,
    Outcome,
    Risk,
    RiskInputs,
    RiskLevel,
    assess_risk,
    conflicts,
    freezes_in,
    resolve_hosts,
)
from alerting.changes import decide as decide_move
from alerting.schedule import Schedules
from alerting.ticket import Criticality
from collector.change_settings import ChangeSettings
from collector.config import CriticalitySettings
from collector.store import changes as store
from collector.store.changes import Change, NewChange, Update

log = logging.getLogger("regie.collector.changes")

# Most critical first, for "the most critical affected system".
_SEVERITY = (Criticality.BUSINESS_CRITICAL, Criticality.HIGH, Criticality.MEDIUM,
             Criticality.LOW)


class BadChange(ValueError):
    """A change the collector cannot accept as given (400): the message names the field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """A change as a person describes it (collector/payloads/changes.py reads it)."""

    type: Any                       # alerting.changes.ChangeType
    summary: str
    hosts: tuple[str, ...] = ()     # names and globs
    services: tuple[str, ...] = ()
    planned_start: datetime
    planned_end: datetime
    timezone: str = "UTC"
    team: str | None = None
    risk_assessment: str = ""
    implementation_plan: str = ""
    rollback_plan: str = ""
    documentation_url: str | None = None
    tickets: tuple[int, ...] = ()
    packages: tuple[store.Package, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """A move asked for: by whom (their role decides what they may), with what."""

    action: Action
    actor: str
    role: str
    reason: str | None = None
    outcome: Outcome | None = None
    freeze_override: str | None = None
    at: datetime | None = None       # when it happened, if not now (start, complete)


class ChangeDesk:
    def __init__(self, engine: AsyncEngine, *, settings: ChangeSettings,
                 criticality: CriticalitySettings,
                 past_end_of_support: Callable[[str], bool] = lambda host: False,
                 schedules: Schedules | None = None,
                 clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.settings = settings
        self.criticality = criticality
        self.past_end_of_support = past_end_of_support
        self.schedules = schedules
        self.now = clock

    # -- create ------------------------------------------------------------------------------

    async def create(self, draft: Draft, *, author: str) -> Change:
        if draft.planned_end <= draft.planned_start:
            raise BadChange("planned_end: must be after planned_start")
        try:
            hosts = resolve_hosts(draft.hosts, await store.known_hosts(self.engine))
        except ValueError as exc:
            raise BadChange(f"hosts: {exc}") from None
        missing = sorted(set(draft.tickets) - await store.existing_tickets(self.engine,
                                                                           draft.tickets))
        if missing:
            raise BadChange(f"tickets: no ticket {missing[0]}")
        team = self.settings.team_of(draft.team)
        risk = await self._risk(change_type=draft.type, hosts=hosts, services=draft.services,
                                start=draft.planned_start, end=draft.planned_end, team=team)
        now = self.now()
        change_id = await store.insert_change(self.engine, NewChange(
            type=draft.type, summary=draft.summary, author=author, host_patterns=draft.hosts,
            hosts=hosts, services=draft.services, planned_start=draft.planned_start,
            planned_end=draft.planned_end, timezone=draft.timezone, team=team,
            risk_assessment=draft.risk_assessment,
            implementation_plan=draft.implementation_plan, rollback_plan=draft.rollback_plan,
            documentation_url=draft.documentation_url, tickets=draft.tickets,
            packages=draft.packages, risk=risk.document()), now)
        log.info("change %d created by %s (%s, risk %s)", change_id, author, draft.type.value,
                 risk.level.value)
        change = await store.get_change(self.engine, change_id)
        assert change is not None  # just written
        return change

    async def _risk(self, *, change_type, hosts: Sequence[str], services: Sequence[str],
                    start: datetime, end: datetime, team: str | None) -> Risk:
        criticality, source = self._most_critical(hosts, services)
        incidents = await store.incident_count(
            self.engine, hosts=hosts, services=services,
            since=self.now() - timedelta(days=INCIDENT_DAYS))
        hours = self.settings.maintenance_hours.get(team) if team else None
        return assess_risk(RiskInputs(
            change_type=change_type, criticality=criticality, criticality_source=source,
            systems=len(hosts) + len(services),
            past_end_of_support=tuple(h for h in hosts if self.past_end_of_support(h)),
            incidents=incidents, team=team, hours=hours,
            in_hours=None if hours is None else hours.covers(start, end),
            freezes=freezes_in(start, end, self.settings.freezes)))

    def _most_critical(self, hosts: Sequence[str],
                       services: Sequence[str]) -> tuple[Criticality, str]:
        found = [self.criticality.explain(host=h, service=None) for h in hosts]
        found += [self.criticality.explain(host=None, service=s) for s in services]
        if not found:
            return self.criticality.default, "default"
        return min(found, key=lambda item: _SEVERITY.index(item[0]))

    # -- moves -------------------------------------------------------------------------------

    async def act(self, change_id: int, request: Request) -> Change:
        """Make the move (ChangeRefused: 409, or 403 when `forbidden`; ChangeNotFound)."""
        now = self.now()
        at = request.at or now
        risk: Risk | None = None
        if request.action is Action.SUBMIT:
            # The score as of submission: incidents and freezes may have changed since the
            # draft was written.
            current = await store.get_change(self.engine, change_id)
            if current is None:
                raise store.ChangeNotFound(change_id)
            risk = await self._risk(change_type=current.type, hosts=current.hosts,
                                    services=current.services, start=current.planned_start,
                                    end=current.planned_end, team=current.team)

        def step(change: Change) -> Update:
            move = decide_move(
                change_type=change.type, status=change.status, action=request.action,
                role=request.role, actor=request.actor, author=change.author,
                reason=request.reason, outcome=request.outcome,
                freezes=freezes_in(change.planned_start, change.planned_end,
                                   self.settings.freezes),
                freeze_override=request.freeze_override)
            values: dict[str, Any] = {"status": move.target}
            events = []
            if request.action is Action.SUBMIT:
                assert risk is not None  # computed above
                values["risk"] = risk.document()
                events.append(("submitted", f"submitted; risk {risk.level.value} "
                               f"(score {risk.score})", {"risk": risk.document()}))
                if move.pre_approved:
                    values.update(decided_at=now,
                                  decision_reason="pre-approved (standard change)")
                    events.append(("approved", "approved: pre-approved standard change",
                                   {"pre_approved": True}))
            elif request.action in (Action.APPROVE, Action.REJECT):
                values.update(approver=request.actor, decided_at=now,
                              decision_reason=request.reason)
                data: dict[str, Any] = {"reason": request.reason}
                text = f"{move.kinds[0]} by {request.actor}"
                if request.reason:
                    text += f": {request.reason}"
                if request.freeze_override and request.action is Action.APPROVE:
                    values["freeze_override_reason"] = request.freeze_override
                    data["freeze_override"] = request.freeze_override
                    text += f" (freeze overridden: {request.freeze_override})"
                events.append((move.kinds[0], text, data))
            elif request.action is Action.START:
                values["actual_start"] = at
                early = " before approval (emergency)" if change.status is \
                    ChangeStatus.SUBMITTED else ""
                events.append(("started", f"work started{early}", {"at": at.isoformat()}))
            elif request.action is Action.COMPLETE:
                if change.actual_start is not None and at < change.actual_start:
                    raise ChangeRefused("the end of the work is before its start ("
                                        f"{change.actual_start.isoformat()})")
                values.update(actual_end=at, outcome=request.outcome)
                assert request.outcome is not None  # decide requires it
                events.append(("completed", f"completed: {request.outcome.value}"
                               + (f": {request.reason}" if request.reason else ""),
                               {"outcome": request.outcome.value, "at": at.isoformat()}))
            elif request.action is Action.REVIEW:
                events.append(("reviewed", f"reviewed by {request.actor}"
                               + (f": {request.reason}" if request.reason else ""),
                               {"reason": request.reason}))
            return Update(values=values, events=tuple(events))

        change = await store.move(self.engine, change_id, step, actor=request.actor, now=now)
        log.info("change %d %s by %s: now %s", change_id, request.action.value,
                 request.actor, change.status.value)
        return change

    async def override_risk(self, change_id: int, *, level: RiskLevel, reason: str,
                            actor: str, role: str) -> Change:
        if role not in APPROVERS:
            raise ChangeRefused(f"role {role!r} may not override a change's risk (roles that "
                                f"may: {', '.join(sorted(APPROVERS))})", forbidden=True)
        now = self.now()

        def step(change: Change) -> Update:
            computed = change.risk["level"]
            override = {"level": level.value, "reason": reason, "by": actor,
                        "at": now.isoformat()}
            return Update(values={"risk_override": override}, events=((
                "risk_overridden", f"risk set to {level.value} (computed: {computed}): "
                                   f"{reason}", {"level": level.value, "computed": computed,
                                                 "reason": reason}),))

        return await store.move(self.engine, change_id, step, actor=actor, now=now)

    # -- conflicts and the calendar -------------------------------------------------------

    async def conflicts_of(self, changes: Sequence[Change]) -> dict[int, tuple[Conflict, ...]]:
        """The warnings for each change (one read of the changes overlapping them all)."""
        if not changes:
            return {}
        start = min(c.planned_start for c in changes)
        end = max(c.planned_end for c in changes)
        others = await store.planned_overlapping(self.engine, start, end)
        return {c.id: conflicts(c.planned(), others=others, freezes=self.settings.freezes,
                                gaps=self._gaps(c)) for c in changes}

    def _gaps(self, change: Change) -> list[tuple[str, str, datetime, datetime]]:
        """Times in the window with nobody on call: the change's team when the schedules
        have it, else every team (primary role only: who would be paged)."""
        if self.schedules is None:
            return []
        teams = {t.name for t in self.schedules.teams}
        wanted = {change.team} if change.team in teams else teams
        return [(g.team, g.role, g.start, g.end)
                for g in self.schedules.gaps(change.planned_start, change.planned_end)
                if g.team in wanted and g.role == "primary"]
