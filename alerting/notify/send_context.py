"""What one send needs from the process around it: `SendContext`, injected by the caller.

The notifier builds one around its clock; tests pass their own clock, DNS resolver and
stdout. Every channel's ``send`` takes it as ``ctx`` (alerting/notify/channels.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from alerting.notify.ssrf import Resolve
from regie import __version__

USER_AGENT = f"regie-collector/{__version__}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendContext:
    """What a send needs from the process around it, injected (tests pass their own)."""

    clock: Callable[[], dt.datetime] = utc_now
    # DNS for the SSRF check; None asks the event loop's resolver.
    resolve: Resolve | None = None
    # Where the file channel's "-" writes; None is sys.stdout at the time of the send.
    stdout: TextIO | None = None
    user_agent: str = USER_AGENT


DEFAULT_CONTEXT = SendContext()
