"""Real peers on loopback ports: an aiohttp receiver and an aiosmtpd SMTP server.

Both bind 127.0.0.1 on a port from `tests.services.free_port` and are stopped when the block
ends. The HTTP receiver runs in the test's own event loop; aiosmtpd's Controller runs its
server in a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from alerting.notify.channels import SendContext
from alerting.notify.message import Notification
from tests.services import free_port
from tests.tls import TlsFiles

NOW = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
CTX = SendContext(clock=lambda: NOW)
LOOPBACK = ("127.0.0.1/32", "::1/128")


def notification(**overrides: Any) -> Notification:
    values: dict[str, Any] = dict(
        ticket_id=42, kind="trigger", priority="P1", summary="Disk /var 97% full",
        status="open", occurred_at=NOW - dt.timedelta(minutes=1), host="web1",
        component="disk", runbook_url="https://wiki.example.org/runbooks/disk",
        step="step 1 of 2: primary on-call", reason="new P1 ticket", recipient="alice",
        ticket_url="https://regie.example.org/tickets/42",
        ack_url="https://regie.example.org/api/v1/actions/v1.42.ack.TOKEN-ACK",
        resolve_url="https://regie.example.org/api/v1/actions/v1.42.resolve.TOKEN-RES",
    )
    values.update(overrides)
    return Notification(**values)


# -- HTTP -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


@dataclass
class Receiver:
    url: str                      # http(s)://127.0.0.1:PORT
    port: int
    requests: list[Request] = field(default_factory=list)
    # Set when the receiver stops: slow handlers wait on it so shutdown is immediate.
    release: asyncio.Event = field(default_factory=asyncio.Event)


async def _ok(_request: web.Request, _body: bytes) -> web.StreamResponse:
    return web.Response(text="ok")


@contextlib.asynccontextmanager
async def receiver(handler: Handler = _ok, *,
                   ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Receiver]:
    port = free_port()
    scheme = "https" if ssl_context else "http"
    state = Receiver(url=f"{scheme}://127.0.0.1:{port}", port=port)

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        state.requests.append(Request(request.method, request.path, request.query_string,
                                      dict(request.headers), body))
        return await handler(request, body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context).start()
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


def server_tls(tls: TlsFiles, seen_sni: list[str | None] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert, tls.key)
    if seen_sni is not None:
        def remember(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            seen_sni.append(name)
        context.sni_callback = remember
    return context


# -- SMTP -----------------------------------------------------------------------------------

@dataclass
class Mailbox:
    """What the SMTP server saw."""

    port: int
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)   # (user, accepted)
    tls_seen: list[bool] = field(default_factory=list)
    # Reply to DATA instead of accepting (e.g. "451 4.3.0 try again later").
    data_reply: str | None = None
    rcpt_reply: str | None = None
    refuse: dict[str, str] = field(default_factory=dict)   # address -> RCPT reply


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.box.refuse.get(address) or self.box.rcpt_reply
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.box.tls_seen.append(server.transport.get_extra_info("ssl_object") is not None)
        if self.box.data_reply:
            return self.box.data_reply
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.box.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


USER = "regie"
PASSWORD = "correct horse battery staple"


@contextlib.contextmanager
def smtp_server(*, tls: TlsFiles | None = None, mode: str = "plain",
                auth: bool = True) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1: mode "plain", "starttls" (required) or "tls"."""
    box = Mailbox(port=free_port())

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        user = auth_data.login.decode()
        accepted = user == USER and auth_data.password.decode() == PASSWORD
        box.logins.append((user, accepted))
        # handled=False: aiosmtpd itself answers (235, or 535 on failure).
        return AuthResult(success=accepted, handled=False)

    kwargs: dict[str, Any] = {}
    if auth:
        kwargs.update(authenticator=authenticator, auth_required=True)
    if mode == "plain":
        kwargs["auth_require_tls"] = False   # test-only: AUTH over an unencrypted link
    elif mode == "starttls":
        assert tls is not None
        kwargs.update(tls_context=server_tls(tls), require_starttls=True)
    elif mode == "tls":
        assert tls is not None
        # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS from the start.
        kwargs.update(ssl_context=server_tls(tls), auth_require_tls=False)
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
