"""Webhook URLs cannot aim the server at itself or its network: refused when stored
(`url_problem`), and refused again when connecting (`guarded_session`)."""

from __future__ import annotations

import ipaddress

import aiohttp
import pytest

import config
from notifiers.base import TransientFailure
from notifiers.http_guard import (
    AddressNotAllowed,
    GuardedResolver,
    guarded_session,
    is_public,
    literal_address,
    post,
    url_problem,
)
from tests.support.receivers import allow_hosts

ADDRESSES = [
    ("8.8.8.8", True),
    ("1.1.1.1", True),
    ("2606:4700:4700::1111", True),
    ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ("127.0.0.1", False),
    ("127.255.255.254", False),
    ("0.0.0.0", False),  # noqa: S104 (an address to refuse, not to bind)
    ("10.0.0.1", False),
    ("172.16.0.1", False),
    ("172.31.255.255", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # the cloud's metadata service
    ("100.64.0.1", False),  # shared address space (carrier NAT)
    ("192.0.2.1", False),  # documentation
    ("198.51.100.7", False),
    ("203.0.113.9", False),
    ("198.18.0.1", False),  # benchmarking
    ("224.0.0.1", False),  # multicast
    ("239.255.255.250", False),
    ("240.0.0.1", False),  # reserved
    ("255.255.255.255", False),
    ("::", False),
    ("::1", False),
    ("fe80::1", False),
    ("fc00::1", False),
    ("fd12:3456::1", False),
    ("ff02::1", False),
    ("ff0e::1", False),  # global-scope multicast, which `is_global` lets through
    ("::ffff:127.0.0.1", False),  # IPv4-mapped
    ("::ffff:10.0.0.1", False),
    ("::127.0.0.1", False),  # IPv4-compatible
    ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
    ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
    ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
]


@pytest.mark.parametrize(("address", "public"), ADDRESSES)
def test_address_classifier(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "127.1", "127.0.0.1."]
)
def test_every_spelling_of_loopback_is_the_loopback_address(host):
    assert literal_address(host) == ipaddress.IPv4Address("127.0.0.1")


@pytest.mark.parametrize("host", ["example.com", "1e100.net", "deadbeef", "localhost", ""])
def test_names_are_not_addresses(host):
    assert literal_address(host) is None


REFUSED = [
    ("http://example.com/hook", "must start with https://"),
    ("file:///etc/passwd", "must start with https://"),
    ("ftp://example.com/hook", "must start with https://"),
    ("gopher://example.com:70/_x", "must start with https://"),
    ("javascript:alert(1)", "must start with https://"),
    ("https://user:pw@example.com/", "may not hold a user name or password"),
    ("https://token@example.com/", "may not hold a user name or password"),
    ("https://example.com/a\nHost: evil", "spaces or control characters"),
    ("https://example.com/a\x00b", "spaces or control characters"),
    ("https://example.com/a b", "spaces or control characters"),
    ("https://example.com/\u202ehook", "spaces or control characters"),
    ("https://example.com/#x", "may not have a fragment"),
    ("https:///hook", "must name a host"),
    ("https://example.com:99999/", "is not a valid URL"),
    ("https://example.com\\@good.com/", "is not a valid URL"),
    ("https://example.com/" + "a" * 2048, "at most 2,048 characters"),
    ("https://127.0.0.1/", "loopback, private or link-local"),
    ("https://2130706433/", "loopback, private or link-local"),
    ("https://0x7f.1/", "loopback, private or link-local"),
    ("https://[::1]/", "loopback, private or link-local"),
    ("https://[::ffff:127.0.0.1]/", "loopback, private or link-local"),
    ("https://10.0.0.1/", "loopback, private or link-local"),
    ("https://169.254.169.254/latest/meta-data", "loopback, private or link-local"),
    ("https://localhost/", "loopback, private or link-local"),
    ("https://api.localhost/", "loopback, private or link-local"),
]


