"""The collector's tables: one DeclarativeBase, every column typed and commented.

The stores read and write these tables with Core statements (bulk inserts and updates for
ingest speed); the mapped classes are the schema's single description, which the Alembic
migrations in `collector/migrations/` must match (a test compares them).

Times are stored in UTC and come back timezone-aware on every backend (`UTCDateTime`):
SQLite has no time zones, PostgreSQL has `timestamptz`. Enum columns hold the enum's value
(`"open"`, `"P1"`) as plain text with no CHECK constraint, so adding a member later needs no
table rebuild on SQLite; the code is the only writer.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, TypeVar

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, MetaData, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from alerting.changes import ChangeStatus, ChangeType
from alerting.changes import Outcome as ChangeOutcome
from alerting.ticket import Criticality, Priority, Recovery, Source, Status, Urgency

# The one-open-ticket-per-key rule, as the partial unique index's predicate. Written out
# literally (not built from ACTIVE_STATUSES) because an ON CONFLICT clause must repeat the
# index predicate for PostgreSQL and SQLite to pick the index; a test checks that the two agree.
ACTIVE_PREDICATE = "status IN ('open', 'acknowledged')"
# Open host-down tickets (not themselves attached): the inhibition lookup made for every
# batch. Written as each dialect renders the query's terms, so the planner can prove the
# query implies it (SQLite renders `IS 1`, PostgreSQL `IS true`).
HOST_DOWN_PREDICATE = {
    "sqlite": f"host_down IS 1 AND parent_id IS NULL AND {ACTIVE_PREDICATE}",
    "postgresql": f"host_down IS true AND parent_id IS NULL AND {ACTIVE_PREDICATE}",
}

# Tickets that count toward "impact beyond one system" (written as the queries repeat it).
CORRELATED_PREDICATE = f"{ACTIVE_PREDICATE} AND parent_id IS NULL"
# Active tickets a maintenance window held (collector/store/maintenance.py).
HELD_PREDICATE = f"maintenance IS NOT NULL AND {ACTIVE_PREDICATE}"

E = TypeVar("E", bound=enum.Enum)


# Instants whose SQLite text a bind processor keeps (a bulk write's distinct times; the
# cache starts over when full).
_FORMATTED_TIMES = 4096


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time: stored in UTC, returned timezone-aware; a naive value is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the store needs aware times")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # SQLite keeps times as text. SQLAlchemy's SQLite DATETIME formats and parses that text
    # in Python, field by field: a third of the CPU time of a bulk ingest. The same text
    # ("2025-01-31 23:59:59.000000", what it would write) comes from the C-coded isoformat
    # and fromisoformat here, so existing rows read the same either way.

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # A bulk write binds the same few instants again and again (the batch's `now` is in
        # every row's created_at and updated_at and every event's `at`): each is formatted
        # once. Aware times equal as instants share one text, which is the same for both.
        # A naive time equals no key, so it always reaches the check below.
        texts: dict[datetime, str] = {}

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            text = texts.get(value)
            if text is not None:
                return text
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"naive datetime {value.isoformat()}: the store needs aware "
                                 "times")
            # Without its "+00:00": SQLite compares these as text.
            text = value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]
            if len(texts) >= _FORMATTED_TIMES:
                texts.clear()
            texts[value] = text
            return text

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            # Appending the offset beats .replace(tzinfo=UTC), which is 7x slower.
            return datetime.fromisoformat(value + "+00:00")

        return process


class EnumText(TypeDecorator[E]):
    """An enum stored as its value in a short text column."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_class: type[E]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        if isinstance(value, self.enum_class):
            return value.value
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_class(value)

    # The same, as plain closures with a dictionary of the members: calling the enum class
    # (Enum.__new__) for every value read cost more than the rest of a row's processing.
    # Anything not a member's value (or a member) takes the general path above.

    def bind_processor(self, dialect: Dialect) -> Any:
        members = {member: member.value for member in self.enum_class}
        general = self.process_bind_param

        def process(value: E | str | None) -> str | None:
            text = members.get(value) if type(value) is self.enum_class else None
            return text if text is not None else general(value, dialect)

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        members = {member.value: member for member in self.enum_class}
        general = self.process_result_value

        def process(value: str | None) -> E | None:
            member = members.get(value)
            return member if member is not None else general(value, dialect)

        return process


Document = JSON().with_variant(JSONB(), "postgresql")
# A document that may be absent, stored as SQL NULL (not JSON null) so a partial index can
# leave absent ones out.
OptionalDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

