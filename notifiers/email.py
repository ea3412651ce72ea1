"""Alerts by email: a text and an HTML part, sent with aiosmtplib to SMTP_HOST."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

import config
from notifiers.base import Alert, PermanentFailure, TransientFailure

#: Seconds an SMTP conversation may take before it counts as a dropped connection.
SMTP_TIMEOUT_SECONDS = 30.0

_SEVERITY_COLOURS = {"INFO": "#1f6feb", "WARN": "#d29922", "ERROR": "#cf222e"}


class EmailNotifier:
    async def send(self, alert: Alert) -> int | None:
        if not alert.recipient:
            raise PermanentFailure("The account has no email address.")
        try:
            await aiosmtplib.send(
                compose(alert),
                hostname=config.SMTP_HOST,
                port=config.SMTP_PORT,
                username=config.SMTP_USERNAME or None,
                password=config.SMTP_PASSWORD or None,
                start_tls=config.SMTP_STARTTLS,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            message = "; ".join(f"{r.code} {r.message}" for r in refused.recipients)
            _raise_for_code(max(codes, default=550), f"The mail server refused: {message}")
        except aiosmtplib.SMTPResponseException as error:
            _raise_for_code(error.code, f"The mail server answered {error.code} {error.message}")
        except (aiosmtplib.SMTPException, OSError) as error:
            # A refused or dropped connection, a timeout, a TLS failure: try again later.
            raise TransientFailure(f"The mail server could not be reached: {error}") from None
        return 250  # the server accepted the data: any other reply raised above


def _raise_for_code(code: int, message: str) -> None:
    # 4xx means "not now", 5xx means "never" (RFC 5321 section 4.2.1). An
    # authentication failure is the operator's to fix, so it is retried too.
    if 500 <= code < 600 and code not in (530, 534, 535):
        raise PermanentFailure(message, status_code=code)
    raise TransientFailure(message, status_code=code)


def compose(alert: Alert) -> EmailMessage:
    """The alert as a multipart/alternative message: plain text first, then HTML."""
    message = EmailMessage()
    subject = alert.headline + (f" in {alert.run_path}" if alert.run_path else "")
    message["Subject"] = subject
    message["From"] = config.MAIL_FROM
    message["To"] = alert.recipient
    message["Date"] = format_datetime(alert.created_at)
    message["Message-ID"] = make_msgid(idstring=f"alert-{alert.delivery_id}")
    # Lets a receiving system discard a repeat if a send is ever retried after
    # the server had in fact accepted it.
    message["X-Switchboard-Delivery"] = str(alert.delivery_id)
    message.set_content(_text(alert))
    message.add_alternative(_html(alert), subtype="html")
    return message


def _text(alert: Alert) -> str:
    lines = [alert.title, "", alert.text, "", f"Severity: {alert.severity.value}"]
    if alert.run_path:
        lines += [
            f"Entity: {alert.entity_name}",
            f"Project: {alert.project_name}",
            f"Run: {alert.run_name}",
        ]
    lines += ["", alert.link, "", f"Manage your alerts: {config.PUBLIC_URL}/settings"]
    return "\n".join(lines) + "\n"


def _html(alert: Alert) -> str:
    e = html.escape
    colour = _SEVERITY_COLOURS.get(alert.severity.value, "#57606a")
    rows = [("Severity", alert.severity.value)]
    if alert.run_path:
        rows += [
            ("Entity", alert.entity_name),
            ("Project", alert.project_name),
            ("Run", alert.run_name),
        ]
    table = "".join(
        f'<tr><th align="left" style="padding-right:12px">{e(k)}</th><td>{e(v)}</td></tr>'
        for k, v in rows
    )
    body = e(alert.text).replace("\n", "<br>\n")
    return (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f'<h2 style="color:{colour}">{e(alert.title)}</h2>'
        f"<p>{body}</p>"
        f"<table>{table}</table>"
        f'<p><a href="{e(alert.link, quote=True)}">{e(alert.link)}</a></p>'
        f'<p style="color:#57606a;font-size:small">'
        f'<a href="{e(config.PUBLIC_URL, quote=True)}/settings">Manage your alerts</a></p>'
        "</body></html>\n"
    )