@pytest.mark.attack("injection")
@pytest.mark.parametrize(("url", "problem"), REFUSED)
def test_url_problem_refuses(url, problem):
    found = url_problem(url, "webhook")

    assert found is not None and problem in found
    assert found.startswith("A webhook URL") and found.endswith(".")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://evil.example/api/webhooks/1/abc", "must point at discord.com or discordapp.com"),
        ("https://discord.com:8443/api/webhooks/1/abc", "must point at discord.com"),
        (
            "https://discord.com/api/oauth2/authorize",
            "looks like https://discord.com/api/webhooks/",
        ),
        ("https://discord.com/api/webhooks/abc/def", "looks like"),
        ("https://discord.com/api/webhooks/1/abc/../../users", "looks like"),
        ("http://discord.com/api/webhooks/1/abc", "must start with https://"),
    ],
)
def test_url_problem_refuses_discord_urls_elsewhere(url, problem):
    found = url_problem(url, "discord")

    assert found is not None and problem in found


def test_url_problem_accepts_public_https_and_allow_listed_hosts(monkeypatch):
    monkeypatch.setattr(config, "WEBHOOK_ALLOW_HOSTS", frozenset({"127.0.0.1:8025"}))

    assert url_problem("https://hooks.example.com/a/b?c=d", "webhook") is None
    assert url_problem("https://8.8.8.8:8443/hook", "webhook") is None
    assert url_problem("http://127.0.0.1:8025/hook", "webhook") is None
    assert url_problem("http://127.0.0.1:8026/hook", "webhook") is not None
    assert url_problem("https://discord.com/api/webhooks/123/a-B_c", "discord") is None
    assert (
        url_problem("https://discordapp.com/api/v10/webhooks/123/tok?thread_id=4", "discord")
        is None
    )


async def get(url: str) -> int:
    async with guarded_session() as http, http.get(url, allow_redirects=False) as response:
        return response.status


CONNECT_REFUSED = [
    "http://127.0.0.1:{port}/",
    "http://[::1]:{port}/",
    "http://localhost:{port}/",
    "http://LocalHost:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f.1:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://127.0.0.1.:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::127.0.0.1]:{port}/",
    "http://[64:ff9b::7f00:1]:{port}/",
    "http://10.0.0.1/",
    "http://192.168.0.1:{port}/",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1%25lo]:{port}/",
    "https://127.0.0.1:{port}/",
]


@pytest.mark.attack("injection")
@pytest.mark.parametrize("template", CONNECT_REFUSED)
async def test_guarded_session_refuses_at_connect_time(template, canary, connects):
    url = template.format(port=canary.port)

    with pytest.raises(aiohttp.ClientConnectorError) as refused:
        await get(url)

    assert isinstance(refused.value.os_error, AddressNotAllowed)
    assert canary.hits == 0
    assert connects == []


async def test_a_name_resolving_to_loopback_is_refused_with_a_clear_message(canary, connects):
    with pytest.raises(TransientFailure) as failure:
        async with guarded_session() as http:
            await post(
                http, f"http://localhost:{canary.port}/x", b"{}", {}, timeout=5, receiver="It"
            )

    assert failure.value.message == (
        "The address of localhost is not allowed (loopback, private or link-local)."
    )
    assert failure.value.status_code is None
    assert canary.hits == 0 and connects == []


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST", "0x7f.1", "2130706433", "0177.0.0.1", "127.1", "127.0.0.1"]
)
async def test_the_resolver_drops_loopback_in_any_spelling(host):
    resolver = GuardedResolver()

    with pytest.raises(AddressNotAllowed):
        await resolver.resolve(host, 80)


async def test_an_allow_listed_host_is_reached_and_only_while_it_is(monkeypatch, canary, connects):
    allow_hosts(monkeypatch, f"127.0.0.1:{canary.port}")
    allow_hosts(monkeypatch, f"localhost:{canary.port}")

    assert await get(f"{canary.url}/") == 200
    assert await get(f"http://localhost:{canary.port}/") == 200
    monkeypatch.setattr(config, "WEBHOOK_ALLOW_HOSTS", frozenset())
    with pytest.raises(aiohttp.ClientConnectorError):
        await get(f"http://localhost:{canary.port}/")

    assert canary.hits == 2
    assert connects == [("127.0.0.1", canary.port)] * 2


async def test_the_allow_list_is_per_port(monkeypatch, canary):
    allow_hosts(monkeypatch, f"127.0.0.1:{canary.port + 1}")

    with pytest.raises(aiohttp.ClientConnectorError):
        await get(f"{canary.url}/")

    assert canary.hits == 0
