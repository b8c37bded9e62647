"""The SSRF check as a table, then check_url and the pinning resolver.

Nothing here connects anywhere: addresses outside loopback are only classified.
"""

from __future__ import annotations

import asyncio
import re
import socket

import pytest

from alerting.notify.ssrf import (
    CheckedUrl,
    PinnedResolver,
    UnsafeUrl,
    address_problem,
    check_url,
    networks_check,
    parse_networks,
)

CGNAT = "shared address space (CGNAT)"


@pytest.mark.parametrize(("address", "category"), [
    # IPv4
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.0.0.5", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),    # the cloud metadata service
    ("169.254.0.1", "link-local"),
    ("0.0.0.0", "unspecified"),
    ("100.64.0.1", CGNAT),
    ("100.127.255.254", CGNAT),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    # IPv6
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fe80::1%1", "link-local"),
    ("febf:ffff::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("ff02::1", "multicast"),
    ("fec0::1", "site-local"),
])
def test_refused_ranges(address, category):
    assert address_problem(address) == f"address {address.partition('%')[0]} is {category}; " \
                                       "allow it with allow_networks"


@pytest.mark.parametrize(("address", "inner", "category"), [
    ("::ffff:10.0.0.5", "10.0.0.5", "private"),
    ("::ffff:127.0.0.1", "127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "169.254.169.254", "link-local"),
    ("::ffff:100.64.0.1", "100.64.0.1", CGNAT),
    ("::ffff:0.0.0.0", "0.0.0.0", "unspecified"),
    ("2002:a00:5::1", "10.0.0.5", "private"),             # 6to4
    ("2002:7f00:1::1", "127.0.0.1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "169.254.169.254", "link-local"),  # NAT64
])
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(address, inner, category):
    assert address_problem(address) == (f"address {address} is {category} (it carries IPv4 "
                                        f"{inner}); allow it with allow_networks")


# Python's ipaddress counts the documentation and benchmarking ranges as private.
@pytest.mark.parametrize(("address", "category"), [
    ("192.0.2.1", "private"), ("198.51.100.7", "private"),
    ("203.0.113.9", "private"),                             # documentation
    ("198.18.0.1", "private"),                              # benchmarking
    ("192.0.0.8", "an IETF protocol assignment"),
    ("2001:db8::1", "private"),                             # documentation
    ("100::1", "reserved"),                                 # discard-only
])
def test_other_special_purpose_addresses_are_refused(address, category):
    assert address_problem(address) == (f"address {address} is {category}; "
                                        "allow it with allow_networks")


@pytest.mark.parametrize("address", [
    "93.184.215.14", "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.1",
    "172.15.255.255", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8",
    "2002:808:808::1",
])
def test_public_addresses_pass(address):
    assert address_problem(address) is None


@pytest.mark.parametrize(("address", "allow", "allowed"), [
    ("127.0.0.1", ["127.0.0.1/32"], True),
    ("127.0.0.2", ["127.0.0.1/32"], False),
    ("::ffff:127.0.0.1", ["127.0.0.1/32"], True),
    ("::1", ["127.0.0.1/32"], False),
    ("::1", ["::1/128"], True),
    ("10.1.2.3", ["10.1.2.0/24"], True),
    ("10.1.3.3", ["10.1.2.0/24"], False),
    ("169.254.169.254", ["10.0.0.0/8", "192.168.0.0/16"], False),
    ("fd00::5", ["fd00::/8"], True),
])
def test_allow_networks(address, allow, allowed):
    problem = address_problem(address, parse_networks(allow))
    assert (problem is None) is allowed


@pytest.mark.parametrize(("values", "reason"), [
    (["10.0.0.1/8"], "has host bits set"),
    (["not-a-net"], "'not-a-net' is not a network"),
    (["10.0.0.0/33"], "is not a network"),
])
def test_allow_networks_are_validated(values, reason):
    assert reason in (networks_check(tuple(values)) or "")
    assert networks_check(("127.0.0.1/32", "::1/128")) is None


# -- check_url --------------------------------------------------------------------------------

class FakeDns:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


def check(url: str, allow=(), dns: FakeDns | None = None) -> CheckedUrl:
    return asyncio.run(check_url(url, parse_networks(allow), resolve=dns))


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://example.org/x", "scheme 'ftp' is not allowed"),
    ("file:///etc/passwd", "scheme 'file' is not allowed"),
    ("gopher://example.org/", "scheme 'gopher' is not allowed"),
    ("http:///nohost", "no host"),
    ("http://10.0.0.5/hook", "address 10.0.0.5 is private; allow it with allow_networks"),
    ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is link-local"),
    ("http://[::1]:8080/", "address ::1 is loopback"),
    ("http://[::ffff:10.0.0.5]/", "it carries IPv4 10.0.0.5"),
    ("http://[fe80::1]/", "link-local"),
    ("https://100.64.1.1/", "CGNAT"),
])
def test_literal_addresses_are_checked_without_dns(url, reason):
    dns = FakeDns({})
    with pytest.raises(UnsafeUrl, match=re.escape(reason)):
        check(url, dns=dns)
    assert dns.asked == []


def test_a_hostname_resolving_to_loopback_is_refused():
    # Real DNS (the system resolver): localhost is 127.0.0.1 (and maybe ::1).
    with pytest.raises(UnsafeUrl) as caught:
        check("http://localhost:9/hook")
    assert caught.value.reason.startswith("localhost: address ")
    assert "is loopback; allow it with allow_networks" in caught.value.reason


@pytest.mark.parametrize("url", ["http://127.1/", "http://2130706433/", "http://0x7f000001/"])
def test_legacy_ipv4_spellings_resolve_to_loopback_and_are_refused(url):
    with pytest.raises(UnsafeUrl, match="loopback"):
        check(url)


def test_the_allow_list_admits_localhost():
    checked = check("http://localhost:9/hook", allow=["127.0.0.1/32", "::1/128"])
    assert checked.host == "localhost" and checked.port == 9
    assert "127.0.0.1" in checked.addresses


def test_any_bad_address_refuses_the_host():
    dns = FakeDns({"mixed.example.org": ["93.184.215.14", "10.0.0.5"]})
    reason = "mixed.example.org: address 10.0.0.5 is private; allow it with allow_networks"
    with pytest.raises(UnsafeUrl, match=re.escape(reason)):
        check("https://mixed.example.org/hook", dns=dns)


def test_a_public_host_is_checked_and_its_addresses_kept():
    dns = FakeDns({"hooks.example.org": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
                                         "93.184.215.14"]})
    checked = check("https://hooks.example.org/a?b=c", dns=dns)
    assert checked.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert (checked.host, checked.port) == ("hooks.example.org", 443)
    assert dns.asked == [("hooks.example.org", 443)]


