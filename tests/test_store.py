"""The SQLite store: WAL, migrations recorded, item identity rules."""

from __future__ import annotations

from pathlib import Path

from newsdesk.models import ItemRecord
from newsdesk.store import open_store
from newsdesk.store.sqlite import migrations


def _rec(guid: str, url: str, text: str, h: str) -> ItemRecord:
    return ItemRecord(guid=guid, title=f"title {guid}", url=url, canonical_url=url, text=text, content_hash=h)


def test_wal_and_latest_schema(tmp_path: Path) -> None:
    s = open_store(tmp_path / "n.db")
    assert s.query("PRAGMA journal_mode")[0][0] == "wal"
    assert s.schema_version() == max(v for v, _, _ in migrations())
    s.close()


def test_entries_sharing_a_page_url_stay_separate(tmp_path: Path) -> None:
    s = open_store(tmp_path / "n.db")
    f = s.upsert_feed("file:///w.xml", section="Weather")
    page = "https://weather.example/city/x"
    counts = s.upsert_items(f.id, [_rec("mon", page, "Sunny", "a"), _rec("tue", page, "Rain", "b")])
    assert counts["new"] == 2
    assert s.count_items() == 2
    s.close()


def test_new_guid_for_the_same_page_updates_in_place(tmp_path: Path) -> None:
    s = open_store(tmp_path / "n.db")
    f = s.upsert_feed("file:///n.xml", section="Science")
    url = "https://news.example/a"
    s.upsert_items(f.id, [_rec("g1", url, "first text", "h1")])
    first = s.list_items()[0]
    counts = s.upsert_items(f.id, [_rec("g2", url, "second text", "h2")])
    assert counts == {"new": 0, "updated": 1, "unchanged": 0}
    items = s.list_items()
    assert len(items) == 1 and items[0].id == first.id and items[0].text == "second text"
    s.close()


def test_rollback_leaves_nothing(tmp_path: Path) -> None:
    s = open_store(tmp_path / "n.db")
    f = s.upsert_feed("file:///n.xml", section="Science")
    try:
        with s.transaction():
            s.upsert_items(f.id, [_rec("g1", "https://x.example/1", "t", "h")])
            raise RuntimeError("crash mid-write")
    except RuntimeError:
        pass
    assert s.count_items() == 0
    s.close()
