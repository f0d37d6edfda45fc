"""Plain data records passed between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime | None) -> str | None:
    """Canonical timestamp text stored in SQLite: UTC, second precision, ``Z``."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Feed:
    id: int
    url: str
    title: str | None
    section: str | None
    enabled: bool
    fulltext: bool
    site_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_fetched_at: str | None = None
    last_ok_at: str | None = None
    consecutive_failures: int = 0
    next_fetch_at: str | None = None
    disabled_reason: str | None = None
    created_at: str | None = None

    @property
    def name(self) -> str:
        return self.title or self.url


@dataclass
class ItemRecord:
    """An entry as produced by collect (parse + clean), before it is stored."""

    guid: str
    title: str
    url: str | None = None
    canonical_url: str | None = None
    author: str | None = None
    published: datetime | None = None
    raw_html: str | None = None
    content_html: str | None = None
    text: str = ""
    content_hash: str = ""
    flags: list[str] = field(default_factory=list)


@dataclass
class Item:
    """A stored item."""

    id: int
    feed_id: int
    guid: str
    url: str | None
    canonical_url: str | None
    title: str
    author: str | None
    published: str | None
    raw_html: str | None
    content_html: str | None
    text: str
    content_hash: str
    flags: list[str]
    first_seen: str
    updated_at: str
    feed_title: str | None = None
    feed_url: str | None = None
    section: str | None = None

    def to_dict(self, *, with_html: bool = False) -> dict:
        d = {
            "id": self.id,
            "feed_id": self.feed_id,
            "feed": self.feed_title or self.feed_url,
            "section": self.section,
            "guid": self.guid,
            "url": self.url,
            "canonical_url": self.canonical_url,
            "title": self.title,
            "author": self.author,
            "published": self.published,
            "text": self.text,
            "content_hash": self.content_hash,
            "flags": self.flags,
            "first_seen": self.first_seen,
            "updated_at": self.updated_at,
        }
        if with_html:
            d["content_html"] = self.content_html
        return d
