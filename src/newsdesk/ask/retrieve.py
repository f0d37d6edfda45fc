"""Hybrid retrieval: BM25 (SQLite FTS5) + dense vectors, fused with reciprocal rank fusion.

Pipeline position: index (``ask.kb``) -> **retrieve** -> answer (``ask.answer``).

``search(store, config, query, k=, filters=, mode=)`` is the entry point used by
the CLI, the web server and the answer step. Modes: ``bm25``, ``dense``,
``hybrid`` (default; RRF with k=60). ``layer="child"`` searches the 400-char
children of the parent-child layout and returns their ~2000-char parents.

Filters (kind, source/feed, tag, year, date range) are hard SQL filters applied
to both retrievers. In addition, years written in the question itself
("in 2021", "the 2023 report") are a *soft* scope: documents whose date is
known (front matter, PDF metadata, title) and matches are boosted; those with a
known different year are demoted unless the passage itself mentions the year
(a 2024 report about 2023 data stays neutral); undated ones are left alone. This is what
lets the desk tell a 2021 report from a 2023 one.

For the evaluation harness, ``index_corpus`` + ``retrieve_ids`` run the three
modes over a BEIR-style corpus ``{doc_id: {"title", "text"}}``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from newsdesk.config import Config
from newsdesk.guard.grounding import STOPWORDS
from newsdesk.store.documents import DocumentStore, Filters

RRF_K = 60
_TOKEN = re.compile(r"\w+", re.UNICODE)
_YEAR_Q = re.compile(r"(?<![\d-])((?:19|20)\d{2})(?![\d-])")
_EXTRA_STOP = frozenset("""please tell know find show give document documents doc docs report says mention
    mentioned described describe""".split())


@dataclass
class Hit:
    """One retrieved passage with its provenance and scores."""

    chunk_id: int
    doc_id: int
    title: str
    source: str
    url: str | None
    kind: str
    text: str  # the passage returned (the parent's text in parent mode)
    page: int | None = None
    heading: str | None = None
    score: float = 0.0  # fused score (RRF, or the single retriever's score)
    bm25: float | None = None
    bm25_rank: int | None = None
    dense: float | None = None  # cosine similarity query <-> indexed chunk
    dense_rank: int | None = None
    published: str | None = None
    year: int | None = None
    tags: list[str] = field(default_factory=list)
    feed: str | None = None
    section: str | None = None
    flags: list[str] = field(default_factory=list)
    matched_chunk_id: int | None = None  # the indexed child when text is a parent
    year_match: bool | None = None  # None: no year in the question or undated document

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Retrieval:
    hits: list[Hit]
    query_vec: np.ndarray | None
    years: list[int]
    notice: str | None = None
    mode: str = "hybrid"


def query_years(question: str) -> list[int]:
    """Years mentioned in a question ("in 2021", "2023 report")."""
    return sorted({int(y) for y in _YEAR_Q.findall(question)})


def fts_match(query: str) -> str:
    """A safe FTS5 expression: content terms quoted and OR-ed (BM25 ranks them); stopwords dropped."""
    terms = [t for t in _TOKEN.findall(query.lower()) if len(t) > 1 or t.isdigit()]
    content = [t for t in terms if t not in STOPWORDS and t not in _EXTRA_STOP]
    use = content or terms
    return " OR ".join(f'"{t}"' for t in dict.fromkeys(use))


def _rrf(rankings: Sequence[Sequence[int]]) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for r, cid in enumerate(ranking):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + r + 1)
    return scores


def _confident_year(doc: dict[str, Any]) -> int | None:
    if doc.get("year") is None:
        return None
    if (doc.get("metadata") or {}).get("date_source") == "mtime":
        return None
    return int(doc["year"])


def retrieve(store: Any, config: Config, query: str, *, k: int = 5, filters: Filters | None = None,
             mode: str = "hybrid", layer: str = "chunk", depth: int | None = None,
             year_scope: bool = True) -> Retrieval:
    """Run retrieval and return hits plus the query vector (reused by the answer step)."""
    from newsdesk.ask.dense import DenseIndex
    from newsdesk.ask.embed import EmbeddingError, embed_query, embedder_from_config

    if mode not in ("bm25", "dense", "hybrid"):
        raise ValueError(f"unknown retrieval mode {mode!r} (bm25, dense or hybrid)")
    ds = DocumentStore(store)
    filters = filters or Filters()
    depth = depth or max(4 * k, 30)
    notice = None
    rankings: list[list[int]] = []
    bm25_scores: dict[int, float] = {}
    dense_scores: dict[int, float] = {}
    qvec = None

    if mode in ("dense", "hybrid"):
        emb = None
        try:
            emb = embedder_from_config(config)
        except EmbeddingError as e:
            notice = f"{e}; using BM25 only"
        if emb is None and notice is None:
            notice = "embeddings disabled (embeddings.backend = \"none\"): using BM25 only"
        if emb is not None:
            try:
                qvec = embed_query(emb, query)
                index = DenseIndex.get(ds, layer, emb.name)
                allowed = ds.filtered_chunk_ids(layer, filters) if filters.active() else None
                dres = index.search(qvec, depth, allowed)
                dense_scores = dict(dres)
                rankings.append([c for c, _ in dres])
            except EmbeddingError as e:
                notice = f"{e}; using BM25 only"
                qvec = None
        if qvec is None:
            mode = "bm25"
    if mode in ("bm25", "hybrid"):
        bres = ds.bm25(fts_match(query), layer, filters, depth)
        bm25_scores = dict(bres)
        rankings.insert(0, [c for c, _ in bres])

    if mode == "hybrid":
        fused = _rrf(rankings)
    elif mode == "dense":
        fused = dict(dense_scores)
    else:
        fused = dict(bm25_scores)
    if not fused:
        return Retrieval([], qvec, query_years(query), notice, mode)

    chunks = ds.chunks(list(fused))
    docs = ds.get_many(c["doc_id"] for c in chunks.values())
    years = query_years(query) if year_scope else []
    ranks_b = {c: r + 1 for r, c in enumerate(rankings[0])} if mode != "dense" and rankings else {}
    ranks_d = {c: r + 1 for r, (c, _) in enumerate(sorted(dense_scores.items(), key=lambda x: -x[1]))}

    scored: list[tuple[float, int]] = []
    year_match: dict[int, bool | None] = {}
    for cid, s in fused.items():
        ch = chunks.get(cid)
        if ch is None:
            continue
        d = docs.get(ch["doc_id"], {})
        ym = None
        if years:
            cy = _confident_year(d)
            if cy is not None:
                ym = cy in years
                if not ym and any(str(y) in ch["text"] for y in years):
                    ym = None  # the passage talks about that year (e.g. a 2024 report on 2023 data): neutral
                if ym is not None:
                    if mode in ("hybrid", "bm25"):
                        s = s * (1.6 if ym else 0.5)
                    else:
                        s = s + (0.1 if ym else -0.1)
        year_match[cid] = ym
        scored.append((s, cid))
    scored.sort(key=lambda x: -x[0])

    hits: list[Hit] = []
    seen_passages: set[int] = set()
    parents: dict[int, dict[str, Any]] = {}
    if layer == "child":
        parents = ds.chunks([chunks[c]["parent_id"] for _, c in scored if chunks[c].get("parent_id")])
    for s, cid in scored:
        ch = chunks[cid]
        d = docs.get(ch["doc_id"], {})
        passage = ch
        if layer == "child" and ch.get("parent_id") in parents:
            passage = parents[ch["parent_id"]]
        if passage["id"] in seen_passages:
            continue
        seen_passages.add(passage["id"])
        meta = d.get("metadata") or {}
        hits.append(Hit(
            chunk_id=passage["id"], doc_id=ch["doc_id"], title=d.get("title") or "", source=d.get("source") or "",
            url=d.get("url"), kind=d.get("kind") or "document", text=passage["text"], page=passage.get("page"),
            heading=passage.get("heading"), score=round(float(s), 6), bm25=bm25_scores.get(cid),
            bm25_rank=ranks_b.get(cid), dense=dense_scores.get(cid), dense_rank=ranks_d.get(cid),
            published=d.get("published"), year=d.get("year"), tags=d.get("tags") or [], feed=d.get("feed"),
            section=d.get("section"), flags=list(meta.get("flags") or []),
            matched_chunk_id=cid if passage is not ch else None, year_match=year_match.get(cid),
        ))
        if len(hits) >= k:
            break
    return Retrieval(hits, qvec, years, notice, mode)


def search(store: Any, config: Config, query: str, *, k: int = 5, filters: Filters | None = None,
           mode: str = "hybrid", layer: str = "chunk") -> list[Hit]:
    """Top ``k`` passages for ``query`` with document/chunk provenance and scores."""
    return retrieve(store, config, query, k=k, filters=filters, mode=mode, layer=layer).hits


# --------------------------------------------------------------------------- evaluation helpers

def index_corpus(store: Any, config: Config, corpus: dict[str, dict[str, Any]], progress: Any = None,
                 *, embed: bool = True) -> Any:
    """Index a BEIR-style corpus ``{doc_id: {"title": ..., "text": ...}}`` as documents ``beir:<doc_id>``."""
    from newsdesk.ask.chunk import Segment
    from newsdesk.ask.kb import index_documents
    from newsdesk.collect.documents import LoadedDocument

    def docs() -> Iterable[LoadedDocument]:
        for did, d in corpus.items():
            text = (d.get("text") or "").strip() or (d.get("title") or "")
            yield LoadedDocument(source=f"beir:{did}", title=d.get("title") or "", segments=[Segment(text)])

    return index_documents(store, config, docs(), progress, embed=embed)


def retrieve_ids(store: Any, config: Config, query: str, *, k: int = 10, mode: str = "hybrid",
                 prefix: str = "beir:") -> list[tuple[str, float]]:
    """Ranked ``(corpus doc id, score)`` for one query: chunk hits aggregated per document (best chunk)."""
    res = retrieve(store, config, query, k=max(k * 3, 30), mode=mode, year_scope=False)
    out: dict[str, float] = {}
    for h in res.hits:
        did = h.source[len(prefix):] if h.source.startswith(prefix) else h.source
        if did not in out:
            out[did] = h.score
    return sorted(out.items(), key=lambda x: -x[1])[:k]
