"""Guards around the web app: the engine gate, shared-token auth, security headers, body limit and JSON errors.

Each middleware is a plain ASGI callable with one job; :func:`qa.web.create_app`
stacks them (outermost first): allowed hosts, error cap, JSON errors, CORS, security headers, auth, body
limit, method guard.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
from contextlib import contextmanager
from http import HTTPStatus
from typing import Awaitable, Callable, Iterator
from urllib.parse import parse_qsl, quote, urlencode

logger = logging.getLogger(__name__)

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Name of the cookie set by ``?token=`` (it holds a digest of the token, never the token).
AUTH_COOKIE = "qa_auth"


class Busy(RuntimeError):
    """The engine already has as many callers running and waiting as allowed."""


class Gate:
    """Bounds how many engine calls run at once and how many may wait; the rest are refused.

    Both the JSON API and the Gradio events go through one gate, so a flood on one
    cannot starve the other without being refused with "busy, try again".

    Usage example:
        >>> gate = Gate(running=2, waiting=4, wait_seconds=5.0)
        >>> with gate.slot():
        ...     pass

    Args:
        running: engine calls at once. Defaults to 4 (the engine is thread-safe; more only
            shares the same cores).
        waiting: callers that may wait for a running slot; one more is refused at once.
            Defaults to 64 (more than 50 API clients at once are served without a refusal).
        wait_seconds: longest wait for a running slot before refusing. Defaults to 10.0.
    """

    def __init__(self, running: int = 4, waiting: int = 64, wait_seconds: float = 10.0) -> None:
        if running < 1 or waiting < 0 or wait_seconds <= 0:
            raise ValueError(f"Gate needs running >= 1, waiting >= 0 and wait_seconds > 0; got "
                             f"running={running}, waiting={waiting}, wait_seconds={wait_seconds}")
        self.running, self.waiting, self.wait_seconds = running, waiting, wait_seconds
        self._slots = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self._inside = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Count the caller in and hold one running slot for the ``with`` block.

        Raises:
            Busy: ``running + waiting`` callers are already inside, or no slot freed up in time.
        """
        with self.admission(), self.running_slot():
            yield

    @contextmanager
    def admission(self) -> Iterator[None]:
        """Count the caller in (running or waiting) for the ``with`` block; never waits, so async code may use it.

        The API routes take it before they wait for a worker thread, so a flood is refused at
        once instead of queuing for threads; :meth:`running_slot` then waits for the engine.

        Raises:
            Busy: ``running + waiting`` callers are already inside.
        """
        with self._lock:
            if self._inside >= self.running + self.waiting:
                raise Busy(f"{self._inside} requests are running or waiting (limit {self.running + self.waiting})")
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1

    @contextmanager
    def running_slot(self) -> Iterator[None]:
        """Hold one of the ``running`` slots for the ``with`` block, waiting up to ``wait_seconds`` for it.

        Raises:
            Busy: no slot freed up in time.
        """
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise Busy(f"no free slot within {self.wait_seconds:g} s")
        try:
            yield
        finally:
            self._slots.release()


def json_body(status: int, message: str, **extra) -> bytes:
    """The JSON error body every API error uses: ``{"error": message, "status": status, ...}``."""
    return json.dumps({"error": message, "status": status, **extra}, ensure_ascii=False).encode("utf-8")


