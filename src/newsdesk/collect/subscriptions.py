"""Feed subscriptions: the config file is the source of truth; the database mirrors it."""

from __future__ import annotations

from newsdesk.config import Config
from newsdesk.store import SQLiteStore


def sync_feeds(config: Config, store: SQLiteStore) -> None:
    """Upsert every configured feed into the database (placeholder: extended by the collect module)."""
    for f in config.feeds:
        store.upsert_feed(f.url, title=f.title, section=f.section, enabled=f.enabled, fulltext=f.fulltext)
