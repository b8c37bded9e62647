"""The delivery loop: takes notifications off the durable queue and sends them.

Each claimed notification is rendered (alerting/notify/message.py) with fresh signed
one-click links (alerting/notify/links.py) and sent through its channel
(alerting/notify/channels.py). The outcome decides the row's fate:

- delivered: finished, with a timeline row on the ticket;
- worth retrying (timeouts, 5xx, 429, SMTP 4xx): again after an exponential backoff
  (10 s doubling, at most 1 h), or after the receiver's `Retry-After` when that is longer;
- not worth retrying (other 4xx, SMTP 5xx, refused by the SSRF check) or out of attempts:
  a dead letter, visible in `GET /api/v1/notifications?status=dead` and
  `regie_notifications_queued{status="dead"}`, with a timeline row saying why.

A per-channel rate limit (token bucket, `rate_per_minute`) gives a claimed notification back
untried when the channel's budget is spent; nothing is dropped.

Channels are isolated from each other: each has its own `concurrency` sends at a time, a
channel with that many claimed and unfinished is left out of the next claim, and each
delivery's outcome is written as soon as it is known. The delivery loop does not wait for a
round's slowest send before claiming again, so a receiver that never answers costs its own
notices their timeout and nobody else's a moment (before, one such receiver held every other
channel's notices for its timeout times its share of the round: 30 pages to a good webhook
took 50 s to send and 80 s to record beside 30 to a stuck one). A notice that waits for its
channel's slot longer than `SLOT_WAIT_SECONDS` is given back untried (not an attempt), so no
send outlives its lease.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alerting.notify.case_reminder import CaseReminder
from alerting.notify.channels import Channel, SendContext
from alerting.notify.delivery import Delivery
from alerting.notify.links import (
    VIEW_EXPIRES_SECONDS,
    action_url,
    sign_action,
    sign_view,
    ticket_page_url,
)
from alerting.notify.message import Notification
from alerting.schedule import Schedules
from collector.failure_streak import FailureStreak
from collector.rounds import Rounds
from collector.store.notifications import Claimed, NotificationStore, Outcome

log = logging.getLogger("regie.collector.notify")

CLAIM_LIMIT = 50
# Outcome -> the regie_notification_outcomes_total label.
_COUNTED = {"delivered": "delivered", "dead": "dead", "retry": "retried",
            "released": "rate_limited"}
# Kinds of notice that ask their person to act (a page); "resolve" only informs, and a
# vendor case's follow-up reminder is no on-call load.
_NOT_PAGES = frozenset({"resolve", "vendor_case_reminder"})
LEASE_SECONDS = 120.0        # longer than any channel's timeout
SEND_DEADLINE_SECONDS = LEASE_SECONDS / 2
# Waiting for the channel's slot and then sending ends well within the lease.
SLOT_WAIT_SECONDS = LEASE_SECONDS - SEND_DEADLINE_SECONDS - 10.0
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 3600.0
# A URL in a failure's reason (a webhook's address, a link in a receiver's answer): left out of
# log lines, since a webhook's path is often its credential (Slack, Teams, Discord). The
# punctuation that ends a reason's part ("webhook http://h/x: HTTP 500") is not part of it.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*?(?=[:,;)]?(?:\s|$))")


@dataclass(slots=True)
class TokenBucket:
    """`rate_per_minute` sends a minute on average, bursts of up to `burst`."""

    rate_per_minute: float
    burst: float
    tokens: float
    updated: float = 0.0

    def take(self, now: float) -> float:
        """0 when a send may go now (and counts it), else the seconds until it may."""
        per_second = self.rate_per_minute / 60.0
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * per_second)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / per_second


@dataclass(frozen=True, slots=True, kw_only=True)
class Links:
    """How messages link back: the collector's public URL and the link-signing key."""

    base_url: str
    secret: bytes
    expires_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfiguredChannel:
    channel: Channel
    rate_per_minute: float | None = None