IntPK = Annotated[int, mapped_column(primary_key=True)]
Name = Annotated[str, mapped_column(String(255))]
Moment = Annotated[datetime, mapped_column(UTCDateTime())]
JSONObject = Annotated[dict[str, Any], mapped_column(Document)]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        Status: EnumText(Status),
        Priority: EnumText(Priority),
        Criticality: EnumText(Criticality),
        Urgency: EnumText(Urgency),
        Source: EnumText(Source),
        Recovery: EnumText(Recovery),
    }


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # One open (or acknowledged) ticket per dedup key, also across collector processes.
        Index("uq_tickets_active_dedup_key", "dedup_key", unique=True,
              sqlite_where=text(ACTIVE_PREDICATE), postgresql_where=text(ACTIVE_PREDICATE)),
        # The list filters (newest first) and the systems-affected / host-down lookups.
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_host_status", "host", "status"),
        Index("ix_tickets_component_status", "component", "status"),
        Index("ix_tickets_parent_id", "parent_id"),
        Index("ix_tickets_active_host_down", "host",
              sqlite_where=text(HOST_DOWN_PREDICATE["sqlite"]),
              postgresql_where=text(HOST_DOWN_PREDICATE["postgresql"])),
        # The escalation's correlation window: active, unattached tickets sharing a
        # component (or a service), by opening time (collector/store/escalations.py).
        Index("ix_tickets_correlated_component", "component", "created_at",
              sqlite_where=text(CORRELATED_PREDICATE),
              postgresql_where=text(CORRELATED_PREDICATE)),
        Index("ix_tickets_correlated_service", "service", "created_at",
              sqlite_where=text(CORRELATED_PREDICATE),
              postgresql_where=text(CORRELATED_PREDICATE)),
        # The console's queue: active, unattached tickets by priority then age, read a page
        # at a time from a (priority, created_at, id) cursor (collector/store/queue.py).
        Index("ix_tickets_queue", "priority", "created_at", "id",
              sqlite_where=text(CORRELATED_PREDICATE),
              postgresql_where=text(CORRELATED_PREDICATE)),
        # The active tickets a maintenance window held: metrics and early ends read these.
        Index("ix_tickets_held", "id", sqlite_where=text(HELD_PREDICATE),
              postgresql_where=text(HELD_PREDICATE)),
        # Reports: the tickets opened in a period (collector/reports/governance.py).
        Index("ix_tickets_created_at", "created_at"),
        {"comment": "The ticket queue: monitoring alerts and user reports alike."},
    )

    id: Mapped[IntPK]
    dedup_key: Mapped[str | None] = mapped_column(
        Text, comment="Identifies a monitoring problem across repeats; NULL for user tickets.")
    status: Mapped[Status] = mapped_column(comment="open, acknowledged, resolved or closed.")
    priority: Mapped[Priority] = mapped_column(comment="P1 (most urgent) to P4.")
    impact: Mapped[Criticality] = mapped_column(
        comment="Assessed impact: the system's criticality, raised by aggravating facts.")
    urgency: Mapped[Urgency] = mapped_column(comment="high, medium or low.")
    summary: Mapped[str] = mapped_column(Text, comment="One line: what is wrong.")
    description: Mapped[str] = mapped_column(Text, comment="Details written by a reporter.")
    host: Mapped[str | None] = mapped_column(String(255), comment="The affected host.")
    service: Mapped[str | None] = mapped_column(String(255), comment="The affected service.")
    component: Mapped[str | None] = mapped_column(
        String(255), comment="The affected component; tickets sharing one count its systems.")
    source: Mapped[Source] = mapped_column(comment="monitoring or user.")
    origin: Mapped[Name] = mapped_column(
        comment="What opened it: alertmanager, events, evaluator, or user.")
    reporter: Mapped[str | None] = mapped_column(
        String(255), comment="The person who reported a user ticket.")
    assignee: Mapped[str | None] = mapped_column(String(255), comment="Who works on it.")
    occurrences: Mapped[int] = mapped_column(
        comment="How many trigger signals this ticket absorbed (the first one included).")
    first_seen: Mapped[Moment] = mapped_column(comment="When the problem was first observed.")
    last_seen: Mapped[Moment] = mapped_column(comment="When it was last observed.")
    created_at: Mapped[Moment] = mapped_column(comment="When the ticket was opened.")
    updated_at: Mapped[Moment] = mapped_column(comment="When the ticket last changed.")
    acknowledged_at: Mapped[Moment | None] = mapped_column(comment="When it was acknowledged.")
    resolved_at: Mapped[Moment | None] = mapped_column(comment="When it was resolved.")
    closed_at: Mapped[Moment | None] = mapped_column(comment="When it was closed.")
    recovered_at: Mapped[Moment | None] = mapped_column(
        comment="When monitoring saw the problem end on a confirm-recovery rule; cleared when "
                "it fires again.")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id"),
        comment="The host-down ticket an inhibited alert is attached to.")
    host_down: Mapped[bool] = mapped_column(
        comment="This alert says its host is down: the host's other alerts attach to it.")
    recovery: Mapped[Recovery | None] = mapped_column(
        comment="What a recovered alert does: resolve the ticket, or confirm (a person "
                "resolves); NULL for user tickets.")
    priority_override_reason: Mapped[str | None] = mapped_column(
        Text, comment="Why a person set the priority by hand (NULL when assessed).")
    details: Mapped[JSONObject] = mapped_column(
        comment="Labels, annotations and links from the signal.")
    maintenance: Mapped[dict[str, Any] | None] = mapped_column(
        OptionalDocument,
        comment="The maintenance window it fired in ({window, name, start, end}): its "
                "escalation was held; NULL outside maintenance.")


