"""Alerts to Discord: an execute-webhook message (a headline, and an embed per alert)
POSTed to a webhook of DISCORD_WEBHOOK_HOSTS.

Discord answers 204; 404 (Unknown Webhook) or 410 means the webhook was deleted, and
the destination is turned off; 429 says when to try again, in the Retry-After header
or the body's `retry_after`.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from notifiers.base import Alert, PermanentFailure, ReceiverGone, TransientFailure
from notifiers.http_guard import Answer, post, url_problem

#: Seconds Discord has to accept a message before the try counts as failed.
DISCORD_TIMEOUT_SECONDS = 10.0
USER_AGENT = "Switchboard-Webhooks/1.0"
#: Discord's limits: a message's content, its embeds, and an embed's parts; the text of
#: all embeds of a message together (titles, descriptions, fields) may not pass 6,000.
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELD_VALUE = 1024
MAX_EMBED_TEXT = 6000

_SEVERITY_COLOURS = {"INFO": 0x1F6FEB, "WARN": 0xD29922, "ERROR": 0xCF222E}


class DiscordNotifier:
    """Posts with the given session, which the owner opens and closes: one from
    `notifiers.http_guard.guarded_session()`."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def send(self, alert: Alert) -> int:
        # Checked again at send time: the allowed hosts may have narrowed since.
        problem = url_problem(alert.recipient, "discord")
        if problem:
            raise PermanentFailure(problem)
        body = json.dumps(payload(alert), ensure_ascii=False).encode()
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        answer = await post(
            self.http,
            alert.recipient,
            body,
            headers,
            timeout=DISCORD_TIMEOUT_SECONDS,
            receiver="Discord",
        )
        status = answer.status
        if 200 <= status < 300:
            return status
        message = f"Discord answered {status}: {answer.excerpt or 'no reason given'}"
        if status in (404, 410):
            raise ReceiverGone(message, status_code=status)
        if status == 429:
            raise TransientFailure(message, retry_after=_retry_after(answer), status_code=status)
        if status >= 500:
            raise TransientFailure(message, retry_after=answer.retry_after, status_code=status)
        if 300 <= status < 400:
            message = f"Discord answered {status}, a redirect, which is not followed."
        # 400 (a message Discord will never take), 401, 403: another try cannot help.
        raise PermanentFailure(message, status_code=status)


def _retry_after(answer: Answer) -> float | None:
    if answer.retry_after is not None:
        return answer.retry_after
    try:
        seconds = json.loads(answer.excerpt).get("retry_after")
    except (ValueError, AttributeError):
        return None
    if isinstance(seconds, int | float) and 0 <= seconds < float("inf"):
        return float(seconds)
    return None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def payload(alert: Alert) -> dict[str, Any]:
    """The execute-webhook body: the headline, an embed per alert (ten at most), and no
    mentions: an alert's text must not ping @everyone or anyone else."""
    alerts = alert.gathered or (alert,)
    shown = alerts[:MAX_EMBEDS]
    content = alert.headline
    if len(alerts) > len(shown):
        content += f"\n…and {len(alerts) - len(shown)} more"
    budget = MAX_EMBED_TEXT // len(shown)
    return {
        "content": _cut(content, MAX_CONTENT),
        "embeds": [embed(a, budget) for a in shown],
        "allowed_mentions": {"parse": []},
    }


def embed(alert: Alert, budget: int = MAX_EMBED_TEXT) -> dict[str, Any]:
    """One alert as an embed whose text stays within `budget` characters."""
    title = _cut(alert.title, min(MAX_TITLE, budget // 4))
    pairs = [("Severity", alert.severity.value)]
    if alert.run_path:
        pairs.append(("Run", _cut(alert.run_path, min(MAX_FIELD_VALUE, budget // 4))))
    fields = [{"name": name, "value": value, "inline": True} for name, value in pairs]
    used = len(title) + sum(len(name) + len(value) for name, value in pairs)
    result: dict[str, Any] = {
        "title": title,
        "url": alert.link,
        "color": _SEVERITY_COLOURS.get(alert.severity.value, 0x57606A),
        "timestamp": alert.created_at.isoformat(),
        "fields": fields,
    }
    if alert.text:
        result["description"] = _cut(alert.text, min(MAX_DESCRIPTION, budget - used))
    return result