async def send_json(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send a complete JSON error response."""
    body = json_body(status, message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def wants_json(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether ``path`` is one of the app's own JSON routes."""
    return path.startswith(prefixes)


class JSONErrors:
    """Turns any non-JSON error response on the JSON routes (e.g. a CORS preflight refusal) into JSON.

    Args:
        app: the wrapped application.
        prefixes: path prefixes of the JSON routes, e.g. ``("/api/", "/healthz")``.
    """

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...]) -> None:
        self.app, self.prefixes = app, prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not wants_json(scope["path"], self.prefixes):
            await self.app(scope, receive, send)
            return
        held: dict | None = None  # the start of a response being replaced
        text = bytearray()

        async def guarded(message: dict) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if message["status"] >= 400 and not content_type.startswith(b"application/json"):
                    held = {**message, "plain": content_type.startswith(b"text/plain")}
                    return
                await send(message)
            elif held is None:
                await send(message)
            else:
                text.extend(message.get("body", b"")[: 300 - len(text)])
                if not message.get("more_body"):
                    await self._send_replacement(send, held, text)

        await self.app(scope, receive, guarded)

    @staticmethod
    async def _send_replacement(send: Send, start: dict, text: bytearray) -> None:
        status = start["status"]
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = "error"
        if start["plain"] and text.strip():
            message = text.decode("utf-8", "replace").strip()  # e.g. "Disallowed CORS origin"
        body = json_body(status, message)
        kept = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-type", b"content-length")]
        await send({"type": "http.response.start", "status": status,
                    "headers": [*kept, (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class MethodGuard:
    """Answers JSON routes called with a method they do not take, and unknown ``/api/`` paths, with JSON.

    Without it such requests fall through to the Gradio app mounted at ``/``, which answers
    ``{"detail": "Not Found"}``. HEAD is answered as GET (the server sends no body).

    Args:
        app: the wrapped application.
        routes: each JSON path and its methods, e.g. ``{"/api/ask": ("GET", "POST")}``.
        prefix: paths under it that are not in ``routes`` get 404 JSON. Defaults to ``"/api/"``.
    """

    def __init__(self, app: ASGIApp, routes: dict[str, tuple[str, ...]], prefix: str = "/api/") -> None:
        self.app, self.routes, self.prefix = app, routes, prefix
        self.hint = " or ".join(f"{' or '.join(methods)} {path}" for path, methods in routes.items()
                                if path.startswith(prefix) and not path.endswith(".json"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        methods = self.routes.get(path)
        if methods is None:
            if path.startswith(self.prefix):
                await send_json(send, 404, f"no API route {path}; the API is {self.hint}")
            else:
                await self.app(scope, receive, send)
            return
        if method == "HEAD" and "GET" in methods:
            scope = {**scope, "method": "GET"}
        elif method not in methods:
            allow = ", ".join(sorted({*methods, *(("HEAD",) if "GET" in methods else ())}))
            await send_json(send, 405, f"method {method} not allowed on {path}; use {' or '.join(methods)}",
                            [(b"allow", allow.encode("latin-1"))])
            return
        await self.app(scope, receive, send)


#: Host names every server answers to (the machine itself).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_name(value: str) -> str:
    """The host name of a ``Host`` header value, lower-cased, without port or brackets (``"[::1]:80"`` -> ``"::1"``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostGuard:
    """Serves only requests for allowed host names, so no other name is reflected into links.

    The app builds absolute links (citation ``url``\ s, Gradio's ``/config`` root) from ``Host`` or
    ``X-Forwarded-Host`` when no base URL is configured. A request whose ``Host`` is not on the
    list gets 400 JSON (a WebSocket is closed); an ``X-Forwarded-Host`` that is not on the list is
    removed from the request before the app sees it. Like Starlette's ``TrustedHostMiddleware``,
    plus the ``X-Forwarded-Host`` check.

    Args:
        app: the wrapped application.
        hosts: allowed names; ``*.example.org`` allows its subdomains, ``*`` allows every name.
    """

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...]) -> None:
        self.app = app
        self.hosts = tuple(dict.fromkeys(host_name(h) if h != "*" and not h.startswith("*.") else h.lower()
                                         for h in hosts))
        self.any = "*" in self.hosts

    def allowed(self, value: str | None) -> bool:
        """Whether the ``Host`` header value ``value`` names an allowed host (a missing header is allowed)."""
        if not value or self.any:
            return True
        name = host_name(value)
        return any(name == h or (h.startswith("*.") and name.endswith(h[1:])) for h in self.hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any:
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if not self.allowed(host):
            logger.info("refused a request for host %r (not in the allowed hosts)", host)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await send_json(send, 400, f"host {host_name(host or '')[:100]!r} is not served here; the server "
                                           f"answers for {', '.join(self.hosts)} (set QA_ALLOWED_HOSTS or "
                                           f"QA_BASE_URL to add one)")
            return
        forwarded = _header(scope, b"x-forwarded-host")
        if forwarded is not None and not all(self.allowed(part) for part in forwarded.split(",")):
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"x-forwarded-host"]}
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Adds ``Content-Security-Policy: frame-ancestors 'self' <allowed>`` and ``nosniff`` to every response.

    Args:
        app: the wrapped application.
        frame_origins: sites allowed to frame the app besides itself. Defaults to none.
    """

    def __init__(self, app: ASGIApp, frame_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.csp = " ".join(["frame-ancestors", "'self'", *frame_origins]).encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"content-security-policy", b"x-frame-options")]
                headers += [(b"content-security-policy", self.csp), (b"x-content-type-options", b"nosniff")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class _BodyTooLarge(Exception):
    """Raised from ``receive`` inside the app once a body passes its limit (the 413 is already sent)."""


class BodyLimit:
    """Refuses request bodies over their route's limit with 413 JSON, counting bytes as the app reads them.

    A declared ``Content-Length`` over the limit is refused before any byte is read. Otherwise
    the body is passed through as it arrives (nothing is buffered here) and counted; the chunk
    that passes the limit is not handed over: the client gets 413 with ``Connection: close``,
    the app's ``receive`` raises and whatever the app answers after that is dropped. uvicorn
    reads at most about 64 KB ahead of the app, so memory stays bounded whatever is sent.

    Args:
        app: the wrapped application.
        limit: largest accepted body in bytes where no prefix of ``limits`` matches. Defaults to 65,536.
        limits: ``(path prefix, bytes)`` pairs, first match wins, e.g. ``(("/gradio_api/upload", 5_300_000),)``.
            Defaults to none.
    """

    def __init__(self, app: ASGIApp, limit: int = 64 * 1024, limits: tuple[tuple[str, int], ...] = ()) -> None:
        self.app, self.limit, self.limits = app, limit, tuple(limits)

    def limit_for(self, path: str) -> int:
        """The body limit of ``path``."""
        return next((size for prefix, size in self.limits if path.startswith(prefix)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        too_big = f"request body is over {limit // 1024:,} KB; send a shorter question and history"
        close = [(b"connection", b"close")]
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, too_big, close)
            return
        size, started, refused = 0, False, False

        async def counted() -> dict:
            nonlocal size, refused
            if refused:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    refused = True
                    if not started:
                        await send_json(send, 413, too_big, close)
                    raise _BodyTooLarge
            return message

        async def guarded(message: dict) -> None:
            nonlocal started
            if refused:
                return  # the app's own answer to a cut request
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except _BodyTooLarge:
            pass
        except BaseExceptionGroup as group:  # raised through a task group
            _, rest = group.split(_BodyTooLarge)
            if rest is not None:
                raise rest from None
        if refused:
            logger.info("refused %s %s: body over %d bytes", scope["method"], scope["path"], limit)


class ErrorCap:
    """Cuts error responses (status 400 and above) longer than ``cap`` bytes to a short JSON error.

    FastAPI's validation errors echo the request (a 60 KB body of 30,000 numbers gave a 1.4 MB
    422 from Gradio's routes); this keeps the first part of the message and says how much was cut.

    Args:
        app: the wrapped application.
        cap: largest error body passed on unchanged. Defaults to 4,096 bytes.
    """

    def __init__(self, app: ASGIApp, cap: int = 4096) -> None:
        self.app, self.cap = app, cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: dict | None = None
        kept = bytearray()
        total = 0

        async def capped(message: dict) -> None:
            nonlocal held, total
            if message["type"] == "http.response.start":
                if message["status"] >= 400:
                    held = message
                    return
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            total += len(body)
            kept.extend(body[: self.cap + 1 - len(kept)])
            if not message.get("more_body"):
                await self._finish(send, held, bytes(kept), total)

        await self.app(scope, receive, capped)

    async def _finish(self, send: Send, start: dict, kept: bytes, total: int) -> None:
        if total <= self.cap:
            await send(start)
            await send({"type": "http.response.body", "body": kept})
            return
        status = start["status"]
        text = kept[:1000].decode("utf-8", "replace")
        message = f"{text} ... ({total:,} bytes in all; cut to the first 1,000)"
        body = json.dumps({"error": message, "status": status, "detail": message}).encode("utf-8")
        headers = [(k, v) for k, v in start.get("headers", [])
                   if k.lower() not in (b"content-type", b"content-length")]
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


#: Characters a redirect path keeps as they are; everything else (backslashes, spaces, controls, non-ASCII)
#: is percent-encoded so that no browser reads it as the start of another site's address.
_PATH_SAFE = "/-._~!$&'()*+,;=:@"


def same_site_path(path: str) -> str:
    """``path`` as a redirect target that stays on this site: one leading ``/``, never ``//`` or ``/\\``.

    Browsers read ``//host``, ``/\\host`` and ``/<tab>/host`` as another site; the decoded path
    of ``/%2F%2Fhost`` is ``//host`` too. Leading slashes, backslashes, spaces and control
    characters are dropped and the rest is percent-encoded, e.g. ``//evil.example/x`` ->
    ``/evil.example/x`` (a path on this site).
    """
    rest = path
    while rest and (rest[0] in "/\\" or rest[0].isspace() or not rest[0].isprintable()):
        rest = rest[1:]
    return "/" + quote(rest, safe=_PATH_SAFE)


def check_token(token: str) -> str:
    """``token`` if it can be sent and compared the same way everywhere: printable ASCII, no spaces.

    HTTP headers carry bytes that servers read as Latin-1 while browsers refuse non-ASCII header
    values, so a token with other characters could never match; it is refused at start-up.

    Raises:
        ValueError: the token has spaces, control or non-ASCII characters (the message says which).
    """
    bad = sorted({ch for ch in token if not "!" <= ch <= "~"})
    if bad:
        shown = ", ".join(f"U+{ord(ch):04X}" for ch in bad[:5])
        raise ValueError(f"QA_TOKEN must be printable ASCII without spaces (letters, digits, punctuation); "
                         f"it has {shown}; choose another token, e.g. from "
                         f"python -c 'import secrets; print(secrets.token_urlsafe(24))'")
    return token


def cookie_value(token: str) -> str:
    """What the auth cookie holds: an HMAC of a fixed label under the token (not the token itself)."""
    return hmac.new(token.encode("utf-8"), b"qa-web-cookie", hashlib.sha256).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class TokenAuth:
    """Shared-token auth for the whole app except the health check.

    A request is let in with ``Authorization: Bearer <token>`` or the cookie set by
    opening any page once with ``?token=<token>`` (answered with a redirect to the same
    URL without the token and an HttpOnly cookie; ``SameSite=None; Secure`` over HTTPS
    so the embed works in a wiki's iframe, else ``SameSite=Lax``). Tokens are compared
    with :func:`hmac.compare_digest` and never logged or echoed.

    Args:
        app: the wrapped application.
        token: the shared token.
        json_prefixes: paths answered with a JSON 401 (other paths get a short HTML page).
        open_paths: paths that need no token. Defaults to ``("/healthz",)``.
    """

    def __init__(self, app: ASGIApp, token: str, json_prefixes: tuple[str, ...],
                 open_paths: tuple[str, ...] = ("/healthz",)) -> None:
        if not token:
            raise ValueError("TokenAuth needs a non-empty token; unset QA_TOKEN to turn auth off")
        check_token(token)
        self.app, self.token, self.cookie = app, token, cookie_value(token)
        self.json_prefixes, self.open_paths = json_prefixes, open_paths

    def _authorized(self, scope: Scope) -> bool:
        header = _header(scope, b"authorization") or ""
        if header[:7].lower() == "bearer " and _same(header[7:].strip(), self.token):
            return True
        for part in (_header(scope, b"cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == AUTH_COOKIE and _same(value, self.cookie):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)  # CORS preflights carry no credentials
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        offered = [value for name, value in query if name == "token"]
        if offered and scope["type"] == "http" and scope["method"] in ("GET", "HEAD") \
                and not wants_json(scope["path"], self.json_prefixes):
            if _same(offered[0], self.token):
                await self._login(scope, send, [(n, v) for n, v in query if n != "token"])
                return
        elif self._authorized(scope):
            await self.app(scope, receive, send)
            return
        logger.info("refused %s %s: missing or wrong token", scope.get("method", "WS"), scope["path"])
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        elif wants_json(scope["path"], self.json_prefixes) or scope["path"].startswith("/gradio_api/"):
            sent = (_header(scope, b"authorization") or "")[:7].lower() == "bearer "
            await send_json(send, 401, ("wrong token" if sent else "missing token") +
                            "; send the header 'Authorization: Bearer <token>'",
                            [(b"www-authenticate", b'Bearer realm="qa"')])
        else:
            title, message = self._refusal(scope, bool(offered))
            body = (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
                    f'<main style="font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem">'
                    f'<h1 style="font-size:1.2rem">{title}</h1><p>{message}</p></main></html>').encode("utf-8")
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

    def _refusal(self, scope: Scope, offered: bool) -> tuple[str, str]:
        """The title and message (HTML) of the 401 page: what went wrong for this request, and what to do."""
        if offered:
            return ("Wrong access token", "The access token in this link is not the right one (it may have been "
                    "changed). Ask whoever runs this site for the current link, "
                    "<code>/?token=&lt;token&gt;</code>.")
        if any(part.strip().startswith(AUTH_COOKIE + "=") for part in (_header(scope, b"cookie") or "").split(";")):
            return ("Access token changed", "Your saved access no longer works: the site's token has changed. "
                    "Open the site again with the current token, <code>/?token=&lt;token&gt;</code>.")
        if _header(scope, b"sec-fetch-dest") == "iframe" and _header(scope, b"sec-fetch-site") == "cross-site":
            return ("Sign-in cookie blocked", "This page is shown inside another site's page, and the browser did "
                    "not send it the sign-in cookie (even when the frame's address has <code>?token=</code>): "
                    "browsers only send cookies to a page framed by another site over HTTPS. Serve this app over "
                    "HTTPS, or from the wiki's own site (e.g. <code>qa.wiki.example.org</code> for "
                    "<code>wiki.example.org</code>); see \"Embedding with a token\" in docs/web.md.")
        return ("Token needed", "This site needs its access token: open it once as "
                "<code>/?token=&lt;token&gt;</code>.")

    async def _login(self, scope: Scope, send: Send, rest: list[tuple[str, str]]) -> None:
        secure = scope.get("scheme") == "https" or _header(scope, b"x-forwarded-proto") == "https"
        flags = "; SameSite=None; Secure" if secure else "; SameSite=Lax"
        location = same_site_path(scope.get("root_path", "") + scope["path"]) + (f"?{urlencode(rest)}" if rest else "")
        cookie = f"{AUTH_COOKIE}={self.cookie}; Path=/; HttpOnly; Max-Age=2592000{flags}"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
                                (b"cache-control", b"no-store"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


class RedactToken(logging.Filter):
    """Removes ``token=...`` from log records (uvicorn's access log prints query strings)."""

    _PATTERN = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._PATTERN.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self._PATTERN.sub(r"\1***", record.msg)
        return True


def install_log_redaction() -> None:
    """Add :class:`RedactToken` to uvicorn's access logger once (used when a token is set)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactToken) for f in access.filters):
        access.addFilter(RedactToken())
