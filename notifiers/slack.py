"""Alerts to Slack: a Block Kit message, with a plain `text` fallback, POSTed to the
incoming webhook the user's Slack connection granted."""

from __future__ import annotations

from typing import Any

import aiohttp

from auth.slack import webhook_allowed
from notifiers.base import Alert, PermanentFailure, TransientFailure

#: Seconds Slack has to accept a message before the try counts as failed.
SLACK_TIMEOUT_SECONDS = 10.0
#: Block Kit limits: a header's text, a section's text.
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_FALLBACK = 3000

_SEVERITY_EMOJI = {"INFO": ":information_source:", "WARN": ":warning:", "ERROR": ":rotating_light:"}


class SlackNotifier:
    """Posts with the given session, which the owner opens and closes."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def send(self, alert: Alert) -> int | None:
        # Checked again at send time: the allowed hosts may have narrowed since.
        if not webhook_allowed(alert.recipient):
            raise PermanentFailure("The Slack webhook points at a host not in SLACK_WEBHOOK_HOSTS.")
        timeout = aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS)
        try:
            async with self.http.post(
                alert.recipient, json=payload(alert), timeout=timeout, allow_redirects=False
            ) as response:
                if response.status == 200:
                    return response.status
                body = (await response.text(errors="replace")).strip()[:200]
                retry_after = _seconds(response.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError) as error:
            # The class name only: some aiohttp errors quote the URL, and a webhook's
            # path is its secret, while lastError is shown and may be logged.
            raise TransientFailure(
                f"Slack could not be reached ({type(error).__name__})."
            ) from None
        message = f"Slack answered {response.status}: {body or response.reason}"
        if response.status == 429 or response.status >= 500:
            raise TransientFailure(message, retry_after=retry_after, status_code=response.status)
        # 400 invalid_payload, 403 action_prohibited, 404 channel_not_found,
        # 410 channel_is_archived: the same message will never be accepted.
        raise PermanentFailure(message, status_code=response.status)


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


def _escape(text: str) -> str:
    # Slack's mrkdwn treats &, < and > as markup (links, mentions such as <!channel>).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn and cut to `limit` without splitting an `&amp;`."""
    escaped = _escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def payload(alert: Alert) -> dict[str, Any]:
    """The Block Kit message; `text` is what notifications and old clients show."""
    emoji = _SEVERITY_EMOJI.get(alert.severity.value, "")
    context = [f"*Severity:* {alert.severity.value}"]
    if alert.run_path:
        context.append(f"*Run:* <{alert.link}|{_escape(alert.run_path)}>")
    else:
        context.append(f"<{alert.link}|Alert settings>")
    fallback = f"{alert.headline}: {alert.text}" if alert.text else alert.headline
    if alert.run_path:
        fallback += f" ({alert.run_path})"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(f"{emoji} {alert.title}", MAX_HEADER)},
        }
    ]
    if alert.text:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _mrkdwn(alert.text, MAX_SECTION)},
            }
        )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
    )
    return {"text": _mrkdwn(fallback, MAX_FALLBACK), "blocks": blocks}