class TicketEventRow(Base):
    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),
        # Reports: one kind of record in a period (escalations, expired acknowledgements).
        Index("ix_ticket_events_kind_at", "kind", "at"),
        {"comment": "Each ticket's audit timeline, oldest first by id."},
    )

    id: Mapped[IntPK]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), comment="The ticket.")
    at: Mapped[Moment] = mapped_column(comment="When it happened.")
    kind: Mapped[str] = mapped_column(
        String(32), comment="created, attached, acknowledged, resolved, recovered, closed, "
                            "note or priority_overridden.")
    actor: Mapped[Name] = mapped_column(
        comment="Who did it: a token name, a reporter, or a monitoring origin.")
    message: Mapped[str] = mapped_column(Text, comment="What happened, for people.")
    data: Mapped[JSONObject] = mapped_column(comment="What happened, for programs.")


class TokenRow(Base):
    __tablename__ = "tokens"
    __table_args__ = ({"comment": "API tokens (only their hashes)."},)

    id: Mapped[IntPK]
    name: Mapped[Name] = mapped_column(unique=True, comment="The token's name: the actor.")
    role: Mapped[str] = mapped_column(String(32), comment="What the token may do.")
    token_hash: Mapped[str] = mapped_column(
        String(128), unique=True, comment="Hash of the token; the token itself is not kept.")
    created_at: Mapped[Moment] = mapped_column(comment="When it was created.")
    last_used_at: Mapped[Moment | None] = mapped_column(comment="When it was last used.")
    revoked_at: Mapped[Moment | None] = mapped_column(comment="When it was revoked.")
    person: Mapped[str | None] = mapped_column(
        String(255),
        comment="The person who holds it: the actor in timelines (else the token's name).")


class InventoryPushRow(Base):
    __tablename__ = "inventory_pushes"
    __table_args__ = (
        Index("ix_inventory_pushes_host_id", "host", "id"),
        {"comment": "Inventory documents pushed by agents, one row per accepted push."},
    )

    id: Mapped[IntPK]
    host: Mapped[Name] = mapped_column(comment="The pushing host.")
    idempotency_key: Mapped[str] = mapped_column(
        String(255), unique=True, comment="The agent's key: a replayed push is stored once.")
    received_at: Mapped[Moment] = mapped_column(comment="When the collector accepted it.")
    document: Mapped[JSONObject] = mapped_column(comment="The inventory document.")


# -- patching (docs/patching.md) ---------------------------------------------------------------

# History entries still pending: each push reads its host's, the status report all of them.
PACKAGE_UPDATE_OPEN_PREDICATE = "installed_at IS NULL AND withdrawn_at IS NULL"


class PackageUpdateRow(Base):
    __tablename__ = "package_updates"
    __table_args__ = (
        # One pending entry per offered update, also across collector processes; a push
        # reads its host's pending entries through it (the host is its first column).
        Index("uq_package_updates_open", "host", "manager", "package", "architecture",
              "version", unique=True, sqlite_where=text(PACKAGE_UPDATE_OPEN_PREDICATE),
              postgresql_where=text(PACKAGE_UPDATE_OPEN_PREDICATE)),
        # Covering the exposure report: it reads these columns of a period's installations.
        Index("ix_package_updates_installed", "installed_at", "security", "exposure_seconds",
              "host"),
        Index("ix_package_updates_package_host", "package", "host"),
        {"comment": "Each update a host's package manager offered (from its inventory "
                    "pushes): when it was first seen pending and when it was installed."},
    )

    id: Mapped[IntPK]
    host: Mapped[Name] = mapped_column(comment="The host.")
    manager: Mapped[str] = mapped_column(String(16), comment="apt or dnf: whose update.")
    package: Mapped[Name] = mapped_column(comment="The package name.")
    architecture: Mapped[str] = mapped_column(
        String(32), comment="The package architecture; empty when the manager does not say.")
    version: Mapped[str] = mapped_column(String(255), comment="The candidate version offered.")
    security: Mapped[bool] = mapped_column(comment="Offered from a security source.")
    first_seen_at: Mapped[Moment] = mapped_column(
        comment="The first push that offered it (when that push was collected).")
    installed_at: Mapped[Moment | None] = mapped_column(
        comment="The first push showing the package at the candidate version or later.")
    installed_version: Mapped[str | None] = mapped_column(
        String(255), comment="The version that push showed installed.")
    exposure_seconds: Mapped[float | None] = mapped_column(
        Float(), comment="installed_at - first_seen_at in seconds, written with installed_at (the "
                "exposure report sums it without date arithmetic per row).")
    withdrawn_at: Mapped[Moment | None] = mapped_column(
        comment="When it stopped being offered without being installed (package removed, "
                "update pulled).")