class Notifier:
    def __init__(self, store: NotificationStore, *, channels: Mapping[str, ConfiguredChannel],
                 schedules: Schedules | None, links: Links | None,
                 clock: Callable[[], datetime], max_attempts: int = 10,
                 concurrency: int = 8, poll_interval_seconds: float = 0.5,
                 context: SendContext | None = None,
                 on_outcome: Callable[[str, str], None] | None = None,
                 on_page: Callable[[str, str], None] | None = None,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.store = store
        self.channels = channels
        self.schedules = schedules
        self.links = links
        self._clock = clock
        self._max_attempts = max_attempts
        self._concurrency = concurrency
        self._slots: dict[str, asyncio.Semaphore] = {}   # per channel, `concurrency` each
        self._busy: Counter[str] = Counter()   # claimed and not yet recorded, per channel
        self._tasks: set[asyncio.Task[None]] = set()      # deliveries the loop started
        self._recording = FailureStreak("recording a notification's outcome", log)
        self._rounds = Rounds(poll_interval_seconds)
        self._context = context or SendContext(clock=clock)
        self._on_outcome = on_outcome
        self._on_page = on_page
        self._monotonic = monotonic
        self._buckets = {
            name: TokenBucket(c.rate_per_minute, burst=max(1.0, c.rate_per_minute / 6),
                              tokens=max(1.0, c.rate_per_minute / 6))
            for name, c in channels.items() if c.rate_per_minute}

    def wake(self) -> None:
        self._rounds.wake()

    async def run(self) -> None:
        """Claim and start deliveries without waiting for them (each records its own outcome
        and frees its channel's slot); until cancelled, which cancels those in flight (their
        notifications are claimed again when their lease ends)."""
        async def round_() -> bool:
            claimed = await self._claim()
            for item in claimed:
                task = asyncio.create_task(self._deliver_and_record(item),
                                           name=f"regie-notify-{item.id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return len(claimed) >= CLAIM_LIMIT   # a backlog: again

        try:
            await self._rounds.run(round_, what="notification delivery round", log=log)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def deliver_once(self) -> int:
        """Claim what is due, send it and write each outcome; returns how many were claimed
        (tests drive delivery with this; `run` does not wait for the sends)."""
        claimed = await self._claim()
        await asyncio.gather(*(self._deliver_and_record(item) for item in claimed))
        return len(claimed)

    async def _claim(self) -> list[Claimed]:
        full = {channel for channel, n in self._busy.items() if n >= self._concurrency}
        claimed = await self.store.claim(self._clock(), limit=CLAIM_LIMIT,
                                         lease_seconds=LEASE_SECONDS, skip_channels=full)
        self._busy.update(item.channel for item in claimed)
        return claimed

    async def _deliver_and_record(self, item: Claimed) -> None:
        """One notification: wait for its channel's slot, send, write the outcome at once."""
        counted = True
        try:
            try:
                async with asyncio.timeout(SLOT_WAIT_SECONDS):
                    await self._slot(item.channel).acquire()
            except TimeoutError:
                # Its channel is slow: given back untried, claimed again when a slot is free.
                outcome, counted = Outcome(item, "released", at=self._clock()), False
            else:
                try:
                    outcome = await self._guarded(item)
                finally:
                    self._slot(item.channel).release()
            try:
                await self.store.finish([outcome], now=self._clock())
            except Exception as exc:   # the database: its lease ends, it is claimed again
                self._recording.failed(exc)
                return
            self._recording.succeeded()
        finally:
            left = self._busy.pop(item.channel) - 1
            if left > 0:
                self._busy[item.channel] = left
            if left == self._concurrency - 1:
                self.wake()   # the channel was left out of claims: it may take more now
        if counted:
            self._count(item.channel, _COUNTED[outcome.result])
        if outcome.result == "delivered":   # retries and dead letters log themselves
            self._paged(item)
            log.info("%s: %s notice delivered to %s via %s", _about(item),
                     item.kind, item.recipient or "the channel", item.channel)

    def _slot(self, channel: str) -> asyncio.Semaphore:
        slot = self._slots.get(channel)
        if slot is None:
            slot = self._slots[channel] = asyncio.Semaphore(self._concurrency)
        return slot

    async def _guarded(self, item: Claimed) -> Outcome:
        """One delivery, whatever it raises: an unexpected error is this delivery's failure
        (retried with backoff, then a dead letter), never the round's. Without this guard one
        exception in `gather` discarded every outcome of the round, so nothing was recorded
        and receivers got the same notices again at every lease expiry."""
        try:
            return await self._deliver(item)
        except Exception as exc:  # the bookkeeping of the other deliveries must happen
            # Type and stack only: an exception's text may hold a URL with its credential.
            log.error("%s: unexpected %s\n%s", self._describe(item), type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
            failed = Delivery.failed(f"unexpected error in channel {item.channel!r}: "
                                     f"{type(exc).__name__}", retry=True)
            return self._failed(item, failed, self._clock())

    async def _deliver(self, item: Claimed) -> Outcome:
        configured = self.channels.get(item.channel)
        now = self._clock()
        if configured is None:
            return self._dead(item, f"channel {item.channel!r} is not configured")
        bucket = self._buckets.get(item.channel)
        if bucket is not None:
            wait = bucket.take(self._now_monotonic())
            if wait > 0:
                return Outcome(item, "released", at=now + timedelta(seconds=wait))
        try:
            channel = self._for_recipient(configured.channel, item.recipient)
            notification = self._message(item, now)
        except ValueError as exc:
            return self._dead(item, str(exc))
        except (KeyError, TypeError) as exc:
            # A stored payload missing a field will miss it on every attempt.
            return self._dead(item, f"unreadable payload ({type(exc).__name__}: {exc})")
        # A backstop under the lease: a send that outlives it would be sent twice.
        async with asyncio.timeout(SEND_DEADLINE_SECONDS):
            delivery = await channel.send(notification, delivery_id=f"regie-{item.id}",
                                          ctx=self._context)
        now = self._clock()
        if delivery.ok:
            return Outcome(item, "delivered", error=delivery.reason or None)
        return self._failed(item, delivery, now)

    def _failed(self, item: Claimed, delivery: Delivery, now: datetime) -> Outcome:
        """Retry with backoff while attempts remain and the failure may pass; else dead."""
        attempts = item.attempts + 1
        if not delivery.retry or attempts >= self._max_attempts:
            reason = delivery.reason if not delivery.retry else \
                f"{delivery.reason} (after {attempts} attempts)"
            return self._dead(item, reason)
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
        delay *= random.uniform(0.9, 1.1)  # noqa: S311 (jitter, not security)
        if delivery.retry_after is not None:
            delay = max(delay, delivery.retry_after)
        log.info("%s failed: %s; retrying in %.0fs", self._describe(item),
                 _without_urls(delivery.reason), delay)
        return Outcome(item, "retry", at=now + timedelta(seconds=delay),
                       error=delivery.reason)

    def _dead(self, item: Claimed, reason: str) -> Outcome:
        log.warning("%s given up (a dead letter): %s", self._describe(item),
                    _without_urls(reason))
        return Outcome(item, "dead", error=reason)

    def _describe(self, item: Claimed) -> str:
        """Which notice a log line is about: the ticket, its recipient, the channel, the
        attempt (and the notification's id, as `GET /api/v1/notifications` lists it)."""
        return (f"{_about(item)}: {item.kind} notice to "
                f"{item.recipient or 'the channel'} via {item.channel}, attempt "
                f"{item.attempts + 1} of {self._max_attempts} (notification {item.id})")

    def _count(self, channel: str, outcome: str) -> None:
        if self._on_outcome is not None:
            self._on_outcome(channel, outcome)

    def _paged(self, item: Claimed) -> None:
        """A delivered notice asking a person to act is a page to them (on-call load); a
        notice to a channel without a person, and a resolve notice, are not."""
        if self._on_page is not None and item.recipient and item.kind not in _NOT_PAGES:
            self._on_page(item.recipient, item.channel)

    def _now_monotonic(self) -> float:
        if self._monotonic is not None:
            return self._monotonic()
        return asyncio.get_running_loop().time()

    def _for_recipient(self, channel: Channel, recipient: str | None) -> Channel:
        """An e-mail channel without a fixed `to` writes to the person's address."""
        if channel.kind != "email" or channel.settings.to:
            return channel
        contact = (self.schedules.people.get(recipient)
                   if self.schedules is not None and recipient else None)
        if contact is None or not contact.email:
            raise ValueError(f"{recipient or 'nobody'} has no e-mail address in the schedule")
        return Channel(channel.kind, replace(channel.settings, to=(contact.email,)))

    def _message(self, item: Claimed, now: datetime) -> Notification | CaseReminder:
        payload = item.payload
        if item.vendor_case_id is not None:
            return CaseReminder.from_payload(dict(payload), recipient=item.recipient)
        ack = resolve = ticket = None
        if self.links is not None:
            # Every link is issued to the recipient: what it does is recorded as theirs. The
            # ticket link opens a read-only page (collector/ui/), not the bearer-token API.
            person = item.recipient
            ticket = ticket_page_url(self.links.base_url, item.ticket_id, sign_view(
                self.links.secret, item.ticket_id,
                now + timedelta(seconds=VIEW_EXPIRES_SECONDS), recipient=person))
            if payload.get("kind") != "resolve":
                expires = now + timedelta(seconds=self.links.expires_seconds)
                ack = action_url(self.links.base_url, sign_action(
                    self.links.secret, item.ticket_id, "ack", expires, recipient=person))
                resolve = action_url(self.links.base_url, sign_action(
                    self.links.secret, item.ticket_id, "resolve", expires, recipient=person))
        return Notification(
            ticket_id=item.ticket_id, kind=payload["kind"], priority=payload["priority"],
            summary=payload["summary"], status=payload["status"],
            occurred_at=datetime.fromisoformat(payload["occurred_at"]),
            host=payload.get("host"), component=payload.get("component"),
            runbook_url=payload.get("runbook_url"), step=payload.get("step"),
            reason=payload.get("reason"), recipient=payload.get("recipient"),
            ticket_url=ticket, ack_url=ack, resolve_url=resolve)


def _about(item: Claimed) -> str:
    """What a notice is about, in log lines: its ticket, or its vendor case."""
    if item.vendor_case_id is not None:
        return f"vendor case {item.vendor_case_id}"
    return f"ticket {item.ticket_id}"


def _without_urls(reason: str) -> str:
    return _URL.sub("<url>", reason)
