"""Feed autodiscovery: from a web page to its feed URL(s).

Pipeline position: ``newsdesk feeds add https://site/`` (and the web app's
"add feed" form) call :func:`discover_feed`. When the URL already is a feed
it is returned as is; when it is an HTML page, the
``<link rel="alternate" type="application/rss+xml|atom+xml|feed+json">``
elements are read with selectolax and absolutised.
"""

from __future__ import annotations

from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from newsdesk.collect.fetch import Fetcher, FetchResponse
from newsdesk.collect.parse import decode_body, parse_feed
from newsdesk.errors import FeedError

FEED_TYPES = (
    "application/rss+xml", "application/atom+xml", "application/feed+json", "application/json",
    "application/rdf+xml", "application/xml", "text/xml",
)


def find_feed_links(html: str, base_url: str) -> list[str]:
    """Absolute feed URLs advertised by ``<link rel="alternate">`` in an HTML page, in page order."""
    tree = LexborHTMLParser(html)
    base = base_url
    base_el = tree.css_first("base[href]")
    if base_el is not None and base_el.attributes.get("href"):
        base = urljoin(base_url, base_el.attributes["href"] or "")
    out: list[str] = []
    for link in tree.css("link[rel][href]"):
        rels = (link.attributes.get("rel") or "").lower().split()
        typ = (link.attributes.get("type") or "").lower().split(";")[0].strip()
        if "alternate" not in rels or typ not in FEED_TYPES:
            continue
        if typ == "application/json" and "feed" not in (link.attributes.get("title") or "").lower():
            continue
        href = urljoin(base, (link.attributes.get("href") or "").strip())
        if href and href not in out:
            out.append(href)
    return out


def _looks_like_html(resp: FetchResponse) -> bool:
    ct = (resp.content_type or "").lower()
    if "html" in ct:
        return True
    head = resp.body.lstrip()[:200].lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


def discover_feed(url: str, fetcher: Fetcher | None = None, html: str | None = None) -> list[str]:
    """Feed URL(s) for ``url``: ``[url]`` if it is a feed, else the page's advertised feeds.

    ``html`` may be given to skip the fetch (the page is then only scanned).
    Without a ``fetcher`` a default one is used for this call (no SSRF guard:
    the web app passes ``Fetcher(guard_private=True)``). Raises
    :class:`FeedError` naming the URL when nothing is found.
    """
    if html is not None:
        links = find_feed_links(html, url)
        if not links:
            raise FeedError(f"{url}: no feed advertised on this page")
        return links
    if fetcher is None:
        with Fetcher() as own:
            return discover_feed(url, own)
    resp = fetcher.fetch(url)
    if _looks_like_html(resp):
        page, _ = decode_body(resp.body, resp.content_type)
        links = find_feed_links(page, resp.final_url)
        if not links:
            raise FeedError(f"{url}: is a web page that advertises no feed (no <link rel=\"alternate\">)")
        return links
    parse_feed(resp.body, url, resp.content_type)  # raises a clear FeedError if it is not a feed
    return [resp.final_url if resp.permanent_redirect else url]