# -- escalation and notification (docs/oncall.md) ---------------------------------------------

# Escalations with something to do; the timer sweep reads only these, oldest due first.
ESCALATION_DUE_PREDICATE = "due_at IS NOT NULL"
# Notifications still to deliver; the delivery loop reads only these.
NOTIFICATION_PENDING_PREDICATE = "status = 'pending'"


class EscalationPolicyRow(Base):
    __tablename__ = "escalation_policies"
    __table_args__ = ({"comment": "Escalation policies as they were when tickets opened: one "
                                  "row per distinct policy, never changed."},)

    id: Mapped[IntPK]
    digest: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the policy's canonical JSON.")
    priority: Mapped[Priority] = mapped_column(comment="The priority it was written for.")
    document: Mapped[JSONObject] = mapped_column(comment="The policy snapshot.")
    created_at: Mapped[Moment] = mapped_column(comment="When it was first stored.")


class EscalationRow(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_due_at", "due_at",
              sqlite_where=text(ESCALATION_DUE_PREDICATE),
              postgresql_where=text(ESCALATION_DUE_PREDICATE)),
        {"comment": "Each ticket's running escalation: a durable timer claimed with row locks."},
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True,
                                           comment="The ticket.")
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policies.id"),
                                           comment="The policy snapshot it follows.")
    state: Mapped[str] = mapped_column(String(16),
                                       comment="running, acknowledged or done.")
    next_step: Mapped[int] = mapped_column(comment="Index of the next step to fire.")
    epoch: Mapped[Moment] = mapped_column(
        comment="Steps' 'after' counts from here: the opening or the last re-page.")
    due_at: Mapped[Moment | None] = mapped_column(
        comment="When the sweep looks at it next; NULL: only when its ticket changes.")
    team: Mapped[str | None] = mapped_column(String(255),
                                             comment="The team whose schedule answers.")
    notified: Mapped[list[Any]] = mapped_column(
        Document, comment="[person, [channels]] pairs notified so far (for the resolve notice).")
    multi_system_at: Mapped[Moment | None] = mapped_column(
        comment="When the multi-system notice went out.")
    updated_at: Mapped[Moment] = mapped_column(comment="When it last changed.")
    restart_reason: Mapped[str | None] = mapped_column(
        Text,
        comment="Why the escalation starts over (a priority change), until its first step.")


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_pending", "next_attempt_at",
              sqlite_where=text(NOTIFICATION_PENDING_PREDICATE),
              postgresql_where=text(NOTIFICATION_PENDING_PREDICATE)),
        Index("ix_notifications_ticket_id_id", "ticket_id", "id"),
        # The claim's "no earlier pending notice to the same recipient" probe.
        Index("ix_notifications_pending_order", "ticket_id", "channel", "id",
              sqlite_where=text(NOTIFICATION_PENDING_PREDICATE),
              postgresql_where=text(NOTIFICATION_PENDING_PREDICATE)),
        Index("ix_notifications_status_id", "status", "id"),
        {"comment": "The delivery queue: every notification until delivered or dead."},
    )

    id: Mapped[IntPK]
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id"), comment="The ticket; NULL for a vendor case's reminder.")
    vendor_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("vendor_cases.id"), comment="The vendor case a follow-up reminder is about.")
    channel: Mapped[str] = mapped_column(String(64), comment="The channel's configured name.")
    recipient: Mapped[str | None] = mapped_column(
        String(255), comment="The person; NULL for a channel-only notice.")
    kind: Mapped[str] = mapped_column(
        String(32), comment="trigger, escalate, reacknowledge, multi_system, resolve or "
                            "vendor_case_reminder.")
    status: Mapped[str] = mapped_column(String(16), comment="pending, delivered or dead.")
    attempts: Mapped[int] = mapped_column(comment="Delivery attempts so far.")
    next_attempt_at: Mapped[Moment] = mapped_column(
        comment="When it may be tried (again); a claimed one is leased until then.")
    created_at: Mapped[Moment] = mapped_column(comment="When it was queued.")
    finished_at: Mapped[Moment | None] = mapped_column(
        comment="When it was delivered or given up.")
    last_error: Mapped[str | None] = mapped_column(Text, comment="Why the last attempt failed.")
    payload: Mapped[JSONObject] = mapped_column(
        comment="The message (ticket, priority, summary, step); links are signed at sending.")


