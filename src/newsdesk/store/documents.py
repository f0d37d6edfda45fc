"""Document store: documents, chunks, FTS5 over chunks, and the embedding cache.

Sits between ``newsdesk.ask`` (chunking, embedding, retrieval) and SQLite.
All SQL for migration 0003 lives here, so a PostgreSQL backend only has to
re-implement this module. Every write happens inside ``store.transaction()``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from newsdesk.models import iso, utcnow
from newsdesk.store.sqlite import SQLiteStore

DOC_COLS = (
    "id, kind, source, title, url, tags, metadata, content_hash, published, year, feed, section, "
    "item_id, chunking, added_at, updated_at"
)


@dataclass
class ChunkRow:
    """A chunk about to be stored (``parent`` is the index of its parent in the same list)."""

    role: str
    ord: int
    text: str
    content_hash: str
    page: int | None = None
    heading: str | None = None
    char_start: int | None = None
    char_end: int | None = None
    parent: int | None = None


@dataclass
class DocumentRecord:
    """A loaded document ready to be stored."""

    source: str
    title: str
    content_hash: str
    kind: str = "document"
    url: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    published: str | None = None
    year: int | None = None
    feed: str | None = None
    section: str | None = None
    item_id: int | None = None


@dataclass
class Filters:
    """Retrieval filters. All optional; combined with AND."""

    kind: str | None = None
    source: str | None = None  # substring of the document source/url, or the feed title / section
    tag: str | None = None
    year: int | None = None
    since: str | None = None  # ISO date or timestamp (inclusive)
    until: str | None = None  # ISO date or timestamp (inclusive, whole day when a date)

    def active(self) -> bool:
        return any(v is not None for v in (self.kind, self.source, self.tag, self.year, self.since, self.until))

    def sql(self, alias: str = "d") -> tuple[str, list[Any]]:
        """A WHERE fragment over the documents table aliased ``alias`` (empty when no filter)."""
        where: list[str] = []
        params: list[Any] = []
        if self.kind:
            where.append(f"{alias}.kind = ?")
            params.append(self.kind)
        if self.source:
            where.append(
                f"({alias}.source LIKE ? OR COALESCE({alias}.url,'') LIKE ? OR COALESCE({alias}.feed,'') LIKE ? "
                f"OR COALESCE({alias}.section,'') LIKE ?)"
            )
            like = f"%{self.source}%"
            params += [like, like, like, like]
        if self.tag:
            where.append(f"EXISTS (SELECT 1 FROM json_each({alias}.tags) WHERE lower(json_each.value) = lower(?))")
            params.append(self.tag)
        if self.year is not None:
            where.append(f"{alias}.year = ?")
            params.append(int(self.year))
        if self.since:
            where.append(f"{alias}.published >= ?")
            params.append(self.since)
        if self.until:
            until = self.until
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", until):
                until += "T23:59:59Z"
            where.append(f"{alias}.published <= ?")
            params.append(until)
        return " AND ".join(where), params


def _doc(row: Any) -> dict[str, Any]:
    d = dict(row)
    d["tags"] = json.loads(d["tags"] or "[]")
    d["metadata"] = json.loads(d["metadata"] or "{}")
    return d


class DocumentStore:
    """Domain queries for documents and chunks over a :class:`SQLiteStore`."""

    def __init__(self, store: SQLiteStore):
        self.store = store

    # -- documents ---------------------------------------------------------
    def get_by_source(self, source: str) -> dict[str, Any] | None:
        rows = self.store.query(f"SELECT {DOC_COLS} FROM documents WHERE source = ?", (source,))
        return _doc(rows[0]) if rows else None

    def get(self, doc_id: int) -> dict[str, Any] | None:
        rows = self.store.query(f"SELECT {DOC_COLS} FROM documents WHERE id = ?", (doc_id,))
        return _doc(rows[0]) if rows else None

    def get_many(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {r["id"]: _doc(r) for r in self.store.query(f"SELECT {DOC_COLS} FROM documents WHERE id IN ({marks})", ids)}

    def list(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql = (f"SELECT {', '.join('d.' + c.strip() for c in DOC_COLS.split(','))}, "
               "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id AND c.role = 'chunk') AS n_chunks "
               "FROM documents d")
        params: list[Any] = []
        if kind:
            sql += " WHERE d.kind = ?"
            params.append(kind)
        sql += " ORDER BY d.kind, d.published DESC, d.id"
        return [_doc(r) for r in self.store.query(sql, params)]

    def save(self, rec: DocumentRecord, chunks: Sequence[ChunkRow], chunking: str) -> tuple[str, int]:
        """Insert or replace a document and its chunks in one transaction.

        Returns ``(status, doc_id)`` with status ``new``, ``updated`` or ``unchanged``
        (same content hash and same chunking parameters: nothing is written).
        """
        now = iso(utcnow())
        with self.store.transaction() as c:
            row = c.execute("SELECT id, content_hash, chunking FROM documents WHERE source = ?", (rec.source,)).fetchone()
            if row and row["content_hash"] == rec.content_hash and row["chunking"] == chunking:
                return "unchanged", int(row["id"])
            values = (
                rec.kind, rec.title, rec.url, json.dumps(rec.tags), json.dumps(rec.metadata, default=str),
                rec.content_hash, rec.published, rec.year, rec.feed, rec.section, rec.item_id, chunking,
            )
            if row:
                doc_id = int(row["id"])
                c.execute("DELETE FROM chunks WHERE doc_id = ? AND parent_id IS NOT NULL", (doc_id,))
                c.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
                c.execute(
                    "UPDATE documents SET kind=?, title=?, url=?, tags=?, metadata=?, content_hash=?, published=?, "
                    "year=?, feed=?, section=?, item_id=?, chunking=?, updated_at=? WHERE id=?",
                    (*values, now, doc_id),
                )
                status = "updated"
            else:
                doc_id = c.execute(
                    "INSERT INTO documents (kind, title, url, tags, metadata, content_hash, published, year, feed, "
                    "section, item_id, chunking, source, added_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*values, rec.source, now, now),
                ).lastrowid
                status = "new"
            ids: list[int] = []
            for ch in chunks:
                parent_id = ids[ch.parent] if ch.parent is not None else None
                cid = c.execute(
                    "INSERT INTO chunks (doc_id, parent_id, role, ord, text, title, page, heading, char_start, "
                    "char_end, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (doc_id, parent_id, ch.role, ch.ord, ch.text, rec.title, ch.page, ch.heading,
                     ch.char_start, ch.char_end, ch.content_hash),
                ).lastrowid
                ids.append(int(cid))
        return status, int(doc_id)

    def remove(self, ident: str | int) -> dict[str, Any] | None:
        """Remove a document (by id or source path/URL) and its chunks. Returns it, or None."""
        doc = None
        if isinstance(ident, int) or str(ident).isdigit():
            doc = self.get(int(ident))
        if doc is None:
            doc = self.get_by_source(str(ident))
        if doc is None:
            return None
        with self.store.transaction() as c:
            c.execute("DELETE FROM chunks WHERE doc_id = ? AND parent_id IS NOT NULL", (doc["id"],))
            c.execute("DELETE FROM chunks WHERE doc_id = ?", (doc["id"],))
            c.execute("DELETE FROM documents WHERE id = ?", (doc["id"],))
        return doc

    # -- chunks --------------------------------------------------------------
    def chunks(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.store.query(
            "SELECT id, doc_id, parent_id, role, ord, text, title, page, heading, char_start, char_end, content_hash "
            f"FROM chunks WHERE id IN ({marks})", ids,
        )
        return {r["id"]: dict(r) for r in rows}

    def layer_state(self, role: str) -> tuple[int, int]:
        """``(count, max id)`` of the chunks in a layer: how a dense index detects staleness."""
        row = self.store.query("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM chunks WHERE role = ?", (role,))[0]
        return int(row[0]), int(row[1])

    def layer_hashes(self, role: str) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.store.query("SELECT id, content_hash FROM chunks WHERE role = ? ORDER BY id", (role,))]

    def missing_embeddings(self, model: str, roles: Sequence[str] = ("chunk", "child")) -> list[tuple[str, str]]:
        """``(content_hash, text)`` of chunks with no cached vector for ``model`` (one per hash)."""
        marks = ",".join("?" * len(roles))
        rows = self.store.query(
            f"SELECT c.content_hash, MIN(c.text) FROM chunks c WHERE c.role IN ({marks}) AND NOT EXISTS "
            "(SELECT 1 FROM embeddings e WHERE e.content_hash = c.content_hash AND e.model = ?) "
            "GROUP BY c.content_hash",
            (*roles, model),
        )
        return [(r[0], r[1]) for r in rows]

    def filtered_chunk_ids(self, role: str, filters: Filters) -> set[int]:
        where, params = filters.sql("d")
        sql = "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.role = ?"
        if where:
            sql += " AND " + where
        return {r[0] for r in self.store.query(sql, (role, *params))}

    def bm25(self, match: str, role: str, filters: Filters | None, limit: int) -> list[tuple[int, float]]:
        """FTS5 BM25 over chunk text and title for one layer; ``(chunk id, score)`` with higher = better."""
        if not match:
            return []
        where, params = (filters or Filters()).sql("d")
        sql = (
            "SELECT c.id, bm25(chunks_fts, 0.5, 1.0) AS s FROM chunks_fts "
            "JOIN chunks c ON c.id = chunks_fts.rowid "
        )
        if where:
            sql += "JOIN documents d ON d.id = c.doc_id "
        sql += "WHERE chunks_fts MATCH ? AND c.role = ?"
        if where:
            sql += " AND " + where
        sql += " ORDER BY s LIMIT ?"
        return [(r[0], -r[1]) for r in self.store.query(sql, (match, role, *params, limit))]

    # -- embeddings cache ----------------------------------------------------
    def get_vectors(self, hashes: Sequence[str], model: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        hashes = list(dict.fromkeys(hashes))
        for i in range(0, len(hashes), 500):
            part = hashes[i:i + 500]
            marks = ",".join("?" * len(part))
            for r in self.store.query(
                f"SELECT content_hash, vector FROM embeddings WHERE model = ? AND content_hash IN ({marks})",
                (model, *part),
            ):
                out[r[0]] = np.frombuffer(r[1], dtype=np.float32)
        return out

    def put_vectors(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self.store.transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO embeddings (content_hash, model, dim, vector) VALUES (?,?,?,?)",
                [(h, model, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for h, v in items],
            )

    def layer_vectors(self, role: str, model: str) -> tuple[np.ndarray, np.ndarray]:
        """All ``(chunk ids, vectors)`` of a layer that have a cached vector for ``model``."""
        rows = self.store.query(
            "SELECT c.id, e.vector FROM chunks c JOIN embeddings e ON e.content_hash = c.content_hash AND e.model = ? "
            "WHERE c.role = ? ORDER BY c.id",
            (model, role),
        )
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vecs = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return ids, vecs

    def item_documents(self) -> dict[int, tuple[int, str]]:
        """``item_id -> (doc id, content hash)`` for indexed briefing items."""
        return {r[0]: (r[1], r[2]) for r in self.store.query(
            "SELECT item_id, id, content_hash FROM documents WHERE item_id IS NOT NULL")}
