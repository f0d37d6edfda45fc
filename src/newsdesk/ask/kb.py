"""The knowledge base: what "Ask your desk" can answer from.

Pipeline position: load (``collect.documents``) -> **kb** (chunk, store, embed)
-> retrieve -> answer.

* ``index_documents`` stores loaded documents with their chunks (both the
  1000/100 ``chunk`` layout and the 400/2000 parent-child layout), skipping
  unchanged ones (same content hash and chunking parameters) and re-chunking
  changed ones, then embeds every chunk that has no cached vector.
* ``index_items`` does the same for briefing items (kind ``briefing``, with
  feed, section and date); the briefing builder calls it after each briefing.
* ``ensure_index`` embeds anything missing and warms the dense index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from newsdesk.ask.chunk import Segment, chunk_document, chunking_signature
from newsdesk.collect.documents import LoadedDocument, markdown_segments, resolve_date
from newsdesk.config import Config
from newsdesk.store.documents import DocumentRecord, DocumentStore


@dataclass
class IndexReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    embedded: int = 0
    docs: list[dict[str, Any]] = field(default_factory=list)  # {id, source, title, status, chunks}
    notice: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "embedded": self.embedded, "documents": self.docs, "notice": self.notice}


def _signature(config: Config) -> str:
    a = config.ask
    return chunking_signature(a.chunk_size, a.chunk_overlap, a.child_size, a.parent_size, True)


def _screen(doc: LoadedDocument) -> list[str]:
    try:
        from newsdesk.guard.screen import screen_text
    except ImportError:  # pragma: no cover
        return []
    try:
        return list(screen_text(doc.text, doc.html))
    except Exception:  # screening must never block ingestion
        return []


def _record(doc: LoadedDocument) -> DocumentRecord:
    flags = _screen(doc)
    meta = dict(doc.metadata)
    if flags or meta.get("flags"):
        meta["flags"] = sorted(set(meta.get("flags") or []) | set(flags))
    return DocumentRecord(source=doc.source, title=doc.title, content_hash=doc.content_hash, kind=doc.kind,
                          url=doc.url, tags=list(doc.tags), metadata=meta, published=doc.published, year=doc.year,
                          feed=meta.get("feed"), section=meta.get("section"), item_id=meta.get("item_id"))


def _chunks(doc: LoadedDocument, config: Config) -> list:
    a = config.ask
    return chunk_document(doc.segments, size=a.chunk_size, overlap=min(a.chunk_overlap, a.chunk_size // 2),
                          child_size=a.child_size, parent_size=a.parent_size, parent_child=True)


def embed_pending(store: Any, config: Config, progress: Any = None) -> tuple[int, str | None]:
    """Embed chunks without a cached vector. Returns ``(count, notice)``; never raises for a missing model."""
    from newsdesk.ask.embed import EmbeddingError, embed_missing, embedder_from_config

    try:
        emb = embedder_from_config(config)
    except EmbeddingError as e:
        return 0, f"{e}; search uses BM25 only"
    if emb is None:
        return 0, "embeddings disabled (embeddings.backend = \"none\"): search uses BM25 only"
    try:
        return embed_missing(DocumentStore(store), emb, batch_size=max(8, config.embeddings.batch_size),
                             progress=progress), None
    except EmbeddingError as e:
        return 0, f"{e}; search uses BM25 only until the embeddings are computed"


def index_documents(store: Any, config: Config, docs: Iterable[LoadedDocument], progress: Any = None,
                    *, embed: bool = True) -> IndexReport:
    """Store documents and their chunks; embed new chunks. Idempotent."""
    ds = DocumentStore(store)
    report = IndexReport()
    sig = _signature(config)
    for doc in docs:
        status, doc_id = ds.save(_record(doc), _chunks(doc, config), sig)
        setattr(report, status, getattr(report, status) + 1)
        report.docs.append({"id": doc_id, "source": doc.source, "title": doc.title, "status": status,
                            "published": doc.published, "year": doc.year, "tags": doc.tags})
    if embed:
        report.embedded, report.notice = embed_pending(store, config, progress)
    return report


def item_document(item: Any) -> LoadedDocument:
    """A briefing item (``models.Item`` or a dict with the same fields) as a ``briefing`` document."""
    get = (lambda k, d=None: item.get(k, d)) if isinstance(item, dict) else (lambda k, d=None: getattr(item, k, d))
    item_id = get("id")
    title = get("title") or ""
    text = get("text") or ""
    feed = get("feed_title") or get("feed") or get("feed_url")
    segs = markdown_segments(text) if text.strip() else [Segment(title)]
    for s in segs:
        s.heading = s.heading or get("section")
    doc = LoadedDocument(source=f"item:{item_id}", title=title, segments=segs, kind="briefing",
                         url=get("canonical_url") or get("url"))
    doc.metadata.update({"feed": feed, "section": get("section"), "item_id": item_id})
    flags = list(get("flags") or [])
    if flags:
        doc.metadata["flags"] = flags
    resolve_date(doc, get("published") or get("first_seen"))
    return doc


def index_items(store: Any, config: Config, items: Sequence[Any], progress: Any = None) -> IndexReport:
    """Index briefing items as documents of kind ``briefing`` (feed, section, date). Idempotent."""
    docs = [item_document(it) for it in items]
    return index_documents(store, config, docs, progress)


def ensure_index(store: Any, config: Config, progress: Any = None) -> str | None:
    """Embed anything missing and load/rebuild the dense indexes. Returns a notice when dense search is off."""
    from newsdesk.ask.dense import DenseIndex
    from newsdesk.ask.embed import EmbeddingError, embedder_from_config

    _, notice = embed_pending(store, config, progress)
    try:
        emb = embedder_from_config(config)
    except EmbeddingError as e:
        return str(e)
    if emb is None:
        return notice
    ds = DocumentStore(store)
    for role in ("chunk", "child"):
        DenseIndex.get(ds, role, emb.name)
    return notice