class ActionUseRow(Base):
    __tablename__ = "action_uses"
    __table_args__ = ({"comment": "One-click action links already used (single use)."},)

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True,
                                       comment="The link's nonce.")
    ticket_id: Mapped[int] = mapped_column(comment="The ticket it acted on.")
    action: Mapped[str] = mapped_column(String(16), comment="ack or resolve.")
    used_at: Mapped[Moment] = mapped_column(comment="When it was used.")
    actor: Mapped[str | None] = mapped_column(
        String(255), comment="Who acted through the link (its recipient), as the timeline says.")


# -- the registry: end-of-support data, matched software, hardware, contracts (docs/registry.md)

class EosProductRow(Base):
    __tablename__ = "eos_products"
    __table_args__ = ({"comment": "End-of-support data: one endoflife.date API v1 product per "
                                  "row, replaced whole by each sync."},)

    name: Mapped[str] = mapped_column(String(255), primary_key=True,
                                      comment="The product id (endoflife.date permalink).")
    label: Mapped[str] = mapped_column(String(255), comment="The product's display name.")
    category: Mapped[str] = mapped_column(String(32), comment="os, database, lang, ...")
    document: Mapped[JSONObject] = mapped_column(comment="The API v1 `result` object.")
    synced_at: Mapped[Moment] = mapped_column(comment="When the sync that stored it ran.")


class RegistrySyncRow(Base):
    __tablename__ = "registry_syncs"
    __table_args__ = ({"comment": "Each end-of-support data sync that was applied."},)

    id: Mapped[IntPK]
    source: Mapped[str] = mapped_column(Text, comment="Where the data came from (no secrets).")
    synced_at: Mapped[Moment] = mapped_column(comment="When it was applied.")
    products: Mapped[int] = mapped_column(comment="Products stored.")
    skipped: Mapped[int] = mapped_column(comment="Malformed product documents left out.")


class HostSoftwareRow(Base):
    __tablename__ = "host_software"
    __table_args__ = (
        Index("ix_host_software_host", "host"),
        Index("ix_host_software_product_cycle", "product", "cycle"),
        {"comment": "Software found on each host and matched to end-of-support data; "
                    "replaced per host on each inventory push, for all on each sync."},
    )

    id: Mapped[IntPK]
    host: Mapped[Name] = mapped_column(comment="The host.")
    product: Mapped[Name] = mapped_column(comment="The matched product.")
    cycle: Mapped[str | None] = mapped_column(
        String(64), comment="The release cycle; NULL when the version has none in the data.")
    category: Mapped[str] = mapped_column(String(32), comment="The product's category.")
    eol_date: Mapped[date | None] = mapped_column(
        Date(), comment="End of security support (the cycle's eolFrom).")
    eol_flag: Mapped[bool | None] = mapped_column(
        comment="The cycle's isEol when it has no date (true: ended, date unknown).")
    eoes_date: Mapped[date | None] = mapped_column(
        Date(), comment="End of extended support (eoesFrom), when the product has one.")
    source: Mapped[str] = mapped_column(String(100), comment="How it was observed.")
    observed: Mapped[str] = mapped_column(Text, comment="What was observed (name version).")
    matched_at: Mapped[Moment] = mapped_column(comment="When it was matched.")
    rule: Mapped[str] = mapped_column(
        String(16), server_default="upstream",
        comment="Which support applies: upstream (the product's dates), distro (the "
                "covering release's), distro-limited (the distribution ended or limits it).")
    covered_by: Mapped[str | None] = mapped_column(
        String(64),
        comment="The distribution release whose support covers the package, e.g. Debian 12.")
    covered_eol_date: Mapped[date | None] = mapped_column(
        Date(), comment="End of the covering support (the release's security support, or the "
                        "distribution's early end for this package).")
    covered_eol_flag: Mapped[bool | None] = mapped_column(
        comment="The covering release's isEol when it has no date.")
    covered_eoes_date: Mapped[date | None] = mapped_column(
        Date(), comment="End of the covering release's extended support (Debian LTS, ...).")
    rule_note: Mapped[str] = mapped_column(
        Text, server_default="",
        comment="Why the rule applies, when not plainly (vendor build, limited support).")


