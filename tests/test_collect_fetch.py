"""fetch.py against a real HTTP server on 127.0.0.1: statuses, redirects, retries, caps, encodings."""

from __future__ import annotations

import gzip
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import brotli
import pytest

from collect_helpers import FeedServer, Reply, rss20
from newsdesk import USER_AGENT
from newsdesk.collect.fetch import Fetcher, check_url_allowed, fetch_bytes, parse_retry_after
from newsdesk.collect.parse import parse_feed
from newsdesk.config import FetchConfig
from newsdesk.errors import FeedError

FEED = rss20()


def cfg(**kw) -> FetchConfig:  # type: ignore[no-untyped-def]
    base = dict(timeout=0.5, max_retries=2, backoff_base=0.01, max_retry_after=2.0, max_bytes=64 * 1024)
    base.update(kw)
    return FetchConfig(**base)


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with FeedServer() as s:
        yield s


@pytest.fixture
def fetcher():  # type: ignore[no-untyped-def]
    sleeps: list[float] = []
    f = Fetcher(cfg(), sleep=lambda s: (sleeps.append(s), time.sleep(min(s, 0.05))))
    f.sleeps = sleeps  # type: ignore[attr-defined]
    yield f
    f.close()


def test_200_sends_user_agent_and_validators(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.route("/feed", Reply(200, FEED, {"Content-Type": "application/rss+xml", "ETag": '"v1"',
                                                  "Last-Modified": "Mon, 13 Oct 2025 10:00:00 GMT"}))
    r = fetcher.fetch(url)
    assert r.status == 200 and r.body == FEED and not r.not_modified and not r.permanent_redirect
    assert r.etag == '"v1"' and r.last_modified == "Mon, 13 Oct 2025 10:00:00 GMT"
    assert r.final_url == url
    assert server.hits("/feed")[0].headers["user-agent"] == USER_AGENT


def test_304_conditional_get(server: FeedServer, fetcher: Fetcher) -> None:
    def route(req):  # type: ignore[no-untyped-def]
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(200, FEED, {"ETag": '"v1"'})

    url = server.route("/cond", route)
    first = fetcher.fetch(url)
    second = fetcher.fetch(url, etag=first.etag, last_modified="Mon, 13 Oct 2025 10:00:00 GMT")
    assert second.not_modified and second.status == 304 and second.body == b""
    h = server.hits("/cond")[1].headers
    assert h["if-none-match"] == '"v1"'
    assert h["if-modified-since"] == "Mon, 13 Oct 2025 10:00:00 GMT"


@pytest.mark.parametrize("code, permanent", [(301, True), (308, True), (302, False), (307, False)])
def test_redirects(server: FeedServer, fetcher: Fetcher, code: int, permanent: bool) -> None:
    new = server.route("/new", Reply(200, FEED))
    old = server.route("/old", Reply(code, b"", {"Location": "/new"}))
    r = fetcher.fetch(old)
    assert r.final_url == new and r.body == FEED
    assert r.permanent_redirect is permanent


def test_permanent_then_temporary_is_not_permanent(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/c", Reply(200, FEED))
    server.route("/b", Reply(302, b"", {"Location": "/c"}))
    a = server.route("/a", Reply(301, b"", {"Location": "/b"}))
    assert fetcher.fetch(a).permanent_redirect is False


def test_redirect_loop(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.route("/loop", Reply(302, b"", {"Location": "/loop"}))
    with pytest.raises(FeedError, match="redirects"):
        fetcher.fetch(url)


@pytest.mark.parametrize("code, text", [(404, "HTTP 404 Not Found"), (410, "HTTP 410 Gone"), (403, "HTTP 403")])
def test_client_errors(server: FeedServer, fetcher: Fetcher, code: int, text: str) -> None:
    url = server.route("/e", Reply(code, b"nope"))
    with pytest.raises(FeedError) as ei:
        fetcher.fetch(url)
    assert str(ei.value).startswith(url + ": ") and text in str(ei.value)
    assert ei.value.status == code
    assert len(server.hits("/e")) == 1  # client errors are not retried


def test_429_retry_after_seconds_is_honoured(server: FeedServer, fetcher: Fetcher) -> None:
    def route(req):  # type: ignore[no-untyped-def]
        return Reply(429, b"slow down", {"Retry-After": "1"}) if req.count == 1 else Reply(200, FEED)

    url = server.route("/limited", route)
    r = fetcher.fetch(url)
    assert r.status == 200 and r.body == FEED
    assert fetcher.sleeps == [1.0]  # type: ignore[attr-defined]


def test_503_retry_after_http_date(server: FeedServer, fetcher: Fetcher) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=1), usegmt=True)

    def route(req):  # type: ignore[no-untyped-def]
        return Reply(503, b"", {"Retry-After": when}) if req.count == 1 else Reply(200, FEED)

    url = server.route("/maint", route)
    assert fetcher.fetch(url).status == 200
    assert 0 <= fetcher.sleeps[0] <= 2  # type: ignore[attr-defined]


def test_retry_after_beyond_cap_fails_without_sleeping(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.route("/later", Reply(429, b"", {"Retry-After": "3600"}))
    with pytest.raises(FeedError) as ei:
        fetcher.fetch(url)
    assert ei.value.status == 429 and ei.value.retry_after == 3600
    assert "max_retry_after" in str(ei.value) and str(ei.value).startswith(url)
    assert fetcher.sleeps == []  # type: ignore[attr-defined]
    assert len(server.hits("/later")) == 1


def test_500_retried_with_backoff_then_fails(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.route("/boom", Reply(500, b"oops"))
    with pytest.raises(FeedError) as ei:
        fetcher.fetch(url)
    assert ei.value.status == 500 and "HTTP 500" in str(ei.value)
    assert len(server.hits("/boom")) == 3  # 1 + max_retries
    assert fetcher.sleeps == [0.01, 0.02]  # type: ignore[attr-defined]


def test_500_then_recovers(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.route("/flaky", lambda req: Reply(502) if req.count < 3 else Reply(200, FEED))
    assert fetcher.fetch(url).body == FEED


def test_slow_response_times_out(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.route("/slow", Reply(200, FEED, delay=2.0))
    t0 = time.monotonic()
    with pytest.raises(FeedError, match=r"timed out after 0.5s") as ei:
        fetcher.fetch(url)
    assert str(ei.value).startswith(url)
    assert time.monotonic() - t0 < 1.8


def test_stalled_body_times_out(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.route("/stall", Reply(200, FEED, stall=2.0))
    with pytest.raises(FeedError, match="timed out"):
        fetcher.fetch(url)


def test_oversized_body(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.route("/big", Reply(200, b"x" * 200_000))
    with pytest.raises(FeedError, match=r"response larger than 65536 bytes"):
        fetcher.fetch(url)


def test_oversized_after_decompression(server: FeedServer, fetcher: Fetcher) -> None:
    bomb = gzip.compress(b"<" * 2_000_000)
    assert len(bomb) < 65536
    url = server.route("/bomb", Reply(200, bomb, {"Content-Encoding": "gzip"}))
    with pytest.raises(FeedError, match="larger than"):
        fetcher.fetch(url)


@pytest.mark.parametrize("encoding, compress", [("gzip", gzip.compress), ("br", brotli.compress)])
def test_compressed_bodies(server: FeedServer, fetcher: Fetcher, encoding: str, compress) -> None:  # type: ignore[no-untyped-def]
    url = server.route(f"/{encoding}", Reply(200, compress(FEED), {"Content-Encoding": encoding}))
    r = fetcher.fetch(url)
    assert r.body == FEED
    assert encoding in server.hits(f"/{encoding}")[0].headers["accept-encoding"]


def test_wrong_charset_header_over_http(server: FeedServer, fetcher: Fetcher) -> None:
    body = rss20(title="Caf\u00e9 \u2014 Weekly")  # UTF-8 bytes
    url = server.route("/charset", Reply(200, body, {"Content-Type": "application/rss+xml; charset=iso-8859-1"}))
    r = fetcher.fetch(url)
    assert parse_feed(r.body, url, r.content_type).title == "Caf\u00e9 \u2014 Weekly"


def test_connection_refused_names_url() -> None:
    f = Fetcher(cfg(max_retries=0))
    with pytest.raises(FeedError) as ei:
        f.fetch("http://127.0.0.1:9/feed")
    assert str(ei.value).startswith("http://127.0.0.1:9/feed: cannot connect")
    f.close()


def test_local_files(tmp_path: Path, fetcher: Fetcher) -> None:
    p = tmp_path / "feed.xml"
    p.write_bytes(FEED)
    assert fetcher.fetch(p.as_uri()).body == FEED
    assert fetcher.fetch(str(p)).body == FEED
    with pytest.raises(FeedError, match="no such file"):
        fetcher.fetch((tmp_path / "missing.xml").as_uri())
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 70_000)
    with pytest.raises(FeedError, match="larger than"):
        fetcher.fetch(str(big))
    assert fetch_bytes(p.as_uri()).body == FEED


def test_unsupported_scheme(fetcher: Fetcher) -> None:
    with pytest.raises(FeedError, match="unsupported URL scheme"):
        fetcher.fetch("ftp://example.com/feed")


def test_parse_retry_after() -> None:
    now = datetime(2025, 10, 13, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Mon, 13 Oct 2025 12:01:00 GMT", now) == 60
    assert parse_retry_after("Mon, 13 Oct 2025 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x", "http://localhost:8080/", "http://10.1.2.3/", "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
])
def test_ssrf_guard_blocks_private(url: str) -> None:
    with pytest.raises(FeedError) as ei:
        check_url_allowed(url, allow_private=False)
    assert str(ei.value).startswith(url)
    check_url_allowed(url, allow_private=True)  # explicitly allowed: no error


def test_ssrf_guard_schemes_and_public_ip() -> None:
    for bad in ("file:///etc/passwd", "ftp://1.1.1.1/", "gopher://x/"):
        with pytest.raises(FeedError, match="only http and https"):
            check_url_allowed(bad, allow_private=True)
    check_url_allowed("https://93.184.216.34/feed", allow_private=False)  # public literal: no DNS needed


def test_fetcher_guard_applies_to_redirect_hops(server: FeedServer) -> None:
    url = server.route("/guarded", Reply(200, FEED))
    f = Fetcher(cfg(), guard_private=True)
    with pytest.raises(FeedError, match="private or local"):
        f.fetch(url)
    f.close()
