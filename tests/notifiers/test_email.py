"""The email notifier against real SMTP servers on loopback."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

import config
from models.alert import AlertEventType, AlertSeverity
from notifiers.base import Alert, PermanentFailure, TransientFailure
from notifiers.email import EmailNotifier, compose
from tests.e2e.process import free_port
from tests.support.fakes import MailServer, use_mail_server


def alert(**overrides: object) -> Alert:
    fields: dict[str, object] = {
        "delivery_id": 7,
        "event_id": 3,
        "type": AlertEventType.SCRIPTABLE,
        "title": "Loss <diverged> & more",
        "text": "loss = nan\nat step 1200",
        "severity": AlertSeverity.ERROR,
        "entity_name": "alice",
        "project_name": "my project",
        "run_name": "3x7k9q2p",
        "created_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "recipient": "alice@example.com",
        **overrides,
    }
    return Alert(**fields)  # type: ignore[arg-type]


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    content: str = part.get_content()
    return content


def test_compose_has_text_and_html_parts_with_the_run_and_a_link():
    message = compose(alert())

    assert message.get_content_type() == "multipart/alternative"
    text = body(message, "plain")
    html = body(message, "html")
    link = "http://testserver/alice/my%20project/runs/3x7k9q2p"
    assert "Loss <diverged> & more" in text and link in text
    assert "Entity: alice" in text and "Project: my project" in text and "Run: 3x7k9q2p" in text
    assert "Severity: ERROR" in text
    assert "Loss &lt;diverged&gt; &amp; more" in html and "<diverged>" not in html
    assert "loss = nan<br>" in html and f'href="{link}"' in html
    assert message["Subject"] == "[ERROR] Loss <diverged> & more in alice/my project/3x7k9q2p"
    assert message["X-Switchboard-Delivery"] == "7"


def test_a_test_alert_links_to_the_settings():
    message = compose(alert(project_name="", run_name="", type=AlertEventType.TEST))

    text = body(message, "plain")
    assert "http://testserver/settings" in text and "Run:" not in text


async def test_sends_to_the_relay(monkeypatch):
    async with MailServer.running() as mail:
        use_mail_server(monkeypatch, mail)

        await EmailNotifier().send(alert())

        [message] = mail.messages
        assert message["To"] == "alice@example.com"


async def test_451_is_transient_then_accepted(monkeypatch):
    async with MailServer.running("temporary", refusals=1) as mail:
        use_mail_server(monkeypatch, mail)

        with pytest.raises(TransientFailure, match="451"):
            await EmailNotifier().send(alert())
        await EmailNotifier().send(alert())

        assert len(mail.messages) == 1


async def test_550_is_permanent(monkeypatch):
    async with MailServer.running("reject") as mail:
        use_mail_server(monkeypatch, mail)

        with pytest.raises(PermanentFailure, match="550"):
            await EmailNotifier().send(alert())

        assert mail.messages == []


async def test_no_server_listening_is_transient(monkeypatch):
    monkeypatch.setattr(config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(config, "SMTP_PORT", free_port())

    with pytest.raises(TransientFailure, match="could not be reached"):
        await EmailNotifier().send(alert())


async def test_an_account_without_email_is_permanent():
    with pytest.raises(PermanentFailure):
        await EmailNotifier().send(alert(recipient=""))