class AssetRow(Base):
    __tablename__ = "assets"
    __table_args__ = ({"comment": "Hardware assets: from agents' DMI data or imported."},)

    name: Mapped[str] = mapped_column(String(255), primary_key=True,
                                      comment="The asset: a host name or an inventory tag.")
    vendor: Mapped[str | None] = mapped_column(String(255), comment="Manufacturer.")
    model: Mapped[str | None] = mapped_column(String(255), comment="Model name.")
    serial: Mapped[str | None] = mapped_column(String(255), comment="Serial number.")
    source: Mapped[str] = mapped_column(String(32), comment="inventory or import.")
    updated_at: Mapped[Moment] = mapped_column(comment="When it last changed.")


class HardwareModelRow(Base):
    __tablename__ = "hardware_models"
    __table_args__ = (
        Index("uq_hardware_models_vendor_model", "vendor", "model", unique=True),
        {"comment": "Vendor model lifecycle (end of sale, end of support) from imports."},
    )

    id: Mapped[IntPK]
    vendor: Mapped[Name] = mapped_column(comment="Manufacturer, as assets name it.")
    model: Mapped[Name] = mapped_column(comment="Model, as assets name it.")
    end_of_sale: Mapped[date | None] = mapped_column(Date(), comment="End of sale.")
    end_of_support: Mapped[date | None] = mapped_column(
        Date(), comment="End of support (EOSL): no more parts or fixes.")
    note: Mapped[str | None] = mapped_column(Text, comment="Where the dates come from.")
    imported_at: Mapped[Moment] = mapped_column(comment="When it was imported.")


class ContractRow(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        Index("uq_contracts_asset_vendor_number", "asset", "vendor", "number", unique=True),
        Index("ix_contracts_end_date", "end_date"),
        {"comment": "Warranty and support contracts per asset, from imports."},
    )

    id: Mapped[IntPK]
    asset: Mapped[Name] = mapped_column(comment="The asset (host name or inventory tag).")
    vendor: Mapped[Name] = mapped_column(comment="Who provides it.")
    number: Mapped[Name] = mapped_column(comment="The contract number.")
    kind: Mapped[str] = mapped_column(String(32), comment="warranty or support.")
    end_date: Mapped[date] = mapped_column(Date(), comment="When it ends.")
    renewal: Mapped[str] = mapped_column(
        String(32), comment="Renewal status: pending, in-progress, renewed, not-renewing.")
    owner: Mapped[str | None] = mapped_column(String(255), comment="Who handles renewal.")
    imported_at: Mapped[Moment] = mapped_column(comment="When it was imported.")


# -- the operator console (docs/console.md)

class ConsoleSessionRow(Base):
    __tablename__ = "console_sessions"
    __table_args__ = (
        Index("ix_console_sessions_expires_at", "expires_at"),
        {"comment": "Logged-in console sessions (only the hash of each session cookie)."},
    )

    id_hash: Mapped[str] = mapped_column(
        String(64), primary_key=True,
        comment="SHA-256 of the session cookie; the cookie itself is not kept.")
    token_id: Mapped[int] = mapped_column(
        ForeignKey("tokens.id"), comment="The token the person logged in with: their rights.")
    csrf: Mapped[str] = mapped_column(String(64), comment="The session's anti-forgery token.")
    created_at: Mapped[Moment] = mapped_column(comment="When the person logged in.")
    expires_at: Mapped[Moment] = mapped_column(comment="When the session ends.")


# -- changes (docs/changes.md)

