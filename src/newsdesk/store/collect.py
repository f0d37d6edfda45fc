"""Queries the collect stage needs beyond the ``Store`` protocol (SQLite backend)."""

from __future__ import annotations

from newsdesk.store.sqlite import SQLiteStore


def known_guids(store: SQLiteStore, feed_id: int) -> set[str]:
    """All item guids already stored for a feed (used to pick new entries for full-text fetching)."""
    return {r["guid"] for r in store.query("SELECT guid FROM items WHERE feed_id = ?", (feed_id,))}