def test_dns_failure_propagates_as_oserror():
    with pytest.raises(OSError):
        check("https://nowhere.example.org/", dns=FakeDns({}))


# -- pinning ----------------------------------------------------------------------------------

def test_the_pinned_resolver_answers_only_the_checked_addresses():
    dns = FakeDns({"hooks.example.org": ["93.184.215.14", "2606:4700:4700::1111"]})
    checked = check("https://hooks.example.org/", dns=dns)
    resolver = PinnedResolver(checked)

    async def scenario():
        both = await resolver.resolve("hooks.example.org", 443, socket.AF_UNSPEC)
        v4 = await resolver.resolve("hooks.example.org", 443, socket.AF_INET)
        with pytest.raises(OSError, match="was not checked"):
            await resolver.resolve("other.example.org", 443, socket.AF_UNSPEC)
        await resolver.close()
        return both, v4

    both, v4 = asyncio.run(scenario())
    assert [(r["host"], r["hostname"], r["port"]) for r in both] == [
        ("93.184.215.14", "hooks.example.org", 443),
        ("2606:4700:4700::1111", "hooks.example.org", 443)]
    assert [r["host"] for r in v4] == ["93.184.215.14"]
    assert dns.asked == [("hooks.example.org", 443)]   # the resolver never asks DNS again
