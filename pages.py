"""The settings page: `/settings`, `/settings/connected` and its files under `/static/`.

Plain HTML, CSS and JavaScript modules from `web/`, with no build step; the page talks
to the API only through the public `/graphql` endpoint, as any other client does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

import config

WEB_ROOT = config.ROOT / "web"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers() -> dict[str, str]:
    """Headers for every file of the page.

    The policy allows scripts and styles from this server only, so text that reaches
    the page (a bio, an alert's text) cannot run as script even if it were ever put in
    as HTML. Images may come from PUBLIC_URL (photos) and https (GitHub avatars). The
    page must not be framed (clickjacking of "Delete account"), and no referrer leaves
    /settings/connected, whose address carries an OAuth code.
    """
    images = " ".join(["'self'", "data:", "blob:", "https:", _origin(config.PUBLIC_URL)])
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        # Revalidated each time (cheap: ETag), so a deploy reaches open pages at once.
        "Cache-Control": "no-cache",
    }


class PageFiles(StaticFiles):
    """`web/` served with the page's security headers."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(security_headers())
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        # The HTML pages have their own addresses; only their assets live here.
        if path.endswith(".html"):
            return Response("Not Found", status_code=404)
        return await super().get_response(path, scope)


def _page(file_name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return FileResponse(
            WEB_ROOT / file_name, media_type="text/html", headers=security_headers()
        )

    return endpoint


async def _home(request: Request) -> Response:
    return RedirectResponse("/settings")


def routes() -> list[BaseRoute]:
    return [
        Route("/", _home),
        Route("/settings", _page("settings.html")),
        Route("/settings/connected", _page("connected.html")),
        Mount("/static", PageFiles(directory=WEB_ROOT), name="static"),
    ]
