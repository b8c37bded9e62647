from __future__ import annotations

import datetime as dt
import email.utils

import pytest

from alerting.notify.delivery import (
    MAX_RETRY_AFTER_SECONDS,
    http_retryable,
    origin,
    parse_retry_after,
    redact_url,
    scrub,
    smtp_retryable,
)

NOW = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _date(delta: float) -> str:
    return email.utils.format_datetime(NOW + dt.timedelta(seconds=delta), usegmt=True)


@pytest.mark.parametrize(("value", "seconds"), [
    (None, None),
    ("7", 7.0),
    (" 7 ", 7.0),
    ("0", 0.0),
    (_date(120), 120.0),
    (_date(-60), 0.0),
    ("Wed, 02 Jan 2030 03:06:05 -0000", 120.0),
    ("99999999", MAX_RETRY_AFTER_SECONDS),
    ("-1", None),
    ("1.5", None),
    ("soon", None),
    ("", None),
    ("\u00b2", None),                                   # isdigit(), but float() refuses it
    ("\u0661\u0662", None),                             # Arabic-Indic 12: not delta-seconds
    ("Mon, 01 Jan 99999999999 00:00:00 GMT", None),      # OverflowError in email.utils
])
def test_retry_after(value, seconds):
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(("status", "retry"), [
    (400, False), (401, False), (403, False), (404, False), (410, False), (422, False),
    (408, True), (425, True), (429, True), (500, True), (502, True), (503, True), (504, True),
])
def test_http_classification(status, retry):
    assert http_retryable(status) is retry


@pytest.mark.parametrize(("code", "retry"), [(421, True), (450, True), (451, True),
                                             (452, True), (535, False), (550, False),
                                             (554, False)])
def test_smtp_classification(code, retry):
    assert smtp_retryable(code) is retry


@pytest.mark.parametrize(("url", "shown", "bare"), [
    ("https://user:pw@hooks.example.org:8443/x/y?token=s3cret#f",
     "https://hooks.example.org:8443/x/y", "https://hooks.example.org:8443"),
    ("http://[2001:db8::1]/hook?k=v", "http://[2001:db8::1]/hook", "http://[2001:db8::1]"),
    ("https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/services/T0/B0/XXXX",
     "https://hooks.slack.com"),
])
def test_url_redaction(url, shown, bare):
    assert redact_url(url) == shown
    assert origin(url) == bare


def test_scrub_replaces_longest_first():
    assert scrub("a token=abc and abc", ["abc", "token=abc", None, ""]) == "a *** and ***"
