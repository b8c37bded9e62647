from __future__ import annotations

import hashlib
import hmac

import pytest

from alerting.notify.signature import SignatureError, sign, verify

SECRET = b"webhook-secret-0123456789"
BODY = b'{"version":1,"ticket_id":42}'
T = 1_900_000_000


def test_header_is_stripe_style_over_timestamp_and_body():
    expected = hmac.new(SECRET, f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_verify_accepts_its_own_and_a_rotated_secret():
    assert verify(SECRET, sign(SECRET, BODY, T), BODY, T + 10) == T
    old = sign(b"old-secret", BODY, T).split(",")[1]
    assert verify(SECRET, f"{sign(SECRET, BODY, T)},{old}", BODY, T) == T


@pytest.mark.parametrize(("header", "body", "now", "reason"), [
    (None, BODY, T, "no signature"),
    ("v1=abc", BODY, T, "malformed"),
    (f"t={T}", BODY, T, "malformed"),
    (sign(SECRET, BODY, T), BODY + b" ", T, "mismatch"),
    (sign(b"other", BODY, T), BODY, T, "mismatch"),
    (sign(SECRET, BODY, T).replace(f"t={T}", f"t={T + 1}"), BODY, T, "mismatch"),
    (f"t={T},v1=é", BODY, T, "mismatch"),
    (sign(SECRET, BODY, T), BODY, T + 301, "tolerance"),
    (sign(SECRET, BODY, T), BODY, T - 301, "tolerance"),
])
def test_verify_refuses(header, body, now, reason):
    with pytest.raises(SignatureError, match=reason):
        verify(SECRET, header, body, now)
