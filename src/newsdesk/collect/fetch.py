"""HTTP (and local file) fetching for feeds and articles.

Pipeline position: ``run.py`` calls :meth:`Fetcher.fetch` for every feed
(from a thread pool), then hands the bytes to ``parse.py``. The fetcher is
polite and defensive:

* honest ``User-Agent``; gzip/deflate/brotli via httpx;
* conditional GET (``If-None-Match`` / ``If-Modified-Since``), 304 -> ``not_modified``;
* redirects followed by hand so a chain of 301/308 is reported as
  ``permanent_redirect`` (the caller rewrites the subscription);
* 429/503 honour ``Retry-After`` (seconds or HTTP date) within
  ``fetch.max_retry_after``; 5xx retried with exponential backoff;
* the body size cap is enforced while streaming (also after decompression,
  so a gzip bomb cannot fill memory); a total deadline per attempt;
* ``file://`` URLs and plain paths are read from disk (same cap);
* :func:`check_url_allowed` is the SSRF guard for user-supplied URLs.

Every error is a :class:`FeedError` whose message starts with the URL.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from newsdesk import USER_AGENT
from newsdesk.config import FetchConfig
from newsdesk.errors import FeedError

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}
_MAX_REDIRECTS = 10
_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 408: "Request Timeout", 410: "Gone", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.5, */*;q=0.1"
)


@dataclass
class FetchResponse:
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    final_url: str
    permanent_redirect: bool = False
    not_modified: bool = False


def is_local(url: str) -> bool:
    """True for ``file://`` URLs and plain filesystem paths (no network needed)."""
    scheme = urlsplit(url).scheme.lower()
    return scheme == "file" or scheme == "" or (len(scheme) == 1 and url[1:3] in {":\\", ":/"})


def local_path(url: str) -> Path:
    """Filesystem path for a ``file://`` URL or a plain path."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    return Path(url).expanduser()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def check_url_allowed(url: str, allow_private: bool = False) -> None:
    """SSRF guard: refuse URLs that resolve to loopback/private/link-local/... addresses.

    Used by the web server for user-supplied URLs (and by :class:`Fetcher`
    with ``guard_private=True``, on every redirect hop). Raises
    :class:`FeedError` naming the URL. Only http(s) URLs are allowed.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        raise FeedError(f"{url}: only http and https URLs are allowed")
    host = parts.hostname
    if not host:
        raise FeedError(f"{url}: URL has no host")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise FeedError(f"{url}: invalid port") from None
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as e:
        raise FeedError(f"{url}: cannot resolve host {host!r}: {e}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        if (addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_unspecified
                or addr.is_multicast or addr.is_reserved):
            raise FeedError(f"{url}: refusing to fetch a private or local address ({addr})")


