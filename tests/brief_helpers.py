"""Fixtures for the briefing tests: a store with hand-written feeds and items.

Items are written straight through ``SQLiteStore.upsert_items`` (the collect
stage is exercised separately in the demo-feed tests), with text cleaned the
way collect cleans it so the briefing sees what it sees in production.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from newsdesk.config import Config, parse_config
from newsdesk.models import ItemRecord, iso
from newsdesk.store import SQLiteStore

NOW = datetime(2026, 11, 21, 11, 30, tzinfo=timezone.utc)  # 06:30 in Toronto


def q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_config(sections: list[tuple[str, str, list[tuple[str, str]]]], **briefing: Any) -> Config:
    """``sections`` = [(name, emoji, [(feed title, url), ...]), ...]."""
    lines = ["[briefing]", 'timezone = "America/Toronto"', 'lookback = "24h"']
    for k, v in briefing.items():
        if isinstance(v, str):
            lines.append(f"{k} = {q(v)}")
        elif isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}")
        elif isinstance(v, list):
            lines.append(f"{k} = [{', '.join(q(x) for x in v)}]")
        else:
            lines.append(f"{k} = {v}")
    lines += ["", "[weather]", 'section = "Weather"', 'location = "Pembroke, Ontario"', ""]
    for order, (name, emoji, _) in enumerate(sections, 1):
        lines += ["[[sections]]", f"name = {q(name)}", f"emoji = {q(emoji)}", f"order = {order}", ""]
    for name, _, feeds in sections:
        for title, url in feeds:
            lines += ["[[feeds]]", f"url = {q(url)}", f"section = {q(name)}", f"title = {q(title)}", ""]
    return parse_config("\n".join(lines))


def open_store(tmp_path: Path, config: Config) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "brief.db")
    for f in config.feeds:
        store.upsert_feed(f.url, title=f.title, section=f.section)
    return store


def mark_feed(store: SQLiteStore, url: str, *, ok: bool = True, error: str | None = None,
              status: int | None = None, when: datetime = NOW) -> None:
    feed = store.get_feed_by_url(url)
    assert feed is not None, url
    if ok:
        store.update_feed_state(feed.id, last_status=200, last_error=None, last_fetched_at=iso(when),
                                last_ok_at=iso(when), consecutive_failures=0)
    else:
        store.update_feed_state(feed.id, last_status=status, last_error=error or "fetch failed",
                                last_fetched_at=iso(when), consecutive_failures=feed.consecutive_failures + 1)


def mark_all_ok(store: SQLiteStore, config: Config) -> None:
    for f in config.feeds:
        mark_feed(store, f.url)


def add_item(store: SQLiteStore, feed_url: str, guid: str, title: str, text: str = "", *,
             published: datetime | None = None, url: str | None = None,
             flags: list[str] | None = None) -> int:
    feed = store.get_feed_by_url(feed_url)
    assert feed is not None, feed_url
    rec = ItemRecord(
        guid=guid, title=title, url=url, canonical_url=url, published=published or NOW - timedelta(hours=3),
        text=text, content_hash=hashlib.sha256(f"{title}\n{text}".encode()).hexdigest(), flags=list(flags or []),
    )
    store.upsert_items(feed.id, [rec])
    row = store.query("SELECT id FROM items WHERE feed_id = ? AND guid = ?", (feed.id, guid))
    return int(row[0]["id"])


def all_text_fields(obj: Any) -> list[str]:
    """Every string inside a JSON-like structure."""
    out: list[str] = []
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            out.extend(all_text_fields(v))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(all_text_fields(v))
    return out
