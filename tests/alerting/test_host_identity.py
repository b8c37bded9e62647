"""One host identity (alerting/host_identity.py): every address of an agent names its host."""

from __future__ import annotations

import pytest

from alerting.host_identity import HostNames, agent_aliases, without_port


@pytest.mark.parametrize(("address", "bare"), [
    ("web-01:9847", "web-01"),
    ("web-01.example.net:9847", "web-01.example.net"),
    ("10.0.0.5:9847", "10.0.0.5"),
    ("[::1]:9847", "::1"),
    ("[fe80::1]", "fe80::1"),
    ("fe80::1", "fe80::1"),            # a bare IPv6 address keeps its last group
    ("web-01", "web-01"),
    ("web-01:http", "web-01:http"),    # not a port
    (" web-01:9847 ", "web-01"),
])
def test_without_port(address, bare):
    assert without_port(address) == bare


NAMES = HostNames("collector-1").with_aliases([
    *agent_aliases("web-01", "web-01.example.net"),
    *agent_aliases("db-01", None),
    ("10.0.0.7:9847", "app-01"),      # an evaluator target configured with host = "app-01"
])


@pytest.mark.parametrize(("name", "host"), [
    ("web-01.example.net:9847", "web-01"),   # Prometheus's instance: the FQDN from inventory
    ("WEB-01.example.net", "web-01"),        # DNS names are case-insensitive
    ("web-01", "web-01"),
    ("db-01:9847", "db-01"),
    ("10.0.0.7:9847", "app-01"),             # the exact target address
    ("10.0.0.7:9100", "10.0.0.7"),           # another port of that machine is not the agent
    ("127.0.0.1:9847", "collector-1"),       # loopback: this machine
    ("[::1]:9847", "collector-1"),
    ("localhost", "collector-1"),
    ("unknown.example.net:9847", "unknown.example.net"),
])
def test_canonical(name, host):
    assert NAMES.canonical(name) == host


@pytest.mark.parametrize(("name", "host"), [
    ("web-01.example.net:9847", "web-01"),
    ("10.0.0.7:9847", "app-01"),
    ("10.0.0.7:9100", None),
    ("127.0.0.1:9847", None),       # Prometheus's loopback is not known to be this machine
    ("unknown:9847", None),
])
def test_known(name, host):
    assert NAMES.known(name) == host


def test_later_aliases_win_and_empty_ones_are_ignored():
    names = HostNames("c").with_aliases([("web-01", "old"), ("web-01", "new"), ("", "x"),
                                         (None, "y"), ("z", "")])
    assert dict(names.aliases) == {"web-01": "new"}
    assert names.canonical("web-01:1") == "new"