class Fetcher:
    """Fetches URLs with one shared ``httpx.Client`` (thread-safe; use from a pool)."""

    def __init__(self, config: FetchConfig | None = None, *, guard_private: bool = False,
                 sleep: Callable[[float], None] = time.sleep, client: httpx.Client | None = None):
        self.config = config or FetchConfig()
        self.guard_private = guard_private
        self._sleep = sleep
        self.user_agent = self.config.user_agent or USER_AGENT
        t = self.config.timeout
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(t, connect=min(t, 10.0)),
            follow_redirects=False,
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate, br"},
            limits=httpx.Limits(max_connections=max(8, self.config.concurrency * 2)),
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ public
    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept: str = ACCEPT) -> FetchResponse:
        """Fetch ``url`` (http(s), ``file://`` or a path). Raises :class:`FeedError` on failure."""
        if is_local(url):
            return self._read_file(url)
        scheme = urlsplit(url).scheme.lower()
        if scheme not in {"http", "https"}:
            raise FeedError(f"{url}: unsupported URL scheme {scheme!r}")
        cfg = self.config
        attempt = 0
        while True:
            try:
                return self._fetch_once(url, etag=etag, last_modified=last_modified, accept=accept)
            except _Retryable as r:
                if r.retry_after is not None and r.retry_after > cfg.max_retry_after:
                    raise FeedError(
                        f"{url}: HTTP {r.status} {_REASONS.get(r.status, '')}; server asks to retry after "
                        f"{r.retry_after:.0f}s, more than fetch.max_retry_after ({cfg.max_retry_after:.0f}s); "
                        f"will try again on a later run",
                        status=r.status, retry_after=r.retry_after,
                    ) from None
                if attempt >= cfg.max_retries:
                    raise FeedError(f"{url}: {r.message} (gave up after {attempt + 1} attempts)",
                                    status=r.status, retry_after=r.retry_after) from None
                wait = r.retry_after if r.retry_after is not None else cfg.backoff_base * (2 ** attempt)
                self._sleep(min(wait, cfg.max_retry_after))
                attempt += 1

    # ------------------------------------------------------------------ internals
    def _read_file(self, url: str) -> FetchResponse:
        path = local_path(url)
        try:
            size = path.stat().st_size
            if size > self.config.max_bytes:
                raise FeedError(f"{url}: response larger than {self.config.max_bytes} bytes")
            body = path.read_bytes()
        except FeedError:
            raise
        except FileNotFoundError:
            raise FeedError(f"{url}: no such file", status=404) from None
        except IsADirectoryError:
            raise FeedError(f"{url}: is a directory, not a feed file") from None
        except OSError as e:
            raise FeedError(f"{url}: cannot read file: {e.strerror or e}") from None
        ctype = None
        suffix = path.suffix.lower()
        if suffix == ".json":
            ctype = "application/feed+json"
        elif suffix in {".html", ".htm"}:
            ctype = "text/html"
        return FetchResponse(status=200, body=body, content_type=ctype, etag=None, last_modified=None,
                             final_url=url)

    def _fetch_once(self, url: str, *, etag: str | None, last_modified: str | None,
                    accept: str) -> FetchResponse:
        cfg = self.config
        current = url
        permanent = True
        redirected = False
        deadline = time.monotonic() + cfg.timeout
        for _hop in range(_MAX_REDIRECTS + 1):
            if self.guard_private:
                check_url_allowed(current, allow_private=cfg.allow_private)
            headers = {"Accept": accept}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            try:
                with self.client.stream("GET", current, headers=headers) as resp:
                    status = resp.status_code
                    if status in _REDIRECTS:
                        loc = resp.headers.get("location")
                        if not loc:
                            raise FeedError(f"{url}: HTTP {status} redirect without a Location header",
                                            status=status)
                        permanent = permanent and status in _PERMANENT
                        redirected = True
                        nxt = urljoin(current, loc)
                        if urlsplit(nxt).scheme.lower() not in {"http", "https"}:
                            raise FeedError(f"{url}: redirect to unsupported URL {nxt}", status=status)
                        current = nxt
                        continue
                    if status == 304:
                        return FetchResponse(
                            status=304, body=b"", content_type=resp.headers.get("content-type"),
                            etag=resp.headers.get("etag") or etag,
                            last_modified=resp.headers.get("last-modified") or last_modified,
                            final_url=current, permanent_redirect=redirected and permanent, not_modified=True,
                        )
                    if status in (429, 503) or 500 <= status < 600:
                        ra = parse_retry_after(resp.headers.get("retry-after"))
                        raise _Retryable(status, f"HTTP {status} {_REASONS.get(status, '')}".strip(), ra)
                    if status >= 400:
                        reason = _REASONS.get(status) or resp.reason_phrase or ""
                        raise FeedError(f"{url}: HTTP {status} {reason}".rstrip(), status=status)
                    body = self._read_body(url, resp, deadline)
                    return FetchResponse(
                        status=status, body=body, content_type=resp.headers.get("content-type"),
                        etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"),
                        final_url=current, permanent_redirect=redirected and permanent,
                    )
            except (FeedError, _Retryable):
                raise
            except httpx.TimeoutException:
                raise FeedError(f"{url}: timed out after {cfg.timeout:g}s") from None
            except httpx.TooManyRedirects:
                raise FeedError(f"{url}: too many redirects") from None
            except httpx.DecodingError as e:
                raise FeedError(f"{url}: cannot decode the compressed response: {e}") from None
            except httpx.ConnectError as e:
                raise _Retryable(None, f"cannot connect: {_short(e)}", None) from None
            except httpx.HTTPError as e:
                raise FeedError(f"{url}: {type(e).__name__}: {_short(e)}") from None
        raise FeedError(f"{url}: more than {_MAX_REDIRECTS} redirects")

    def _read_body(self, url: str, resp: httpx.Response, deadline: float) -> bytes:
        cap = self.config.max_bytes
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap and "content-encoding" not in resp.headers:
            raise FeedError(f"{url}: response larger than {cap} bytes")
        chunks: list[bytes] = []
        total = 0
        for chunk in resp.iter_bytes():
            total += len(chunk)
            if total > cap:
                raise FeedError(f"{url}: response larger than {cap} bytes")
            if time.monotonic() > deadline:
                raise FeedError(f"{url}: timed out after {self.config.timeout:g}s")
            chunks.append(chunk)
        return b"".join(chunks)


class _Retryable(Exception):
    def __init__(self, status: int | None, message: str, retry_after: float | None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def _short(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]


def fetch_bytes(url: str, config: FetchConfig | None = None, *, guard_private: bool = False) -> FetchResponse:
    """One-off fetch with a temporary :class:`Fetcher`."""
    with Fetcher(config, guard_private=guard_private) as f:
        return f.fetch(url)
