"""Security for the web app: bearer token, login cookie, CSRF, headers, upload limit, SSRF, HTML sanitising.

Sits between uvicorn and the page/API routes of ``newsdesk serve``:

* **Bind policy** – :func:`require_token_for_bind` refuses a non-loopback bind
  without a token (config ``serve.token`` or the env var named by ``serve.token_env``).
* **Authentication** – when a token is configured, *every* request except the
  login form and the static stylesheet needs ``Authorization: Bearer <token>``
  or the ``newsdesk_auth`` cookie set by ``/login`` (HMAC of the token, HttpOnly,
  SameSite=Strict).
* **CSRF** – unsafe methods need a same-origin ``Origin``/``Referer`` (when sent)
  *and* a double-submit token (``csrf_token`` form field or ``X-CSRF-Token``
  header equal to the ``newsdesk_csrf`` cookie). Requests authenticated with an
  ``Authorization`` header, and JSON requests that carry no ``Origin``/``Referer``
  at all (non-browser clients; a browser cannot send cross-site JSON without a
  CORS preflight, which this app never grants), are exempt from the token.
* **Headers** – a CSP without inline scripts, ``frame-ancestors 'none'``,
  ``X-Content-Type-Options``, ``Referrer-Policy``.
* **Uploads** – :func:`read_multipart_limited` counts bytes while reading and
  raises 413 as soon as ``serve.upload_max_bytes`` is exceeded.
* **SSRF** – :func:`ensure_fetchable` refuses loopback/private/link-local targets
  unless ``fetch.allow_private`` (the collector's ``check_url_allowed``).
* **Feed HTML** – :func:`safe_html` runs nh3 with a small allowlist before any
  feed-supplied HTML reaches a template (everything else is Jinja-autoescaped).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import nh3
from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser

from newsdesk.config import Config

AUTH_COOKIE = "newsdesk_auth"
CSRF_COOKIE = "newsdesk_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths reachable without authentication: the login form and the stylesheet it uses.
PUBLIC_PREFIXES = ("/login", "/static/")


class ServeSecurityError(Exception):
    """Raised when the server must not start (e.g. public bind without a token)."""


# --- bind policy and token -------------------------------------------------

def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; False for 0.0.0.0, LAN addresses, names."""
    h = host.strip().strip("[]").lower()
    if h in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def resolve_token(config: Config) -> str | None:
    """The bearer token: ``serve.token`` in the config, else the env var named by ``serve.token_env``."""
    if config.serve.token:
        return config.serve.token
    value = os.environ.get(config.serve.token_env or "", "").strip()
    return value or None


def require_token_for_bind(host: str, config: Config) -> str | None:
    """Return the token to enforce for this bind, or raise when a public bind has none.

    Loopback binds run without a token unless one is configured; a configured
    token is always enforced.
    """
    token = resolve_token(config)
    if not is_loopback_host(host) and not token:
        raise ServeSecurityError(
            f"refusing to listen on {host}: a non-loopback address needs a bearer token; "
            f"set serve.token in the config or export {config.serve.token_env}=<long random string>"
        )
    return token


def session_value(token: str) -> str:
    """The login cookie value: an HMAC of the token, so the token itself is never stored in the browser."""
    return hmac.new(token.encode(), b"newsdesk-session-v1", hashlib.sha256).hexdigest()


def is_authenticated(request: Request, token: str | None) -> bool:
    """Check the bearer header or the login cookie against ``token`` (constant-time)."""
    if not token:
        return True
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(AUTH_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), session_value(token).encode())


def has_bearer(request: Request, token: str | None) -> bool:
    """True when the request carries a valid ``Authorization: Bearer`` header (never sent cross-site by browsers)."""
    if not token:
        return False
    auth = request.headers.get("authorization", "")
    return auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), token.encode())


# --- CSRF -------------------------------------------------------------------

