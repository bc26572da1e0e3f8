"""The changes endpoint's fast lane: "nothing new" answered before Django, from memory.

Readers who poll (no WebSockets, or a socket that is being retried) mostly
ask for the URL of the newest change and hear "nothing new". Through the
whole Django stack that costs a thread hop and a dozen middlewares per
request; this ASGI middleware answers exactly that case itself, when this
process saw the ticker's position less than ``TICKER_POSITION_CACHE_SECONDS``
ago, with the same body and headers the view sends (a test compares them).
Everything else — a reader who is behind, an unknown ticker, a position not
known or too old, a host not allowed, a plain-http request that must be
redirected — goes on to Django unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve
from django.utils.csp import CSP, build_policy

from ticker import rendering, selectors

Scope = MutableMapping[str, Any]
ASGIApp = Callable[..., Awaitable[Any]]

CHANGES_VIEW = "ticker:changes"


def etag(ticker_id: int, since: int, last_seq: int) -> str:
    """Return the ETag of the changes document for ``since`` at position ``last_seq``."""
    return f'"{ticker_id}.{since}.{last_seq}"'


def cache_control() -> str:
    return f"public, max-age={settings.TICKER_POLL_CACHE_SECONDS}"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def _is_secure(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name = proxy[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
        return _header(scope, name) == proxy[1]
    return False


def _security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    """The headers Django's middleware adds to the view's answer, for the same request."""
    headers = (
        [(b"x-content-type-options", b"nosniff")] if settings.SECURE_CONTENT_TYPE_NOSNIFF else []
    )
    if settings.SECURE_REFERRER_POLICY:
        headers.append((b"referrer-policy", settings.SECURE_REFERRER_POLICY.encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(
            (b"cross-origin-opener-policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode())
        )
    if secure and settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append((b"strict-transport-security", hsts.encode()))
    headers.append((b"x-frame-options", settings.X_FRAME_OPTIONS.encode()))
    for header, config in (
        (CSP.HEADER_ENFORCE, settings.SECURE_CSP),
        (CSP.HEADER_REPORT_ONLY, settings.SECURE_CSP_REPORT_ONLY),
    ):
        if config:
            headers.append((str(header).lower().encode(), build_policy(config).encode()))
    return headers


def up_to_date_answer(scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """Return (status, headers, body) for a poll this process can answer from memory, or None."""
    if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
        return None
    path = scope.get("path", "")
    if not path.endswith("/changes/"):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.view_name != CHANGES_VIEW:
        return None
    host, _ = split_domain_port(_header(scope, b"host"))
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return None
    secure = _is_secure(scope)
    if settings.SECURE_SSL_REDIRECT and not secure:
        return None
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    position = selectors.fresh_position(match.kwargs["slug"])
    if position is None or query.get("since") != str(position[1]):
        return None
    ticker_id, last_seq = position
    tag = etag(ticker_id, last_seq, last_seq)
    headers = [
        (b"content-type", b"application/json"),
        (b"etag", tag.encode()),
        (b"cache-control", cache_control().encode()),
        *_security_headers(secure),
    ]
    if tag in _header(scope, b"if-none-match"):
        return 304, headers, b""
    body = rendering.changes_document(last_seq, []).encode()
    headers.append((b"content-length", str(len(body)).encode()))
    return 200, headers, body if scope["method"] == "GET" else b""


class UpToDatePolls:
    """ASGI middleware in front of Django: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> Any:
        answer = up_to_date_answer(scope)
        if answer is None:
            return await self.app(scope, receive, send)
        status, headers, body = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None
