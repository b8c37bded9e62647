"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from alerting.notify.channels import EmailSettings, send_email
from regie.configfile import Secret
from tests.alerting.notify.peers import CTX, PASSWORD, USER, notification, smtp_server
from tests.services import free_port
from tests.tls import TlsFiles, make_tls

# The plain-mode test server takes AUTH without TLS on purpose; aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("smtp-tls"))


def settings(port: int, **overrides) -> EmailSettings:
    values = dict(host="127.0.0.1", port=port, mode="plain", username=USER,
                  password=Secret(PASSWORD), from_address="Regie <regie@example.org>",
                  to=("alice@example.org", "oncall@example.org"), timeout_seconds=10.0,
                  helo_name="regie-test")
    values.update(overrides)
    return EmailSettings(**values)


def send(s: EmailSettings, delivery_id: str = "delivery-1"):
    return asyncio.run(send_email(s, notification(), delivery_id=delivery_id, ctx=CTX))


def assert_received(box) -> None:
    n = notification()
    (mail_from, rcpt_tos, message), = box.messages
    assert mail_from == "regie@example.org"
    assert rcpt_tos == ["alice@example.org", "oncall@example.org"]
    assert message["Subject"] == "[P1] Disk /var 97% full (web1)"
    assert message["From"] == "Regie <regie@example.org>"
    assert message["X-Regie-Delivery"] == "delivery-1"
    assert message["Message-ID"] == "<delivery-1@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    # SMTP carries CRLF line ends; the text is what Notification.text() made.
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    assert text == n.text()
    for url in (n.ack_url, n.resolve_url, n.ticket_url, n.runbook_url):
        assert f"{url}" in text
        assert f'href="{url}"' in html


def test_plain_mode_with_auth_delivers_subject_body_and_links():
    with smtp_server(mode="plain") as box:
        delivery = send(settings(box.port))
    assert delivery.ok, delivery.reason
    assert box.logins == [(USER, True)]
    assert box.tls_seen == [False]
    assert_received(box)


def test_a_wrong_password_is_a_dead_letter_and_not_in_the_reason():
    with smtp_server(mode="plain") as box:
        delivery = send(settings(box.port, password=Secret("wrong-Pa55word")))
    assert (delivery.ok, delivery.retry, delivery.status) == (False, False, 535)
    assert "authentication failed" in delivery.reason
    assert "wrong-Pa55word" not in delivery.reason and PASSWORD not in delivery.reason
    assert box.logins and all(not accepted for _user, accepted in box.logins)
    assert box.messages == []


def test_starttls_mode(tls: TlsFiles):
    with smtp_server(mode="starttls", tls=tls) as box:
        delivery = send(settings(box.port, mode="starttls", host="localhost", ca_file=tls.ca))
    assert delivery.ok, delivery.reason
    assert box.tls_seen == [True] and box.logins == [(USER, True)]
    assert_received(box)


def test_implicit_tls_mode(tls: TlsFiles):
    with smtp_server(mode="tls", tls=tls) as box:
        delivery = send(settings(box.port, mode="tls", ca_file=tls.ca))
    assert delivery.ok, delivery.reason
    assert box.tls_seen == [True] and box.logins == [(USER, True)]
    assert_received(box)


def test_starttls_required_but_not_offered_is_a_dead_letter():
    with smtp_server(mode="plain") as box:   # offers no STARTTLS
        delivery = send(settings(box.port, mode="starttls"))
    assert (delivery.ok, delivery.retry) == (False, False)
    assert "STARTTLS" in delivery.reason and box.messages == []


def test_an_untrusted_certificate_fails_tls(tls: TlsFiles, tmp_path: Path):
    other_ca = make_tls(tmp_path).ca
    with smtp_server(mode="tls", tls=tls) as box:
        delivery = send(settings(box.port, mode="tls", ca_file=other_ca))
    assert (delivery.ok, delivery.retry) == (False, True)
    assert box.messages == []


def test_451_on_data_is_retried():
    with smtp_server(mode="plain") as box:
        box.data_reply = "451 4.3.0 Try again later"
        delivery = send(settings(box.port))
    assert (delivery.ok, delivery.retry, delivery.status) == (False, True, 451)
    assert "451" in delivery.reason


@pytest.mark.parametrize(("reply", "retry", "status"), [
    ("450 4.2.1 Mailbox busy", True, 450),
    ("550 5.1.1 No such user", False, 550),
])
def test_recipient_refusals(reply, retry, status):
    with smtp_server(mode="plain") as box:
        box.rcpt_reply = reply
        delivery = send(settings(box.port))
    assert (delivery.ok, delivery.retry, delivery.status) == (False, retry, status)
    assert "all recipients refused" in delivery.reason


def test_a_partly_refused_message_counts_as_delivered():
    # Retrying would send it again to the recipients who already have it.
    with smtp_server(mode="plain") as box:
        box.refuse["oncall@example.org"] = "550 5.1.1 No such user"
        delivery = send(settings(box.port))
    assert delivery.ok
    assert delivery.reason == "delivered to 1 of 2; refused oncall@example.org: 550"
    assert [rcpt for _from, rcpt, _msg in box.messages] == [["alice@example.org"]]


def test_no_server_is_retried():
    delivery = send(settings(free_port()))
    assert (delivery.ok, delivery.retry) == (False, True)
    assert PASSWORD not in delivery.reason


def test_without_recipients_nothing_is_sent():
    with smtp_server(mode="plain") as box:
        delivery = send(settings(box.port, to=()))
    assert (delivery.ok, delivery.retry) == (False, False)
    assert "no recipient" in delivery.reason and box.messages == [] and box.logins == []


def test_settings_repr_hides_the_password():
    assert PASSWORD not in repr(settings(25))
