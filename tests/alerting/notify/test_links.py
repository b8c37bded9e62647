from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest

from alerting.notify.links import (
    MAX_TOKEN_CHARS,
    ActionClaim,
    LinkError,
    action_url,
    sign_action,
    sign_view,
    ticket_page_url,
    verify_action,
    verify_view,
)

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
EXPIRES = NOW + dt.timedelta(hours=1)
NONCE = "n0nce-AbCdEf_123"


def token(action="ack", ticket=42, expires=EXPIRES, nonce=NONCE, secret=SECRET) -> str:
    return sign_action(secret, ticket, action, expires, nonce)


def test_round_trip_gives_the_claim_with_its_nonce():
    claim = verify_action(SECRET, token(), NOW)
    assert claim == ActionClaim(ticket_id=42, action="ack", expires_at=EXPIRES, nonce=NONCE)


@pytest.mark.parametrize("action", ["ack", "resolve"])
def test_expected_action_accepts_its_own(action):
    assert verify_action(SECRET, token(action), NOW, expected_action=action).action == action


def test_tokens_are_url_safe_and_fresh_nonces_differ():
    a = sign_action(SECRET, 42, "ack", EXPIRES)
    b = sign_action(SECRET, 42, "ack", EXPIRES)
    assert a != b
    for t in (a, b, token()):
        assert urllib.parse.quote(t, safe="") == t
        assert len(t) <= MAX_TOKEN_CHARS
    assert verify_action(SECRET, a, NOW).nonce != verify_action(SECRET, b, NOW).nonce


def _swap(t: str, index: int, value: str) -> str:
    parts = t.split(".")
    parts[index] = value
    return ".".join(parts)


def _flip_last(t: str) -> str:
    return t[:-1] + ("A" if t[-1] != "A" else "B")


GOOD = token()


@pytest.mark.parametrize(("bad", "now", "reason"), [
    # expiry: the moment itself is already too late
    (GOOD, EXPIRES, "expired"),
    (GOOD, EXPIRES + dt.timedelta(seconds=1), "expired"),
    (token(expires=NOW - dt.timedelta(days=1)), NOW, "expired"),
    # tampering with any signed field, or the MAC
    (_swap(GOOD, 1, "43"), NOW, "bad signature"),
    (_swap(GOOD, 2, "resolve"), NOW, "bad signature"),
    (_swap(GOOD, 3, str(int(EXPIRES.timestamp()) + 86400)), NOW, "bad signature"),
    (_swap(GOOD, 4, "another-nonce-0"), NOW, "bad signature"),
    (_flip_last(GOOD), NOW, "bad signature"),
    (token(secret=b"another secret entirely"), NOW, "bad signature"),
    # garbage
    ("", NOW, "malformed token"),
    ("garbage", NOW, "malformed token"),
    ("v1.....", NOW, "malformed token"),
    ("v2" + GOOD[2:], NOW, "malformed token"),
    (GOOD + ".x", NOW, "malformed token"),
    (GOOD[:-1], NOW, "malformed token"),
    (_swap(GOOD, 1, "042"), NOW, "malformed token"),
    (_swap(GOOD, 1, "-1"), NOW, "malformed token"),
    (_swap(GOOD, 2, "ACK"), NOW, "malformed token"),
    (GOOD.replace(".", "%2E"), NOW, "malformed token"),
    ("é" * 10, NOW, "malformed token"),
    ("v1." + "9" * 5000, NOW, "malformed token"),
])
def test_bad_tokens_are_refused(bad, now, reason):
    with pytest.raises(LinkError) as caught:
        verify_action(SECRET, bad, now)
    assert caught.value.reason == reason
    assert NONCE not in str(caught.value)


def test_a_valid_action_name_we_never_sign_is_refused():
    # Signed with the right secret but naming an action this version does not know.
    import alerting.notify.links as links

    payload = f"v1.42.close.{int(EXPIRES.timestamp())}.{NONCE}"
    forged_by_us = f"{payload}.{links._mac(SECRET, payload)}"
    with pytest.raises(LinkError, match="malformed"):
        verify_action(SECRET, forged_by_us, NOW)


@pytest.mark.parametrize(("action", "expected"), [("ack", "resolve"), ("resolve", "ack")])
def test_single_purpose(action, expected):
    with pytest.raises(LinkError) as caught:
        verify_action(SECRET, token(action), NOW, expected_action=expected)
    assert caught.value.reason == f"this link is for {action!r}, not {expected!r}"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"secret": b""}, "non-empty bytes"),
    ({"secret": "text"}, "non-empty bytes"),
    ({"action": "close"}, "action must be one of"),
    ({"ticket": 0}, "positive integer"),
    ({"ticket": True}, "positive integer"),
    ({"expires": dt.datetime(2030, 1, 1)}, "timezone-aware"),
    ({"nonce": "short"}, "nonce must be"),
    ({"nonce": "has.a.dot.in.it"}, "nonce must be"),
])
def test_signing_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        token(**kwargs)


def test_verify_needs_an_aware_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_action(SECRET, GOOD, dt.datetime(2030, 1, 1))


@pytest.mark.parametrize("base", ["https://regie.example.org", "https://regie.example.org/"])
def test_action_url(base):
    assert action_url(base, GOOD) == f"https://regie.example.org/api/v1/actions/{GOOD}"


# -- recipients (v2) and view links ----------------------------------------------------------

@pytest.mark.parametrize("person", ["alice", "Zoë O'Brien", "x" * 96])
def test_a_link_names_the_person_it_was_issued_to(person):
    t = sign_action(SECRET, 42, "ack", EXPIRES, NONCE, recipient=person)
    assert t.startswith("v2.42.ack.")
    assert urllib.parse.quote(t, safe="") == t and len(t) <= MAX_TOKEN_CHARS
    assert verify_action(SECRET, t, NOW) == ActionClaim(
        ticket_id=42, action="ack", expires_at=EXPIRES, nonce=NONCE, recipient=person)


def test_a_name_too_long_to_carry_leaves_the_link_anonymous():
    t = sign_action(SECRET, 42, "ack", EXPIRES, NONCE, recipient="x" * 97)
    assert t.startswith("v1.") and verify_action(SECRET, t, NOW).recipient is None


def test_the_recipient_is_signed():
    t = sign_action(SECRET, 42, "ack", EXPIRES, NONCE, recipient="alice")
    mallory = _swap(t, 5, "bWFsbG9yeQ")          # base64url("mallory")
    with pytest.raises(LinkError, match="bad signature"):
        verify_action(SECRET, mallory, NOW)
    # A v1 MAC does not make a v2 token (the domain differs), nor the other way round.
    v1 = token()
    with pytest.raises(LinkError):
        verify_action(SECRET, "v2" + v1[2:-44] + ".YWxpY2U." + v1[-43:], NOW)


def test_view_links_only_view_and_action_links_only_act():
    view = sign_view(SECRET, 42, EXPIRES, recipient="alice")
    claim = verify_view(SECRET, view, NOW)
    assert (claim.ticket_id, claim.action, claim.recipient) == (42, "view", "alice")
    assert verify_view(SECRET, view, NOW) == claim           # as often as wanted
    with pytest.raises(LinkError, match="malformed"):
        verify_action(SECRET, view, NOW)
    with pytest.raises(LinkError, match="not 'view'"):
        verify_view(SECRET, token("ack"), NOW)
    with pytest.raises(LinkError, match="expired"):
        verify_view(SECRET, view, EXPIRES)


def test_ticket_page_url():
    assert ticket_page_url("https://regie.example.org/", 42, "v1.x") == \
        "https://regie.example.org/ui/tickets/42?key=v1.x"