def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token_for(request: Request) -> str:
    """The request's CSRF token: the cookie value, or a fresh one the response middleware will set."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing:
        return existing
    tok = getattr(request.state, "new_csrf", None)
    if not tok:
        tok = new_csrf_token()
        request.state.new_csrf = tok
    return tok


def _same_origin(request: Request, value: str) -> bool:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        return False
    host = request.headers.get("host", "")
    return parts.netloc.lower() == host.lower() and parts.scheme in ("http", "https")


def check_origin(request: Request) -> None:
    """403 when an unsafe request comes from another origin (``Origin``, else ``Referer``)."""
    origin = request.headers.get("origin")
    if origin is not None:
        if origin == "null" or not _same_origin(request, origin):
            raise HTTPException(403, f"cross-origin request refused (Origin: {origin})")
        return
    referer = request.headers.get("referer")
    if referer and not _same_origin(request, referer):
        raise HTTPException(403, "cross-origin request refused (Referer does not match)")


def check_csrf(request: Request, submitted: str | None, token: str | None) -> None:
    """Enforce origin + double-submit token for one unsafe request; raise 403 on failure."""
    check_origin(request)
    if has_bearer(request, token):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    candidate = submitted or request.headers.get(CSRF_HEADER, "")
    if cookie and candidate and hmac.compare_digest(cookie.encode(), candidate.encode()):
        return
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    no_browser_context = "origin" not in request.headers and "referer" not in request.headers
    # Requests a page on another site cannot make without a CORS preflight (never granted here):
    # JSON bodies and PUT/PATCH/DELETE. Browsers send Origin with these; scripts and curl do not.
    if no_browser_context and (ctype == "application/json" or request.method != "POST"):
        return
    raise HTTPException(403, "CSRF check failed: missing or wrong csrf_token (reload the page and retry)")


def multipart_endpoint(fn: Any) -> Any:
    """Mark an endpoint that parses its own multipart body (and checks CSRF after the size-limited read)."""
    fn._newsdesk_multipart = True
    return fn


async def csrf_guard(request: Request) -> None:
    """Router dependency: CSRF for every unsafe request.

    URL-encoded forms are parsed here (Starlette caches the form for the handler).
    Multipart bodies are only accepted by endpoints marked with
    :func:`multipart_endpoint`, which call :func:`check_csrf` after a size-limited read.
    """
    if request.method not in UNSAFE_METHODS:
        return
    token = getattr(request.app.state, "token", None)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        endpoint = request.scope.get("endpoint")
        if not getattr(endpoint, "_newsdesk_multipart", False):
            raise HTTPException(403, "multipart bodies are not accepted here")
        check_origin(request)
        return
    submitted = None
    if ctype == "application/x-www-form-urlencoded":
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted, token)


# --- security headers -------------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)


def security_headers(csp: str = CSP) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }


def script_hash_csp(html: str, extra_script: str = "", extra_style: str = "") -> str:
    """A CSP for a page with known inline scripts (Swagger UI): allow exactly those by sha256 hash."""
    import base64
    import re

    hashes = []
    for body in re.findall(r"<script>(.*?)</script>", html, flags=re.S):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return (
        f"default-src 'self'; script-src 'self' {extra_script} {' '.join(hashes)}; "
        f"style-src 'self' {extra_style}; img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
    )


# --- uploads ------------------------------------------------------------------

class UploadTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"upload larger than serve.upload_max_bytes ({limit} bytes)")


async def _limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise UploadTooLarge(limit)
        yield chunk


async def read_multipart_limited(request: Request, limit: int) -> FormData:
    """Parse a multipart body, counting bytes as they arrive; 413 as soon as ``limit`` is passed.

    A ``Content-Length`` above the limit is refused before reading anything.
    """
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        raise UploadTooLarge(limit)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise HTTPException(415, "expected multipart/form-data")
    parser = MultiPartParser(request.headers, _limited(request, limit), max_files=8, max_fields=32,
                             max_part_size=64 * 1024)
    try:
        return await parser.parse()
    except MultiPartException as e:
        raise HTTPException(400, e.message) from None


# --- SSRF ---------------------------------------------------------------------

def ensure_fetchable(url: str, config: Config) -> None:
    """Raise ``ValueError`` (one clear line) when a user-supplied URL must not be fetched server-side.

    Delegates to the collector's guard ``newsdesk.collect.fetch.check_url_allowed``
    (http/https only; after DNS resolution, loopback/private/link-local/reserved
    addresses are refused unless ``fetch.allow_private``).
    """
    from newsdesk.collect.fetch import check_url_allowed
    from newsdesk.errors import NewsdeskError

    try:
        check_url_allowed(url, config.fetch.allow_private)
    except NewsdeskError as e:
        raise ValueError(str(e)) from None


# --- feed HTML ------------------------------------------------------------------

_TAGS = {"p", "br", "a", "em", "strong", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre",
         "h3", "h4", "h5", "figure", "figcaption", "sub", "sup", "abbr", "q", "small"}
_ATTRS = {"a": {"href", "title"}, "abbr": {"title"}}


def safe_html(html: str | None) -> str:
    """Sanitise feed-supplied HTML with an nh3 allowlist (no scripts, handlers, styles, images, iframes)."""
    if not html:
        return ""
    return nh3.clean(
        html, tags=_TAGS, attributes=_ATTRS, url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow", strip_comments=True,
    )