class ChangeRow(Base):
    __tablename__ = "changes"
    __table_args__ = (
        # The calendar and the maintenance windows: changes by state and planned start.
        Index("ix_changes_status_planned_start", "status", "planned_start"),
        Index("ix_changes_planned_start", "planned_start"),
        {"comment": "Changes: planned work on hosts and services, approved, done and reviewed."},
    )

    id: Mapped[IntPK]
    type: Mapped[ChangeType] = mapped_column(
        EnumText(ChangeType), comment="standard (pre-approved), normal or emergency.")
    status: Mapped[ChangeStatus] = mapped_column(
        EnumText(ChangeStatus),
        comment="draft, submitted, approved, rejected, in_progress, completed or reviewed.")
    summary: Mapped[str] = mapped_column(Text, comment="One line: what changes.")
    author: Mapped[Name] = mapped_column(comment="Who created it (may not approve it).")
    host_patterns: Mapped[list[Any]] = mapped_column(
        Document, comment="The affected hosts as given (names and globs).")
    services: Mapped[list[Any]] = mapped_column(Document, comment="The affected services.")
    planned_start: Mapped[Moment] = mapped_column(comment="Start of the planned window.")
    planned_end: Mapped[Moment] = mapped_column(comment="End of the planned window.")
    timezone: Mapped[str] = mapped_column(
        String(64), comment="The IANA time zone the window was given in (shown in it).")
    team: Mapped[str | None] = mapped_column(
        String(255), comment="The team doing it: whose maintenance hours and on-call apply.")
    actual_start: Mapped[Moment | None] = mapped_column(comment="When the work started.")
    actual_end: Mapped[Moment | None] = mapped_column(comment="When the work ended.")
    outcome: Mapped[ChangeOutcome | None] = mapped_column(
        EnumText(ChangeOutcome), comment="successful, failed or rolled_back, once completed.")
    risk_assessment: Mapped[str] = mapped_column(Text, comment="Risk and impact, in words.")
    implementation_plan: Mapped[str] = mapped_column(Text, comment="How it is done.")
    rollback_plan: Mapped[str] = mapped_column(Text, comment="How it is undone.")
    documentation_url: Mapped[str | None] = mapped_column(Text, comment="Where it is written up.")
    tickets: Mapped[list[Any]] = mapped_column(Document, comment="Linked ticket ids.")
    packages: Mapped[list[Any] | None] = mapped_column(
        Document, comment="Packages a patch change installs: [{name, version}]; NULL if none.")
    risk: Mapped[dict[str, Any]] = mapped_column(
        Document, comment="The computed risk score: score, level and reasons.")
    risk_override: Mapped[dict[str, Any] | None] = mapped_column(
        Document, comment="A person's risk level with the reason and who set it.")
    approver: Mapped[str | None] = mapped_column(
        String(255), comment="Who approved or rejected it (system for a standard change).")
    decision_reason: Mapped[str | None] = mapped_column(
        Text, comment="Why it was approved or rejected.")
    decided_at: Mapped[Moment | None] = mapped_column(comment="When it was approved or rejected.")
    freeze_override_reason: Mapped[str | None] = mapped_column(
        Text, comment="Why a normal change inside a freeze was approved anyway.")
    created_at: Mapped[Moment] = mapped_column(comment="When it was created.")
    updated_at: Mapped[Moment] = mapped_column(comment="When it last changed.")


class ChangeHostRow(Base):
    __tablename__ = "change_hosts"
    __table_args__ = (
        Index("ix_change_hosts_host", "host"),
        {"comment": "The hosts each change touches, its patterns resolved when it was saved."},
    )

    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), primary_key=True,
                                           comment="The change.")
    host: Mapped[str] = mapped_column(String(255), primary_key=True, comment="A host it touches.")


class ChangeEventRow(Base):
    __tablename__ = "change_events"
    __table_args__ = (
        Index("ix_change_events_change_id_id", "change_id", "id"),
        {"comment": "Each change's timeline, oldest first by id."},
    )

    id: Mapped[IntPK]
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), comment="The change.")
    at: Mapped[Moment] = mapped_column(comment="When it happened.")
    kind: Mapped[str] = mapped_column(
        String(32), comment="created, submitted, approved, rejected, started, completed, "
                            "reviewed, note or risk_overridden.")
    actor: Mapped[Name] = mapped_column(comment="Who did it.")
    message: Mapped[str] = mapped_column(Text, comment="What happened, for people.")
    data: Mapped[JSONObject] = mapped_column(comment="What happened, for programs.")


# -- maintenance windows (docs/maintenance.md)

class MaintenanceWindowRow(Base):
    __tablename__ = "maintenance_windows"
    __table_args__ = (
        Index("ix_maintenance_windows_ended_at", "ended_at"),
        {"comment": "Maintenance windows: alerts on their scope are recorded but do not page."},
    )

    id: Mapped[IntPK]
    name: Mapped[Name] = mapped_column(comment="What the window is for, shown on tickets.")
    starts_at: Mapped[Moment] = mapped_column(
        comment="Start of the (first) occurrence; a recurrence counts from here.")
    duration_seconds: Mapped[int] = mapped_column(comment="How long each occurrence lasts.")
    rrule: Mapped[str | None] = mapped_column(
        Text, comment="RFC 5545 recurrence rule (RRULE), NULL for a one-off window.")
    timezone: Mapped[str] = mapped_column(
        String(64), comment="IANA time zone the recurrence is computed in (DST-correct).")
    hosts: Mapped[list[Any]] = mapped_column(Document, comment="Host names or globs.")
    services: Mapped[list[Any]] = mapped_column(Document, comment="Service names.")
    matchers: Mapped[list[Any]] = mapped_column(
        Document, comment="Label matchers in Alertmanager's syntax (name=\"value\", =~ ...).")
    comment: Mapped[str] = mapped_column(Text, comment="Why; free text.")
    created_by: Mapped[Name] = mapped_column(comment="Who added it.")
    created_at: Mapped[Moment] = mapped_column(comment="When it was added.")
    ended_at: Mapped[Moment | None] = mapped_column(
        comment="When it was ended by hand (no occurrence counts after); NULL otherwise.")
    ended_by: Mapped[str | None] = mapped_column(String(255), comment="Who ended it.")


