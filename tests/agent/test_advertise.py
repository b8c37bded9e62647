"""Where the agent says Prometheus scrapes it (`document.scrape` in its inventory push):
the address it announces for each way it listens, the settings that shape it
(`http.advertise_address`, `push.labels`) and their refusals, and the push carrying it to a
real HTTP receiver (tests/agent/push_receiver.py), with a changed label pushed again.

The FQDN and host name are arguments of `scrape_section` so each case is tested without
changing this machine's names; the defaults read them from the socket module."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest

from agent.config import AgentSettings, load_settings
from agent.inventory import document_digest
from agent.push import PushService, scrape_section
from collector.payloads.inventory import parse_inventory
from regie.configfile import ConfigError
from tests.agent.push_receiver import Receiver
from tests.agent.test_push import TOKEN, FakeClock, Inventory, settings

HERE = AgentSettings()


def listening(listen: str, **http: object) -> AgentSettings:
    return replace(HERE, http=replace(HERE.http, listen=listen, **http))


@pytest.mark.parametrize(("listen", "fqdn", "hostname", "announced"), [
    ("127.0.0.1:9847", "web-01.example.net", "web-01", "127.0.0.1:9847"),
    ("192.0.2.10:9847", "web-01.example.net", "web-01", "192.0.2.10:9847"),
    ("[2001:db8::10]:9847", "web-01.example.net", "web-01", "[2001:db8::10]:9847"),
    ("[::1]:9847", "web-01.example.net", "web-01", "[::1]:9847"),
    # A wildcard reaches nobody: the FQDN with the port instead ...
    ("0.0.0.0:9847", "web-01.example.net", "web-01", "web-01.example.net:9847"),
    ("[::]:19847", "web-01.example.net", "web-01", "web-01.example.net:19847"),
    # ... or the host name when the FQDN is none (resolver says localhost, or no domain).
    ("0.0.0.0:9847", "localhost", "web-01", "web-01:9847"),
    ("0.0.0.0:9847", "localhost.localdomain", "web-01", "web-01:9847"),
    ("0.0.0.0:9847", "web-01", "web-01", "web-01:9847"),
])
def test_announced_address(listen, fqdn, hostname, announced):
    section = scrape_section(listening(listen), fqdn=fqdn, hostname=hostname)
    assert section == {"address": announced, "scheme": "http", "labels": {}}


def test_advertise_address_and_tls_and_labels(tmp_path):
    (tmp_path / "c.pem").write_text("x")
    (tmp_path / "k.pem").write_text("x")
    settings = listening("0.0.0.0:9847", advertise_address="metrics.web-01.example.net:443",
                         tls_cert_file=tmp_path / "c.pem", tls_key_file=tmp_path / "k.pem")
    settings = replace(settings, push=replace(settings.push, labels={"site": "par1"}))
    assert scrape_section(settings, fqdn="x.example", hostname="x") == {
        "address": "metrics.web-01.example.net:443", "scheme": "https",
        "labels": {"site": "par1"}}


def test_a_name_the_collector_would_refuse_is_not_announced(caplog):
    """Better no target than a refused push: the inventory still goes, without `scrape`."""
    assert scrape_section(listening("0.0.0.0:9847"), fqdn="bad_name.example",
                          hostname="bad_name") is None
    assert "http.advertise_address" in caplog.text


def test_what_the_agent_announces_the_collector_accepts():
    """Each announced section passes the collector's parser (one rule, regie/scrape_target)."""
    for listen in ("127.0.0.1:9847", "0.0.0.0:9847", "[::]:1"):
        section = scrape_section(listening(listen), fqdn="web-01.example.net", hostname="w")
        document = {"schema": "regie.inventory/v1", "host": {"hostname": "w"},
                    "scrape": section}
        parsed = parse_inventory({"idempotency_key": "k", "document": document},
                                 header_key=None)
        assert parsed.scrape is not None and parsed.scrape.address == section["address"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_settings_as_written(tmp_path):
    settings = load_settings(write(tmp_path, (
        '[http]\nadvertise_address = "web-01.example.net:9847"\n'
        '[push]\nlabels = { site = "par1", role = "web" }\n')))
    assert settings.http.advertise_address == "web-01.example.net:9847"
    assert settings.push.labels == {"site": "par1", "role": "web"}


@pytest.mark.parametrize(("text", "key", "reason"), [
    ('[http]\nadvertise_address = "0.0.0.0:9847"\n', "http.advertise_address", "wildcard"),
    ('[http]\nadvertise_address = "[::]:9847"\n', "http.advertise_address", "wildcard"),
    ('[http]\nadvertise_address = "web-01"\n', "http.advertise_address", "HOST:PORT"),
    ('[http]\nadvertise_address = "https://web-01:9847"\n', "http.advertise_address",
     "HOST:PORT"),
    ('[push]\nlabels = { host = "x" }\n', "push.labels", "set by Regie or Prometheus"),
    ('[push]\nlabels = { criticality = "high" }\n', "push.labels", "set by Regie"),
    ('[push]\nlabels = { __address__ = "x" }\n', "push.labels", "set by Regie or Prometheus"),
    ('[push]\nlabels = { "site-name" = "x" }\n', "push.labels", "not a label name"),
    ('[push]\nlabels = { site = "" }\n', "push.labels", "1 to 256 characters"),
    ('[push]\nlabels = { site = 1 }\n', "push.labels.site", "must be a string"),
    ('[push]\nlabels = "site=par1"\n', "push.labels", "must be a table"),
])
def test_settings_refused_naming_the_key(tmp_path, text, key, reason):
    with pytest.raises(ConfigError) as refused:
        load_settings(write(tmp_path, text))
    message = str(refused.value)
    assert f": {key}: " in message and reason in message, message


def test_the_push_carries_it_in_the_document_it_digests(tmp_path):
    """The section is part of the document (and of its digest): the collector stores it with
    the inventory, and a changed address or label is a changed document."""
    section = {"address": f"{socket.gethostname()}:9847", "scheme": "http",
               "labels": {"site": "par1"}}
    with Receiver() as receiver:
        push = PushService(settings(tmp_path, receiver.url), TOKEN, Inventory(),
                           monotonic=FakeClock(), scrape=section)
        push.run_once()
        push.close()
    (body,) = [r.json for r in receiver.delivered()]
    assert body["document"]["scrape"] == section
    moved = {**body["document"], "scrape": {**section, "labels": {"site": "ams1"}}}
    assert document_digest(moved) != document_digest(body["document"])
