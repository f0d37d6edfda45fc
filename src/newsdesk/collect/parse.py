"""Feed parsing: bytes from ``fetch.py`` -> cleaned :class:`ItemRecord` entries.

Pipeline position: ``run.py`` fetches a feed, calls :func:`parse_feed`, and
hands the records to the store. RSS 0.9x/1.0/2.0 and Atom go through
feedparser (lenient, like Miniflux: a feed with syntax errors but readable
entries is kept); JSON Feed 1.0/1.1 is parsed with :mod:`json`. Every text
field goes through :mod:`newsdesk.collect.clean`.

Character sets are decided here, not by feedparser: BOM, then valid UTF-8,
then the encoding declared in the HTTP header or the XML declaration, then
charset-normalizer. A body that is valid UTF-8 is read as UTF-8 even when the
server claims ISO-8859-1, which is the usual cause of mojibake.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin

import feedparser
from charset_normalizer import from_bytes

from newsdesk.collect.clean import canonical_url, content_hash, fix_text, html_to_text, html_to_text_and_sanitize
from newsdesk.errors import FeedError
from newsdesk.models import ItemRecord


@dataclass
class ParsedFeed:
    title: str | None
    site_url: str | None
    entries: list[ItemRecord] = field(default_factory=list)
    format: str = ""  # rss20, atom10, json11, ... (feedparser's version names)


# --------------------------------------------------------------------------- charset

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_XML_DECL_ENC = re.compile(r"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._:-]+)([\"'])", re.I)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
]


def _norm_encoding(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a feed body to text. Returns ``(text, encoding_used)``."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(enc, errors="replace"), enc
    head = body[:4]  # BOM-less UTF-32/16 (XML spec, appendix F): "<" as a wide character
    if head in (b"<\x00\x00\x00", b"\x00\x00\x00<"):
        enc = "utf-32-le" if head[0:1] == b"<" else "utf-32-be"
        return body.decode(enc, errors="replace"), enc
    if head[:2] in (b"<\x00", b"\x00<"):
        enc = "utf-16-le" if head[0:1] == b"<" else "utf-16-be"
        return body.decode(enc, errors="replace"), enc
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared: list[str] = []
    if content_type:
        m = _CHARSET.search(content_type)
        if m:
            declared.append(m.group(1))
    m = _XML_DECL.search(body[:512])
    if m:
        declared.append(m.group(1).decode("ascii", "replace"))
    guess = from_bytes(body[:200_000]).best()
    guessed = _norm_encoding(guess.encoding) if guess is not None else None
    for name in declared:
        enc = _norm_encoding(name)
        if not enc or enc == "utf-8":
            continue  # utf-8 already failed strictly
        # Single-byte "latin-1" decodes anything; trust charset-normalizer over a
        # declaration of it, and map latin-1 to its cp1252 superset (smart quotes).
        if enc in {"latin-1", "iso8859-1"}:
            enc = guessed if guessed and guessed != "utf-8" else "cp1252"
        try:
            return body.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    if guessed:
        try:
            return body.decode(guessed), guessed
        except (UnicodeDecodeError, LookupError):
            pass
    return body.decode("cp1252", errors="replace"), "cp1252"


# --------------------------------------------------------------------------- helpers

def _dt_from_struct(t: time.struct_time | None) -> datetime | None:
    if not t:
        return None
    try:
        return datetime(*t[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def _dt_from_iso(text: Any) -> datetime | None:
    if not text or not isinstance(text, str):
        return None
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        t = feedparser._parse_date(text)  # RFC 822 and friends
        return _dt_from_struct(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _clean_title(raw: str | None) -> str:
    if not raw:
        return ""
    if "<" in raw or "&lt;" in raw:
        return html_to_text(raw).replace("\n", " ").strip()
    return " ".join(fix_text(raw).split())


def _looks_like_html(text: str) -> bool:
    return bool(re.search(r"</?[a-zA-Z][a-zA-Z0-9]*[\s/>]", text)) or "&lt;" in text or "&#" in text


#: Dates further in the future than this are treated as wrong and dropped.
FUTURE_SLACK = timedelta(days=1)


def build_record(*, guid: str | None, title: str | None, link: str | None, author: str | None,
                 published: datetime | None, html: str | None, text: str | None,
                 base_url: str) -> ItemRecord:
    """Clean one entry and apply the guid fallback chain (id -> canonical link -> hash of title+date)."""
    link = urljoin(base_url, link.strip()) if link and link.strip() else None
    if published is not None and published > datetime.now(timezone.utc) + FUTURE_SLACK:
        published = None  # a clock or time-zone error; first-seen time stands in (like Miniflux)
    raw_html = html if html and html.strip() else None
    if raw_html is None and text and _looks_like_html(text):
        raw_html = text
        text = None
    if raw_html is not None:
        body_text, content_html = html_to_text_and_sanitize(raw_html, base_url=link or base_url)
    else:
        body_text = html_to_text(text or "")  # plain text: entities, mojibake, whitespace
        content_html = "".join(f"<p>{_esc(p)}</p>" for p in body_text.split("\n\n") if p)
    clean_title = _clean_title(title)
    if not clean_title:
        first = body_text.split("\n", 1)[0]
        clean_title = (first[:100].rsplit(" ", 1)[0] + "…") if len(first) > 100 else first
    canon = canonical_url(link) if link else None
    guid = (guid or "").strip() or canon or ""
    if not guid:
        basis = f"{clean_title}\n{published.isoformat() if published else ''}\n{body_text[:200]}"
        guid = "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()
    return ItemRecord(
        guid=guid[:2000],
        title=clean_title or "(untitled)",
        url=link,
        canonical_url=canon or None,
        author=" ".join(fix_text(author).split()) or None if author else None,
        published=published,
        raw_html=raw_html,
        content_html=content_html or None,
        text=body_text,
        content_hash=content_hash(clean_title, body_text),
    )


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")


# --------------------------------------------------------------------------- JSON Feed

def _is_json(body: bytes, content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    if "json" in ct:
        return True
    head = body.lstrip()[:1]
    return head == b"{"


def _parse_json_feed(text: str, url: str) -> ParsedFeed:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise FeedError(f"{url}: not a valid feed: invalid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedError(f"{url}: not a valid feed: JSON without an 'items' list")
    version = str(data.get("version", ""))
    fmt = "json11" if version.endswith("/1.1") else "json10" if version.endswith("/1") else "json"
    site = data.get("home_page_url") if isinstance(data.get("home_page_url"), str) else None
    entries = []
    for raw in data["items"]:
        if not isinstance(raw, dict):
            continue
        authors = raw.get("authors") or ([raw["author"]] if isinstance(raw.get("author"), dict) else [])
        names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
        link = raw.get("url") or raw.get("external_url")
        html = raw.get("content_html") if isinstance(raw.get("content_html"), str) else None
        txt = raw.get("content_text") if isinstance(raw.get("content_text"), str) else None
        if not html and not txt:
            summary = raw.get("summary")
            txt = summary if isinstance(summary, str) else None
        published = _dt_from_iso(raw.get("date_published")) or _dt_from_iso(raw.get("date_modified"))
        rid = raw.get("id")
        entries.append(build_record(
            guid=str(rid) if rid not in (None, "") else None,
            title=raw.get("title") if isinstance(raw.get("title"), str) else None,
            link=link if isinstance(link, str) else None,
            author=", ".join(names) or None,
            published=published,
            html=html, text=txt, base_url=url,
        ))
    title = data.get("title") if isinstance(data.get("title"), str) else None
    return ParsedFeed(title=_clean_title(title) or None, site_url=site, entries=entries, format=fmt)


# --------------------------------------------------------------------------- RSS / Atom

def _entry_html(e: Any) -> tuple[str | None, str | None]:
    """(html, text) for an entry: prefer full content (content:encoded, atom:content) over the summary."""
    contents = e.get("content") or []
    best = None
    for c in contents:
        if (c.get("type") or "").endswith("html") or best is None:
            best = c
            if (c.get("type") or "").endswith("html"):
                break
    if best is not None and (best.get("value") or "").strip():
        value = best["value"]
        return (value, None) if (best.get("type") or "text/html").endswith("html") else (None, value)
    summary = e.get("summary")
    if summary:
        detail = e.get("summary_detail") or {}
        if (detail.get("type") or "text/html").endswith("html"):
            return summary, None
        return None, summary
    return None, None


def _record_from_entry(e: Any, url: str, site: str | None) -> ItemRecord | None:
    html, txt = _entry_html(e)
    published = (
        _dt_from_struct(e.get("published_parsed"))
        or _dt_from_struct(e.get("updated_parsed"))
        or _dt_from_struct(e.get("created_parsed"))
    )
    link = e.get("link")
    if not link:
        for lk in e.get("links") or []:
            if lk.get("href") and lk.get("rel", "alternate") == "alternate":
                link = lk["href"]
                break
    if not (e.get("title") or link or html or txt):
        return None  # an empty shell left by a truncated document
    return build_record(
        guid=e.get("id") or e.get("guid"),
        title=e.get("title"),
        link=link,
        author=e.get("author"),
        published=published,
        html=html, text=txt, base_url=site if site and site.startswith("http") else url,
    )


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS, Atom or JSON Feed bytes into cleaned records.

    Raises :class:`FeedError` ``"<url>: not a valid feed: <reason>"`` when the
    body is not a feed, or is so broken that no entry could be read.
    """
    if not body or not body.strip():
        raise FeedError(f"{url}: not a valid feed: empty response")
    text, _enc = decode_body(body, content_type)
    if _is_json(body, content_type) and text.lstrip().startswith("{"):
        return _parse_json_feed(text, url)
    # Hand feedparser UTF-8 and say so, so it does not second-guess our decoding.
    text = _XML_DECL_ENC.sub(lambda m: m.group(1) + "utf-8" + m.group(3), text, count=1)
    d = feedparser.parse(
        text.encode("utf-8"),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = [r for r in (_record_from_entry(e, url, d.feed.get("link")) for e in d.entries) if r is not None]
    if not entries:
        if d.bozo:
            reason = str(d.get("bozo_exception") or "unparsable").splitlines()[0]
            m = re.match(r"<unknown>:(\d+):(\d+): (.*)", reason)
            if m:  # expat's location format -> something a person can act on
                reason = f"XML error at line {m.group(1)}, column {m.group(2)}: {m.group(3)}"
            if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
                reason = "got an HTML page, not a feed"
            raise FeedError(f"{url}: not a valid feed: {reason}")
        if not d.get("version"):
            raise FeedError(f"{url}: not a valid feed: no RSS, Atom or JSON Feed document found")
    feed = d.feed
    site = feed.get("link")
    return ParsedFeed(
        title=_clean_title(feed.get("title")) or None,
        site_url=site,
        entries=entries,
        format=d.get("version") or "",
    )
