"""SQLite backend: WAL mode, forward-only migrations, writes in transactions.

Migrations are the numbered ``migrations/NNNN_name.sql`` files shipped in the
package. ``PRAGMA user_version`` records the last one applied; each file is
applied inside its own transaction, so a crash leaves the previous version.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from newsdesk.models import Feed, Item, ItemRecord, iso, utcnow
from newsdesk.store.base import UpsertResult

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """All shipped migrations as ``(version, name, sql)``, in order."""
    out = []
    for entry in resources.files("newsdesk.store").joinpath("migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            out.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    out.sort()
    versions = [v for v, _, _ in out]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return out


_FEED_COLS = (
    "id, url, title, section, enabled, fulltext, site_url, etag, last_modified, last_status, "
    "last_error, last_fetched_at, last_ok_at, consecutive_failures, next_fetch_at, "
    "disabled_reason, created_at"
)
_ITEM_COLS = (
    "i.id, i.feed_id, i.guid, i.url, i.canonical_url, i.title, i.author, i.published, i.raw_html, "
    "i.content_html, i.text, i.content_hash, i.flags, i.first_seen, i.updated_at, "
    "f.title AS feed_title, f.url AS feed_url, f.section AS section"
)
_FEED_STATE_FIELDS = {
    "url", "title", "section", "enabled", "fulltext", "site_url", "etag", "last_modified",
    "last_status", "last_error", "last_fetched_at", "last_ok_at", "consecutive_failures",
    "next_fetch_at", "disabled_reason",
}


def _feed(row: sqlite3.Row) -> Feed:
    d = dict(row)
    d["enabled"] = bool(d["enabled"])
    d["fulltext"] = bool(d["fulltext"])
    return Feed(**d)


def _item(row: sqlite3.Row) -> Item:
    d = dict(row)
    d["flags"] = json.loads(d["flags"] or "[]")
    return Item(**d)


class SQLiteStore:
    """The default store. One connection; safe to share across threads (serialised by a lock)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.migrate()

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "SQLiteStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        with self._lock:
            return self.conn.execute(sql, params)

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self, target: int | None = None) -> int:
        """Apply pending migrations up to ``target`` (default: all). Returns the new version."""
        current = self.schema_version()
        for version, name, sql in migrations():
            if version <= current or (target is not None and version > target):
                continue
            with self._lock:
                # executescript would COMMIT implicitly; run statements inside our own transaction.
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for stmt in _split_sql(sql):
                        self.conn.execute(stmt)
                    self.conn.execute(f"PRAGMA user_version = {version}")
                except BaseException as e:
                    self.conn.execute("ROLLBACK")
                    raise RuntimeError(f"migration {name} failed: {e}") from e
                self.conn.execute("COMMIT")
            current = version
        return current

    # -- feeds -------------------------------------------------------------
    def upsert_feed(self, url: str, *, title: str | None = None, section: str | None = None,
                    enabled: bool = True, fulltext: bool = False) -> Feed:
        with self.transaction() as c:
            row = c.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()
            if row:
                c.execute(
                    "UPDATE feeds SET title = COALESCE(?, title), section = ?, enabled = ?, fulltext = ? WHERE id = ?",
                    (title, section, int(enabled), int(fulltext), row["id"]),
                )
                fid = row["id"]
            else:
                fid = c.execute(
                    "INSERT INTO feeds (url, title, section, enabled, fulltext, created_at) VALUES (?,?,?,?,?,?)",
                    (url, title, section, int(enabled), int(fulltext), iso(utcnow())),
                ).lastrowid
        feed = self.get_feed(fid)
        assert feed is not None
        return feed

    def get_feed(self, feed_id: int) -> Feed | None:
        row = self.query(f"SELECT {_FEED_COLS} FROM feeds WHERE id = ?", (feed_id,))
        return _feed(row[0]) if row else None

    def get_feed_by_url(self, url: str) -> Feed | None:
        row = self.query(f"SELECT {_FEED_COLS} FROM feeds WHERE url = ?", (url,))
        return _feed(row[0]) if row else None

    def list_feeds(self, *, include_disabled: bool = True) -> list[Feed]:
        where = "" if include_disabled else "WHERE enabled = 1 AND disabled_reason IS NULL"
        return [_feed(r) for r in self.query(f"SELECT {_FEED_COLS} FROM feeds {where} ORDER BY section, title, url")]

    def remove_feed(self, url: str) -> bool:
        """Unsubscribe. Items stay (briefings in the archive still cite them); the feed is disabled."""
        with self.transaction() as c:
            cur = c.execute(
                "UPDATE feeds SET enabled = 0, disabled_reason = 'removed' WHERE url = ?", (url,)
            )
            return cur.rowcount > 0

    def update_feed_state(self, feed_id: int, **fields: Any) -> None:
        bad = set(fields) - _FEED_STATE_FIELDS
        if bad:
            raise ValueError(f"unknown feed fields: {sorted(bad)}")
        if not fields:
            return
        cols = ", ".join(f"{k} = ?" for k in fields)
        vals = [int(v) if isinstance(v, bool) else v for v in fields.values()]
        with self.transaction() as c:
            c.execute(f"UPDATE feeds SET {cols} WHERE id = ?", (*vals, feed_id))

    # -- items -------------------------------------------------------------
    def upsert_items(self, feed_id: int, records: list[ItemRecord]) -> dict[UpsertResult, int]:
        """Insert new items, update changed ones in place, in one transaction.

        Identity within a feed is the guid; when a feed changes an entry's guid
        but keeps its canonical URL, the URL matches it instead, so re-fetching
        never duplicates an item.
        """
        counts: dict[UpsertResult, int] = {"new": 0, "updated": 0, "unchanged": 0}
        now = iso(utcnow())
        batch_guids = {r.guid for r in records}
        with self.transaction() as c:
            for r in records:
                row = c.execute(
                    "SELECT id, content_hash FROM items WHERE feed_id = ? AND guid = ?", (feed_id, r.guid)
                ).fetchone()
                if row is None and r.canonical_url:
                    # Same page, new guid: only when the match is unambiguous (one stored row) and that
                    # row's guid is not itself in this batch (feeds such as weather forecasts give several
                    # entries one page URL; those must stay separate items).
                    rows = c.execute(
                        "SELECT id, guid, content_hash FROM items WHERE feed_id = ? AND canonical_url = ? LIMIT 2",
                        (feed_id, r.canonical_url),
                    ).fetchall()
                    if len(rows) == 1 and rows[0]["guid"] not in batch_guids:
                        row = rows[0]
                values = (
                    r.url, r.canonical_url, r.title, r.author, iso(r.published), r.raw_html,
                    r.content_html, r.text, r.content_hash, json.dumps(r.flags),
                )
                if row is None:
                    c.execute(
                        "INSERT INTO items (feed_id, guid, url, canonical_url, title, author, published, raw_html, "
                        "content_html, text, content_hash, flags, first_seen, updated_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (feed_id, r.guid, *values, now, now),
                    )
                    counts["new"] += 1
                elif row["content_hash"] != r.content_hash:
                    c.execute(
                        "UPDATE items SET url=?, canonical_url=?, title=?, author=?, published=?, raw_html=?, "
                        "content_html=?, text=?, content_hash=?, flags=?, updated_at=? WHERE id=?",
                        (*values, now, row["id"]),
                    )
                    counts["updated"] += 1
                else:
                    counts["unchanged"] += 1
        return counts

    def get_item(self, item_id: int) -> Item | None:
        rows = self.query(
            f"SELECT {_ITEM_COLS} FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.id = ?", (item_id,)
        )
        return _item(rows[0]) if rows else None

    def get_items(self, ids: list[int]) -> list[Item]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.query(
            f"SELECT {_ITEM_COLS} FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.id IN ({marks})", ids
        )
        by_id = {r["id"]: _item(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def list_items(self, *, since: datetime | None = None, feed_id: int | None = None,
                   section: str | None = None, limit: int | None = None,
                   updated_since: datetime | None = None) -> list[Item]:
        """Items newest first. ``since`` matches the publication time (or first-seen when undated)."""
        where, params = [], []
        if since is not None:
            where.append("COALESCE(i.published, i.first_seen) >= ?")
            params.append(iso(since))
        if updated_since is not None:
            where.append("i.updated_at >= ?")
            params.append(iso(updated_since))
        if feed_id is not None:
            where.append("i.feed_id = ?")
            params.append(feed_id)
        if section is not None:
            where.append("f.section = ?")
            params.append(section)
        sql = f"SELECT {_ITEM_COLS} FROM items i JOIN feeds f ON f.id = i.feed_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY COALESCE(i.published, i.first_seen) DESC, i.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_item(r) for r in self.query(sql, params)]

    def search_items(self, query: str, *, limit: int = 20) -> list[tuple[Item, float]]:
        """FTS5 BM25 over item titles and text. Returns (item, score) with higher = better."""
        match = fts_query(query)
        if not match:
            return []
        rows = self.query(
            f"SELECT {_ITEM_COLS}, bm25(items_fts, 2.0, 1.0) AS score FROM items_fts "
            f"JOIN items i ON i.id = items_fts.rowid JOIN feeds f ON f.id = i.feed_id "
            f"WHERE items_fts MATCH ? ORDER BY score LIMIT ?",
            (match, limit),
        )
        out = []
        for r in rows:
            d = dict(r)
            score = -d.pop("score")
            d["flags"] = json.loads(d["flags"] or "[]")
            out.append((Item(**d), score))
        return out

    def count_items(self) -> int:
        return self.query("SELECT COUNT(*) FROM items")[0][0]

    # -- runs and fetch log ------------------------------------------------
    def start_run(self, kind: str) -> int:
        with self.transaction() as c:
            return c.execute(
                "INSERT INTO runs (kind, started_at) VALUES (?, ?)", (kind, iso(utcnow()))
            ).lastrowid

    def finish_run(self, run_id: int, metrics: dict[str, Any]) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET finished_at = ?, metrics = ? WHERE id = ?",
                (iso(utcnow()), json.dumps(metrics, sort_keys=True), run_id),
            )

    def list_runs(self, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql = "SELECT id, kind, started_at, finished_at, metrics FROM runs"
        params: list[Any] = []
        if kind:
            sql += " WHERE kind = ?"
            params.append(kind)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [{**dict(r), "metrics": json.loads(r["metrics"])} for r in self.query(sql, params)]

    def log_fetch(self, **fields: Any) -> None:
        cols = ", ".join(fields)
        marks = ",".join("?" * len(fields))
        with self.transaction() as c:
            c.execute(f"INSERT INTO fetch_log ({cols}) VALUES ({marks})", tuple(fields.values()))

    def fetch_log(self, feed_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = "SELECT * FROM fetch_log"
        params: list[Any] = []
        if feed_id is not None:
            sql += " WHERE feed_id = ?"
            params.append(feed_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [dict(r) for r in self.query(sql, params)]


_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """Turn free text into a safe FTS5 query: quoted terms OR-ed (BM25 ranks them)."""
    terms = [t for t in _FTS_TOKEN.findall(text.lower()) if len(t) > 1 or t.isdigit()]
    return " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN ... END;) whole."""
    stmts, buf = [], []
    depth = 0
    for line in sql.splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("--")):
            continue
        buf.append(line)
        upper = stripped.upper()
        if upper.startswith("CREATE TRIGGER") or upper.endswith(" BEGIN"):
            depth = 1
        if depth and upper.startswith("END;"):
            depth = 0
            stmts.append("\n".join(buf))
            buf = []
            continue
        if not depth and stripped.endswith(";"):
            stmts.append("\n".join(buf))
            buf = []
    if "".join(buf).strip():
        stmts.append("\n".join(buf))
    return stmts


def open_store(path: str | Path) -> SQLiteStore:
    return SQLiteStore(path)
