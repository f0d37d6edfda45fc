"""Search and ask latency at 10k and 100k chunks vs rank_bm25 + flat numpy cosine (RRF ensemble).

Embeddings: deterministic random unit vectors (seeded by each text's hash),
shared by newsdesk and the peer. Embedding 100k chunks with all-MiniLM-L6-v2
on this 2-core CPU would take well over an hour, and the scaling behaviour of
the indexes does not depend on what the vectors mean. The query vector is
produced the same way, so the model's query-encoding time (~10-30 ms on this
machine, see bench_embed) is *not* included in either side.

newsdesk: ``ask.retrieve.search(mode="hybrid")`` = SQLite FTS5 BM25 + HNSW
(hnswlib, > 5,000 vectors) fused with RRF; ``ask.answer.ask(llm=False)`` =
search + extractive answer with abstention.
Peer: ``rank_bm25.BM25Okapi.get_scores`` + ``matrix @ q`` over all vectors,
RRF over the two top-30 lists; its "answer" is the top chunk (no extra work).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from common import ratio, summary, write_result
from gen import chunks, queries

DIM = 384


class RandomEmbedder:
    """Deterministic pseudo-embeddings: one seeded unit vector per distinct text."""

    name = "bench-random-384"
    dim = DIM

    def embed(self, texts):  # type: ignore[no-untyped-def]
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


_TOK = re.compile(r"\w+")


def _rrf(lists: list[list[int]], k: int = 60) -> list[int]:
    score: dict[int, float] = {}
    for lst in lists:
        for r, i in enumerate(lst):
            score[i] = score.get(i, 0.0) + 1.0 / (k + r + 1)
    return sorted(score, key=lambda i: -score[i])


def one_size(n: int, nq: int) -> dict:
    from rank_bm25 import BM25Okapi

    from newsdesk.ask import embed as embed_mod
    from newsdesk.ask.answer import ask
    from newsdesk.ask.embed import embed_missing
    from newsdesk.ask.retrieve import index_corpus, search
    from newsdesk.config import parse_config
    from newsdesk.store import SQLiteStore
    from newsdesk.store.documents import DocumentStore

    texts = chunks(n)
    qs = queries(nq)
    fake = RandomEmbedder()
    cfg = parse_config(f'[embeddings]\nbackend = "local"\nmodel = "{fake.name}"\n')
    e = cfg.embeddings
    embed_mod._EMBEDDERS[(e.backend, e.model, e.base_url, e.batch_size)] = fake  # bench-only injection
    out: dict = {"chunks": n, "queries": nq}
    with tempfile.TemporaryDirectory(prefix="nd-bench-lat-") as tmp:
        store = SQLiteStore(Path(tmp) / "lat.db")
        t0 = time.perf_counter()
        index_corpus(store, cfg, {f"d{i}": {"title": "", "text": t} for i, t in enumerate(texts)}, embed=False)
        out["newsdesk_index_seconds"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        embed_missing(DocumentStore(store), fake, batch_size=2000)
        out["vector_store_seconds"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        search(store, cfg, "warm up the dense index", k=10)
        out["newsdesk_first_query_seconds(builds HNSW)"] = round(time.perf_counter() - t0, 2)

        nd_search, nd_ask, abst = [], [], 0
        for q in qs:
            t0 = time.perf_counter()
            search(store, cfg, q, k=10, mode="hybrid")
            nd_search.append(time.perf_counter() - t0)
        dense_ids = {}
        for q in qs:  # for the HNSW-vs-exact agreement below
            hits = search(store, cfg, q, k=10, mode="dense")
            dense_ids[q] = [int(h.source.split(":d", 1)[1]) for h in hits]
        for q in qs:
            t0 = time.perf_counter()
            res = ask(store, cfg, q, llm=False)
            nd_ask.append(time.perf_counter() - t0)
            abst += bool(res["abstained"])
        store.close()

    t0 = time.perf_counter()
    bm = BM25Okapi([_TOK.findall(t.lower()) for t in texts])
    mat = fake.embed(texts)
    out["peer_build_seconds"] = round(time.perf_counter() - t0, 2)
    peer, agree = [], []
    for q in qs:
        exact = np.argsort(-(mat @ fake.embed([q])[0]))[:10].tolist()
        agree.append(len(set(exact) & set(dense_ids[q])) / 10)
    for q in qs:
        t0 = time.perf_counter()
        s = bm.get_scores(_TOK.findall(q.lower()))
        b_top = np.argpartition(-s, 30)[:30]
        b_top = b_top[np.argsort(-s[b_top])]
        qv = fake.embed([q])[0]
        c = mat @ qv
        d_top = np.argpartition(-c, 30)[:30]
        d_top = d_top[np.argsort(-c[d_top])]
        fused = _rrf([b_top.tolist(), d_top.tolist()])[:10]
        _answer = texts[fused[0]]
        peer.append(time.perf_counter() - t0)
    ms = lambda xs: {k: (round(v * 1000, 2) if k != "n" else v) for k, v in summary(xs).items()}  # noqa: E731
    out.update({
        "newsdesk_search_ms": ms(nd_search), "newsdesk_ask_ms": ms(nd_ask), "newsdesk_ask_abstained": abst,
        "peer_search_ms": ms(peer),
        "dense_recall@10_hnsw_vs_exact": round(statistics.mean(agree), 4),
        "ratio_search_p50_newsdesk_over_peer": ratio(statistics.median(nd_search), statistics.median(peer)),
        "ratio_ask_p50_newsdesk_over_peer": ratio(statistics.median(nd_ask), statistics.median(peer)),
    })
    return out


def run(quick: bool) -> dict:
    sizes = [10_000] if quick else [10_000, 100_000]
    nq = 20 if quick else 50
    return {"workload": "generated chunks (~400-900 chars), generated queries, random unit vectors (see module doc)",
            "peer": "rank_bm25.BM25Okapi + flat numpy cosine, RRF(k=60) over top-30 lists",
            "sizes": [one_size(n, nq) for n in sizes]}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    write_result("latency", run(a.quick), a.quick)