# -- vendor support cases (docs/vendor-cases.md)

# Cases still waiting on someone: the reminder sweep and /metrics read only these.
VENDOR_CASE_ACTIVE_PREDICATE = "status IN ('open', 'waiting_on_vendor', 'waiting_on_us')"


class VendorCaseRow(Base):
    __tablename__ = "vendor_cases"
    __table_args__ = (
        # One case per vendor and case number: the number is how the vendor knows it.
        Index("uq_vendor_cases_vendor_case_number", "vendor", "case_number", unique=True),
        Index("ix_vendor_cases_status_id", "status", "id"),
        # The reminder sweep: active cases by follow-up date.
        Index("ix_vendor_cases_due", "next_follow_up_at",
              sqlite_where=text(VENDOR_CASE_ACTIVE_PREDICATE),
              postgresql_where=text(VENDOR_CASE_ACTIVE_PREDICATE)),
        {"comment": "Support cases opened with vendors, followed up until closed."},
    )

    id: Mapped[IntPK]
    vendor: Mapped[Name] = mapped_column(comment="Who the case is open with.")
    case_number: Mapped[Name] = mapped_column(comment="The vendor's own case number.")
    summary: Mapped[str] = mapped_column(Text, comment="One line: what the case is about.")
    severity: Mapped[str] = mapped_column(String(16), comment="critical, high, medium or low.")
    status: Mapped[str] = mapped_column(
        String(32), comment="open, waiting_on_vendor, waiting_on_us, resolved or closed.")
    owner: Mapped[Name] = mapped_column(
        comment="The person who follows it up, as the on-call schedule names them.")
    product: Mapped[str | None] = mapped_column(
        String(255), comment="The product the case is about (end-of-support product id).")
    contract: Mapped[str | None] = mapped_column(
        String(255), comment="The number of the registry contract it falls under.")
    past_end_of_support: Mapped[list[Any]] = mapped_column(
        Document, comment="Why it concerns something past end of support, when opened "
                          "(empty: nothing known).")
    follow_up_days: Mapped[int] = mapped_column(comment="The follow-up interval in days.")
    next_follow_up_at: Mapped[Moment | None] = mapped_column(
        comment="When it is next due for a follow-up; NULL once resolved or closed.")
    last_vendor_update_at: Mapped[Moment | None] = mapped_column(
        comment="When the vendor last answered.")
    last_reminded_at: Mapped[Moment | None] = mapped_column(
        comment="When its owner was last reminded.")
    reminders: Mapped[int] = mapped_column(comment="Reminders sent so far.")
    opened_by: Mapped[Name] = mapped_column(comment="Who opened it.")
    opened_at: Mapped[Moment] = mapped_column(comment="When it was opened.")
    updated_at: Mapped[Moment] = mapped_column(comment="When a person last updated it.")
    resolved_at: Mapped[Moment | None] = mapped_column(comment="When it was resolved.")
    closed_at: Mapped[Moment | None] = mapped_column(comment="When it was closed.")


class VendorCaseLinkRow(Base):
    __tablename__ = "vendor_case_links"
    __table_args__ = (
        Index("ix_vendor_case_links_kind_target", "kind", "target"),
        {"comment": "What a vendor case concerns: tickets, changes and hosts."},
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("vendor_cases.id"), primary_key=True,
                                         comment="The case.")
    kind: Mapped[str] = mapped_column(String(16), primary_key=True,
                                      comment="ticket, change or host.")
    target: Mapped[str] = mapped_column(String(255), primary_key=True,
                                        comment="The ticket or change id, or the host name.")


class VendorCaseEventRow(Base):
    __tablename__ = "vendor_case_events"
    __table_args__ = (
        Index("ix_vendor_case_events_case_id_id", "case_id", "id"),
        {"comment": "Each vendor case's timeline: updates, notes, reminders, oldest first."},
    )

    id: Mapped[IntPK]
    case_id: Mapped[int] = mapped_column(ForeignKey("vendor_cases.id"), comment="The case.")
    at: Mapped[Moment] = mapped_column(comment="When it happened.")
    kind: Mapped[str] = mapped_column(
        String(32), comment="opened, updated, vendor_update, note, reminder_queued, "
                            "reminded, reminder_failed, resolved, closed or reopened.")
    actor: Mapped[Name] = mapped_column(comment="Who did it: a person, or the collector.")
    message: Mapped[str] = mapped_column(Text, comment="What happened, for people.")
    data: Mapped[JSONObject] = mapped_column(comment="What happened, for programs.")
