"""Every setting of Switchboard, read once from the environment (and `.env`).

The defaults serve `make run`: SQLite under `data/`, an in-process bus, secrets
generated once into `data/` with mode 0600.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.config import Config
from starlette.datastructures import CommaSeparatedStrings

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"

_env = Config(ROOT / ".env" if (ROOT / ".env").is_file() else None)


def _generated_secret(name: str) -> str:
    """A secret kept in `data/NAME` (0600), made on first use."""
    path = DATA_DIR / name
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not each write their own key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _secret(name: str, file_name: str) -> str:
    value = _env(name, default="")
    return value or _generated_secret(file_name)


def _switch(value: str) -> bool:
    """`on` or `off` (also `true`/`false`, `1`/`0`)."""
    word = value.strip().lower()
    if word in ("on", "true", "1"):
        return True
    if word in ("off", "false", "0"):
        return False
    raise ValueError(f"expected 'on' or 'off', not {value!r}")


def _hosts(value: Sequence[str]) -> frozenset[str]:
    return frozenset(host.strip().lower() for host in value if host.strip())


DATABASE_URL: str = _env("DATABASE_URL", default="sqlite://data/switchboard.sqlite3")
REDIS_URL: str = _env("REDIS_URL", default="")
#: The Redis pub/sub channel of the alert bus.
BUS_CHANNEL: str = _env("BUS_CHANNEL", default="switchboard:alerts")
#: Overrides of the rate limits' defaults (`services/rate_limits.py`), e.g.
#: "alerts.account=30/minute;300/day, teams.address=20/hour".
RATE_LIMITS: str = _env("RATE_LIMITS", default="")
#: The prefix of the rate limits' keys in Redis.
RATE_LIMIT_PREFIX: str = _env("RATE_LIMIT_PREFIX", default="switchboard:limits")

JWT_SECRET: str = _secret("JWT_SECRET", "jwt_secret")
JWT_ALGORITHMS: list[str] = [
    a.strip() for a in _env("JWT_ALGORITHMS", cast=CommaSeparatedStrings, default="HS256")
]
JWT_PUBLIC_KEY: str = _env("JWT_PUBLIC_KEY", default="")
JWT_ISSUER: str = _env("JWT_ISSUER", default="")
JWT_AUDIENCE: str = _env("JWT_AUDIENCE", default="")
SECRET_KEY: str = _secret("SECRET_KEY", "secret_key")

PUBLIC_URL: str = _env("PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
MEDIA_ROOT: Path = Path(_env("MEDIA_ROOT", default=str(DATA_DIR / "media")))

SMTP_HOST: str = _env("SMTP_HOST", default="127.0.0.1")
SMTP_PORT: int = _env("SMTP_PORT", cast=int, default=25)
SMTP_USERNAME: str = _env("SMTP_USERNAME", default="")
SMTP_PASSWORD: str = _env("SMTP_PASSWORD", default="")
SMTP_STARTTLS: bool = _env("SMTP_STARTTLS", cast=bool, default=False)
MAIL_FROM: str = _env("MAIL_FROM", default="alerts@localhost")

SLACK_CLIENT_ID: str = _env("SLACK_CLIENT_ID", default="")
SLACK_CLIENT_SECRET: str = _env("SLACK_CLIENT_SECRET", default="")
SLACK_AUTHORIZE_URL: str = _env(
    "SLACK_AUTHORIZE_URL", default="https://slack.com/oauth/v2/authorize"
)
SLACK_API_URL: str = _env("SLACK_API_URL", default="https://slack.com/api").rstrip("/")
SLACK_WEBHOOK_HOSTS: frozenset[str] = _hosts(
    _env("SLACK_WEBHOOK_HOSTS", cast=CommaSeparatedStrings, default="hooks.slack.com")
)
#: `host:port` entries a webhook may point at although their address is loopback or
#: private, over plain HTTP too: local receivers and tests. Empty in production.
WEBHOOK_ALLOW_HOSTS: frozenset[str] = _hosts(
    _env("WEBHOOK_ALLOW_HOSTS", cast=CommaSeparatedStrings, default="")
)
#: Hosts (`host` or `host:port`) a Discord webhook URL may point at.
DISCORD_WEBHOOK_HOSTS: frozenset[str] = _hosts(
    _env("DISCORD_WEBHOOK_HOSTS", cast=CommaSeparatedStrings, default="discord.com,discordapp.com")
)

GITHUB_CLIENT_ID: str = _env("GITHUB_CLIENT_ID", default="")
GITHUB_CLIENT_SECRET: str = _env("GITHUB_CLIENT_SECRET", default="")
GITHUB_URL: str = _env("GITHUB_URL", default="https://github.com").rstrip("/")
GITHUB_API_URL: str = _env("GITHUB_API_URL", default="https://api.github.com").rstrip("/")
#: A call to GitHub (token exchange, API, revoke) taking longer than this is given up.
GITHUB_TIMEOUT_SECONDS: float = _env("GITHUB_TIMEOUT_SECONDS", cast=float, default=10.0)

OAUTH_REDIRECT_URIS: list[str] = list(
    _env(
        "OAUTH_REDIRECT_URIS",
        cast=CommaSeparatedStrings,
        default="http://127.0.0.1:8000/settings/connected",
    )
)
CORS_ORIGINS: list[str] = list(_env("CORS_ORIGINS", cast=CommaSeparatedStrings, default=""))
GRAPHIQL: bool = _env("GRAPHIQL", cast=bool, default=True)
#: The plan engine (`fastpath/`); off, every request runs through stock Strawberry.
FAST_PATH: bool = _env("FAST_PATH", cast=_switch, default="on")

DELIVERY_MAX_ATTEMPTS: int = _env("DELIVERY_MAX_ATTEMPTS", cast=int, default=8)
DELIVERY_RETRY_BASE_SECONDS: float = _env("DELIVERY_RETRY_BASE_SECONDS", cast=float, default=2.0)
#: Whether this process sends alerts (its outbox worker). Off for processes that only
#: answer requests while others send: their alerts wait for another's next poll.
DELIVERY_WORKER: bool = _env("DELIVERY_WORKER", cast=_switch, default="on")
#: Failed attempts in a row after which a webhook or Discord destination is turned off.
DESTINATION_FAILURE_LIMIT: int = _env("DESTINATION_FAILURE_LIMIT", cast=int, default=20)
#: A dispatcher's claim on a delivery lasts this long: a process that dies mid-send
#: leaves its claims to be taken over by another once they expire. Longer than any send.
DELIVERY_LEASE_SECONDS: float = _env("DELIVERY_LEASE_SECONDS", cast=float, default=120.0)
#: How often a dispatcher looks for due deliveries it was not woken for (other processes').
DELIVERY_POLL_SECONDS: float = _env("DELIVERY_POLL_SECONDS", cast=float, default=1.0)
#: Alert events older than this many days are deleted with their deliveries, once every
#: delivery of theirs has finished (notifiers/retention.py); 0 keeps them for ever.
ALERT_RETENTION_DAYS: int = _env("ALERT_RETENTION_DAYS", cast=int, default=30)
#: How often each process's dispatcher prunes; 0 leaves pruning to `python cli.py prune`.
ALERT_PRUNE_INTERVAL_SECONDS: float = _env(
    "ALERT_PRUNE_INTERVAL_SECONDS", cast=float, default=3600.0
)
#: Events deleted per statement (and transaction), with their deliveries, while pruning.
ALERT_PRUNE_BATCH: int = _env("ALERT_PRUNE_BATCH", cast=int, default=1000)
if ALERT_RETENTION_DAYS < 0 or ALERT_PRUNE_INTERVAL_SECONDS < 0 or ALERT_PRUNE_BATCH < 1:
    raise ValueError(
        "ALERT_RETENTION_DAYS and ALERT_PRUNE_INTERVAL_SECONDS must be 0 or more,"
        " ALERT_PRUNE_BATCH 1 or more."
    )

#: Profile photos over this many bytes are refused.
MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: GraphQL request bodies (a document and its variables) over this are refused with 413.
MAX_BODY_BYTES: int = _env("MAX_BODY_BYTES", cast=int, default=2 * 1024 * 1024)
#: Multipart bodies (a photo upload) over this are refused with 413.
MAX_UPLOAD_BYTES = MAX_PHOTO_BYTES + 256 * 1024

# Serving limits (`serving.py`, `python cli.py serve`); a WebSocket message over
# MAX_BODY_BYTES closes its socket with 1009. Counts are per server process.
#: A request head (request line and headers) over this many bytes is answered 431.
MAX_HEAD_BYTES: int = _env("MAX_HEAD_BYTES", cast=int, default=64 * 1024)
#: A connection that has not sent a whole request head this long after it opened (or after
#: the first byte of a later request) is closed: slowloris and half-open connections.
HEAD_TIMEOUT_SECONDS: float = _env("HEAD_TIMEOUT_SECONDS", cast=float, default=10.0)
#: An idle keep-alive connection is closed after this; behind a proxy, above its idle timeout.
KEEP_ALIVE_TIMEOUT_SECONDS: int = _env("KEEP_ALIVE_TIMEOUT_SECONDS", cast=int, default=5)
#: Connections (WebSockets included) or requests at once; past it, new requests get 503.
MAX_CONNECTIONS: int = _env("MAX_CONNECTIONS", cast=int, default=10_000)
#: Connections the kernel queues before the server accepts them (capped by somaxconn).
LISTEN_BACKLOG: int = _env("LISTEN_BACKLOG", cast=int, default=2048)
#: On SIGTERM, requests under way get this long to finish; then they are cut off.
SHUTDOWN_TIMEOUT_SECONDS: int = _env("SHUTDOWN_TIMEOUT_SECONDS", cast=int, default=10)
#: WebSockets one account may have open at once; past it, connection_init is closed with 4429.
MAX_SOCKETS_PER_ACCOUNT: int = _env("MAX_SOCKETS_PER_ACCOUNT", cast=int, default=10)
#: Live subscriptions one account may hold at once over all its sockets; past it, LIMIT_EXCEEDED.
MAX_SUBSCRIPTIONS_PER_ACCOUNT: int = _env("MAX_SUBSCRIPTIONS_PER_ACCOUNT", cast=int, default=20)
#: Proxies whose X-Forwarded-For and -Proto are believed, comma list ("*": any); uvicorn's own.
FORWARDED_ALLOW_IPS: str = _env("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1")
#: Every storage quota starts here: 100 GB.
DEFAULT_STORAGE_LIMIT_BYTES = 100 * 10**9

MODEL_MODULES = [
    "models.entity",
    "models.user",
    "models.team",
    "models.beta",
    "models.api_key",
    "models.alert",
    "models.destination",
    "models.integration",
    "models.storage",
]


def tortoise_config(db_url: str) -> dict[str, Any]:
    """The Tortoise config for a database URL; SQLite waits on locks instead of failing."""
    if db_url.startswith("sqlite://") and "busy_timeout" not in db_url:
        path = db_url.removeprefix("sqlite://").split("?", 1)[0]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db_url += ("&" if "?" in db_url else "?") + "busy_timeout=10000"
    return {
        "connections": {"default": db_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "migrations": "migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


TORTOISE_ORM = tortoise_config(DATABASE_URL)


def database_kind(db_url: str = DATABASE_URL) -> str:
    return urlsplit(db_url).scheme
