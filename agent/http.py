"""The agent's HTTP endpoint: /metrics (text or OpenMetrics, gzip), /healthz and a landing page.

Standard library only (wsgiref + threads): the agent must stay light and never needs aiohttp.
Content negotiation and compression come from prometheus_client's WSGI app.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

log = logging.getLogger(__name__)

_LANDING = b"""<!doctype html><html><head><title>Regie agent</title></head><body>
<h1>Regie agent</h1><p><a href="/metrics">Metrics</a> &middot; <a href="/healthz">Health</a></p>
</body></html>"""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # A scrape that arrives while the agent restarts must not fail on TIME_WAIT.
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def _server_class(host: str) -> type[_Server]:
    # Decided from the literal, not getaddrinfo(): CPython runs every getaddrinfo() host through
    # the IDNA codec, which loads unicodedata (~0.4 MB on every agent for one lookup).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return type("_Server", (_Server,), {"address_family": family})


def make_app(registry: CollectorRegistry):
    metrics = make_wsgi_app(registry)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"),
                                                      ("Content-Type", "text/plain")])
            return [b"only GET and HEAD\n"]
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [_LANDING]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found; try /metrics\n"]

    return app


class MetricsServer:
    """Serves in a daemon thread; `close()` stops it."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int, *,
                 tls_cert_file: Path | None = None, tls_key_file: Path | None = None) -> None:
        self._httpd = make_server(host, port, make_app(registry),
                                  server_class=_server_class(host), handler_class=_QuietHandler)
        if tls_cert_file is not None and tls_key_file is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(str(tls_cert_file), str(tls_key_file))
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls_cert_file else "http"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name="metrics-http", daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
