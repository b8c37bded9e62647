"""Maintenance windows mirrored into Alertmanager as silences (optional:
`[maintenance] alertmanager_url`).

Alerts routed by Alertmanager to receivers other than the collector (a team's chat, a pager
service) are then quiet during a window as well. Each running occurrence becomes one silence
through Alertmanager's API v2 (`POST /api/v2/silences`), its matchers the window's scope
(`alerting.maintenance.Scope.as_matchers`), ending when the occurrence ends; a silence whose
window stopped early (ended by hand, its change completed) is expired
(`DELETE /api/v2/silence/{id}`).

The mirror is stateless: it recognises its silences by `createdBy` (the configured name) AND
a comment starting with "regie maintenance window ", so a restart, or a second collector doing
the same, finds them again (a duplicate is expired). Silences anyone else created are never
touched. Each round compares what should be silenced now with what Alertmanager holds; every
call has a timeout.

Alertmanager applies a silence to every receiver, the collector's webhook included: alerts it
silences do not reach the collector (they are not recorded as tickets there). Mirror only when
other receivers must be quiet too; the embedded evaluator and the Events API are not affected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from alerting.maintenance import Occurrence
from collector.rounds import Rounds

log = logging.getLogger("regie.collector.silences")

COMMENT_PREFIX = "regie maintenance window "


def comment(occurrence: Occurrence) -> str:
    """The silence's comment, which also identifies it: window key, start and end."""
    return (f"{COMMENT_PREFIX}{occurrence.window.key} {occurrence.start.isoformat()}/"
            f"{occurrence.end.isoformat()}: {occurrence.window.name}")


def silence_body(occurrence: Occurrence, *, created_by: str, now: datetime) -> dict[str, Any]:
    return {
        "matchers": [{"name": m.name, "value": m.value, "isRegex": m.op in ("=~", "!~"),
                      "isEqual": m.op in ("=", "=~")}
                     for m in occurrence.window.scope.as_matchers()],
        "startsAt": max(occurrence.start, now).isoformat(),
        "endsAt": occurrence.end.isoformat(),
        "createdBy": created_by,
        "comment": comment(occurrence),
    }


class SilenceMirror:
    def __init__(self, active: Callable[[datetime], list[Occurrence]], *, url: str,
                 created_by: str, clock: Callable[[], datetime], interval_seconds: float,
                 timeout_seconds: float = 5.0) -> None:
        self._active = active
        self._url = url.rstrip("/")
        self._created_by = created_by
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._rounds = Rounds(interval_seconds)
        self._refused: set[str] = set()    # comments Alertmanager refused (logged once)

    def wake(self) -> None:
        self._rounds.wake()

    async def run(self) -> None:
        async def round_() -> bool:
            await self.sync_once()
            return False

        await self._rounds.run(round_, what="silence mirror", log=log)

    async def sync_once(self) -> tuple[int, int]:
        """One comparison: create the missing silences, expire the stale ones (only ours).
        Returns (created, expired)."""
        now = self._clock()
        wanted = {comment(o): o for o in self._active(now) if o.end > now}
        created = expired = 0
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            async with session.get(f"{self._url}/api/v2/silences") as response:
                response.raise_for_status()
                silences = await response.json()
            kept: set[str] = set()
            for silence in silences:
                if not self._ours(silence):
                    continue
                text = silence["comment"]
                if text in wanted and text not in kept:
                    kept.add(text)
                    continue
                async with session.delete(
                        f"{self._url}/api/v2/silence/{silence['id']}") as response:
                    if response.status >= 400 and response.status != 404:
                        response.raise_for_status()
                expired += 1
                log.info("silence %s expired: %s", silence["id"], text)
            for text, occurrence in wanted.items():
                if text in kept:
                    continue
                body = silence_body(occurrence, created_by=self._created_by, now=now)
                async with session.post(f"{self._url}/api/v2/silences",
                                        json=body) as response:
                    if response.status == 400:   # e.g. matchers that all match ""
                        if text not in self._refused:
                            self._refused.add(text)
                            log.warning("Alertmanager refused the silence for %s: %s", text,
                                        (await response.text())[:200])
                        continue
                    response.raise_for_status()
                    silence_id = (await response.json()).get("silenceID")
                created += 1
                log.info("silence %s created: %s", silence_id, text)
        return created, expired

    def _ours(self, silence: Any) -> bool:
        if not isinstance(silence, dict):
            return False
        status = silence.get("status")
        state = status.get("state") if isinstance(status, dict) else None
        text = silence.get("comment")
        return (silence.get("createdBy") == self._created_by and isinstance(text, str)
                and text.startswith(COMMENT_PREFIX) and state in ("active", "pending"))
