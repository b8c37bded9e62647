"""The agent's HTTP endpoint, served by the real `regie agent run` process."""

from __future__ import annotations

import gzip
import http.client
import socket
import ssl
import urllib.error
import urllib.request

import pytest

from tests.agent.conftest import agent_process
from tests.services import http_get
from tests.tls import make_tls


def test_metrics_text_format(agent):
    with urllib.request.urlopen(f"{agent.url}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        body = response.read().decode()
    assert "# TYPE regie_cpu_seconds_total counter" in body
    assert "regie_agent_build_info{" in body


def test_metrics_openmetrics_when_asked(agent):
    request = urllib.request.Request(
        f"{agent.url}/metrics",
        headers={"Accept": "application/openmetrics-text; version=1.0.0; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        body = response.read().decode()
    assert body.endswith("# EOF\n")
    assert "# TYPE regie_cpu_seconds counter" in body


def test_metrics_gzip_when_asked(agent):
    request = urllib.request.Request(f"{agent.url}/metrics",
                                     headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert b"regie_memory_total_bytes" in gzip.decompress(response.read())


def test_healthz_and_landing(agent):
    assert http_get(f"{agent.url}/healthz") == b"ok\n"
    assert b'href="/metrics"' in http_get(f"{agent.url}/")


@pytest.mark.parametrize(("method", "path", "status"),
                         [("POST", "/metrics", 405), ("GET", "/nope", 404)])
def test_other_requests_refused(agent, method, path, status):
    request = urllib.request.Request(f"{agent.url}{path}", method=method, data=b"" if
                                     method == "POST" else None)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == status


def test_tls(tmp_path):
    """TLS with a throw-away CA: a client that trusts the CA scrapes; plain HTTP is refused."""
    tls = make_tls(tmp_path)
    config = f"[http]\ntls_cert_file = '{tls.cert}'\ntls_key_file = '{tls.key}'\n"
    with agent_process(tmp_path, config, scheme="https") as agent:
        context = ssl.create_default_context(cafile=str(tls.ca))
        with urllib.request.urlopen(f"{agent.url}/metrics", context=context,
                                    timeout=10) as response:
            assert b"regie_memory_total_bytes" in response.read()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"{agent.url}/metrics", timeout=10)  # default trust store
        plain = agent.url.replace("https://", "http://")
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(f"{plain}/metrics", timeout=10)


def test_keep_alive_serves_several_requests_on_one_connection(agent):
    connection = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=10)
    try:
        for path, expected in (("/healthz", b"ok\n"), ("/metrics", b"regie_cpus_online"),
                               ("/healthz", b"ok\n")):
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200 and expected in response.read()
            assert response.getheader("Connection") == "keep-alive"
        connection.request("HEAD", "/metrics")
        head = connection.getresponse()
        assert head.status == 200 and int(head.getheader("Content-Length")) > 0
        assert head.read() == b""
    finally:
        connection.close()


@pytest.mark.parametrize(("raw", "status"), [
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET /metrics HTTP/2.0\r\n\r\n", b"505"),
    (b"GET / HTTP/1.1\r\nbad header\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", b"431"),
])
def test_malformed_requests_get_a_4xx_and_a_closed_connection(agent, raw, status):
    with socket.create_connection(("127.0.0.1", agent.port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.split(b" ", 2)[1] == status
    assert b"Connection: close" in answer


def test_a_request_with_a_body_is_answered_and_the_connection_closed(agent):
    """The body is never read, so the connection cannot carry another request."""
    with socket.create_connection(("127.0.0.1", agent.port), timeout=10) as sock:
        sock.sendall(b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                     b"GET /healthz HTTP/1.1\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 405 ") and answer.count(b"HTTP/1.1") == 1


@pytest.mark.parametrize(("accept", "content_type"), [
    ("application/openmetrics-text; version=abc", "text/plain; version=0.0.4"),
    ("application/openmetrics-text; version=1..0", "text/plain; version=0.0.4"),
    ("application/openmetrics-text; version=" + "9" * 22, "text/plain; version=0.0.4"),
    ("text/plain; version=x.y", "text/plain; version=0.0.4"),
    ("application/openmetrics-text; version=1.0.0.0", "text/plain; version=0.0.4"),
    ("application/openmetrics-text; version=1.0.00001", "text/plain; version=0.0.4"),
    ("application/openmetrics-text; version=abc, application/openmetrics-text; version=1.0.0",
     "application/openmetrics-text; version=1.0.0;"),
    # What Prometheus 2 sends.
    ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
     "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
     "application/openmetrics-text; version=1.0.0;"),
])
def test_an_accept_header_naming_an_unknown_version_gets_the_text_format(tmp_path, accept,
                                                                         content_type):
    """A version in Accept that prometheus_client cannot compare was a 500 and an ERROR with a
    traceback in the agent's log per request (TypeError or ValueError in choose_encoder), and
    one it can compare but does not write was echoed into Content-Type. Such an entry is now
    passed over, as a media type the agent does not serve."""
    with agent_process(tmp_path) as agent:
        request = urllib.request.Request(f"{agent.url}/metrics", headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Type"].startswith(content_type)
            assert b"regie_memory_total_bytes" in response.read()
    assert "Traceback" not in (tmp_path / "agent.log").read_text()
