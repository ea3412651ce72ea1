"""Outbound HTTP to URLs that users chose: webhooks and Discord.

Whoever stores a destination's URL chooses where the server connects, so a URL could
aim the server at itself, its database, or the cloud's metadata service (SSRF).
`url_problem` refuses such URLs when they are stored; `guarded_session` refuses them
again when connecting, where it counts: a name may resolve to a public address when
stored and to 127.0.0.1 later (DNS rebinding). Its resolver drops every address that
is not public, and aiohttp connects only to the addresses its resolver returned; a
literal address, which aiohttp connects to without asking the resolver, is checked by
a middleware. WEBHOOK_ALLOW_HOSTS names the `host:port` exceptions (local receivers).

Both parse URLs with yarl, as aiohttp does: what is checked is what is connected to.
"""

from __future__ import annotations

import errno
import ipaddress
import math
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

import config
from notifiers.base import TransientFailure

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
#: How much of a receiver's answer is read, for the error message.
MAX_ANSWER_BYTES = 4096
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_DISCORD_PATH = re.compile(r"/api/(v\d{1,3}/)?webhooks/\d{1,20}/[A-Za-z0-9_-]{1,200}/?")


class AddressNotAllowed(OSError):
    """Raised where aiohttp expects a resolver's error, so it comes out as
    `aiohttp.ClientConnectorError` with this as its `os_error`."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.message = f"The address of {host} is not allowed (loopback, private or link-local)."
        super().__init__(errno.EACCES, self.message)


def is_public(ip: IPAddress) -> bool:
    """Whether `ip` is an address on the internet, and every v4 address it embeds too."""
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return all(v4 is None or is_public(v4) for v4 in embedded)
    return True


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself, in any spelling getaddrinfo accepts:
    `127.0.0.1`, `::1`, but also `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1`."""
    host = host.removesuffix(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not host or not re.fullmatch(r"[0-9a-fA-FxX.]+", host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def host_port(host: str, port: int | None) -> str:
    """The `host:port` key of WEBHOOK_ALLOW_HOSTS (IPv6 in brackets)."""
    host = host.lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url_problem(url: str, kind: Literal["webhook", "discord"]) -> str | None:
    """Why `url` may not be a destination of this kind, as a sentence; None if it may."""
    name = "A Discord webhook URL" if kind == "discord" else "A webhook URL"
    if len(url) > MAX_URL_LENGTH:
        return f"{name} may be at most {MAX_URL_LENGTH:,} characters long."
    if any(c.isspace() or not c.isprintable() for c in url):
        return f"{name} may not contain spaces or control characters."
    try:
        parsed = URL(url)
        port = parsed.port
    except ValueError:
        return f"{name} is not a valid URL."
    host = parsed.host or ""
    allowed = host_port(host, port) in config.WEBHOOK_ALLOW_HOSTS
    if parsed.scheme not in ("https", "http") or (parsed.scheme == "http" and not allowed):
        return f"{name} must start with https://."
    if not host:
        return f"{name} must name a host."
    if parsed.user is not None or parsed.password is not None:
        return f"{name} may not hold a user name or password."
    if parsed.fragment:
        return f"{name} may not have a fragment (#…): it is never sent."
    literal = literal_address(host)
    local = literal is not None and not is_public(literal)
    if not allowed and (local or host == "localhost" or host.endswith(".localhost")):
        return f"{name} may not point at a loopback, private or link-local address."
    if kind == "discord":
        hosts = config.DISCORD_WEBHOOK_HOSTS
        default = 443 if parsed.scheme == "https" else 80
        if host_port(host, port) not in hosts and not (host in hosts and port == default):
            return f"{name} must point at {' or '.join(sorted(hosts)) or 'an allowed host'}."
        if not _DISCORD_PATH.fullmatch(parsed.path):
            return f"{name} looks like https://discord.com/api/webhooks/<id>/<token>."
    return None


class GuardedResolver(AbstractResolver):
    """A resolver's answer, less every address that is not public. By default the
    system's getaddrinfo: /etc/hosts, and numeric spellings, as everything else here."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self.inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        if host_port(host, port) in config.WEBHOOK_ALLOW_HOSTS:
            return results
        public = [r for r in results if _public_text(r["host"])]
        if not public:
            raise AddressNotAllowed(host)
        return public

    async def close(self) -> None:
        await self.inner.close()


def _public_text(address: str) -> bool:
    try:
        return is_public(ipaddress.ip_address(address))
    except ValueError:
        return False


async def _refuse_literal_addresses(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    # aiohttp connects to a literal address without asking the resolver.
    host = request.url.host or ""
    literal = literal_address(host)
    allowed = host_port(host, request.url.port) in config.WEBHOOK_ALLOW_HOSTS
    if literal is not None and not is_public(literal) and not allowed:
        raise aiohttp.ClientConnectorError(request.connection_key, AddressNotAllowed(host))
    return await handler(request)


def guarded_session() -> aiohttp.ClientSession:
    """A session that connects to public addresses only (and WEBHOOK_ALLOW_HOSTS); made
    in the running loop, and closed by its owner (`async with guarded_session() as http`)."""
    # No DNS cache: every connection asks the guarded resolver. No proxy from the
    # environment: a proxy would connect on our behalf, where the resolver cannot look.
    # No cookies: one receiver's cookies are none of the next one's business.
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(), use_dns_cache=False)
    return aiohttp.ClientSession(
        connector=connector,
        middlewares=(_refuse_literal_addresses,),
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


@dataclass(frozen=True)
class Answer:
    """What a receiver answered: the status, the start of the body, its Retry-After."""

    status: int
    excerpt: str
    retry_after: float | None


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    receiver: str,
) -> Answer:
    """POST `body` once, redirects not followed; an unreachable receiver is a
    TransientFailure whose message names `receiver` and the error's class only."""
    try:
        async with http.post(
            url,
            data=body,
            headers=dict(headers),
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as response:
            if 200 <= response.status < 300:
                return Answer(response.status, "", None)
            excerpt = await _excerpt(response)
            return Answer(response.status, excerpt, retry_after(response.headers))
    except aiohttp.ClientConnectorError as error:
        if isinstance(error.os_error, AddressNotAllowed):
            raise TransientFailure(error.os_error.message) from None
        reason = type(error.os_error).__name__
    except TimeoutError:
        raise TransientFailure(f"{receiver} did not answer within {timeout:g} seconds.") from None
    except aiohttp.ClientError as error:
        reason = type(error).__name__
    # The class name only: aiohttp's messages may quote the URL, whose path can be a
    # secret (Discord's token), and lastError is shown and may be logged.
    raise TransientFailure(f"{receiver} could not be reached ({reason}).")


async def _excerpt(response: aiohttp.ClientResponse) -> str:
    """At most MAX_ANSWER_BYTES of the body: a receiver may answer without end."""
    data = b""
    while len(data) < MAX_ANSWER_BYTES:
        chunk = await response.content.read(MAX_ANSWER_BYTES - len(data))
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace").strip()


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds, from seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
