"""The TLS client context of the HTTP (webhook, slack) and SMTP (email) channels."""

from __future__ import annotations

import ssl
from pathlib import Path


def ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    """System trust store, or only `ca_file` when set. Loading it reads files: callers run
    it in a thread (``asyncio.to_thread``)."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
