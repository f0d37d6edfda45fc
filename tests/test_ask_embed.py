"""Embeddings: the OpenAI-compatible backend (local server) and the SQLite vector cache."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from ask_helpers import LocalServer, build_corpus, make_config
from newsdesk.ask.embed import EmbeddingError, OpenAIEmbedder, embedder_from_config
from newsdesk.ask.kb import index_documents
from newsdesk.ask.retrieve import retrieve
from newsdesk.collect.documents import load_paths
from newsdesk.store.sqlite import SQLiteStore


def _vec(text: str, dim: int = 8) -> list[float]:
    """A deterministic bag-of-words vector: texts sharing words point the same way."""
    v = np.zeros(dim)
    for w in text.lower().split():
        v[int(hashlib.md5(w.strip(".,?").encode()).hexdigest(), 16) % dim] += 1.0
    return (v + 0.01).tolist()


@pytest.fixture
def emb_server():
    def respond(path: str, body: bytes):
        req = json.loads(body)
        data = [{"object": "embedding", "index": i, "embedding": _vec(t)} for i, t in enumerate(req["input"])]
        return 200, json.dumps({"object": "list", "data": data[::-1], "model": req["model"]}).encode(), 0

    s = LocalServer(respond)
    yield s
    s.close()


def test_openai_embedder_normalises_and_orders(emb_server) -> None:
    e = OpenAIEmbedder(emb_server.url + "/v1", "tiny-embed")
    v = e.embed(["alpha beta", "gamma"])
    assert v.shape == (2, 8) and e.dim == 8
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    expected = np.array(_vec("alpha beta"))
    assert np.allclose(v[0], expected / np.linalg.norm(expected), atol=1e-5)  # index order restored
    req = emb_server.requests[0]
    assert req["path"] == "/v1/embeddings"
    assert json.loads(req["body"]) == {"model": "tiny-embed", "input": ["alpha beta", "gamma"]}


def test_openai_embedder_errors_are_one_line() -> None:
    e = OpenAIEmbedder("http://127.0.0.1:9", "x", timeout=1)
    with pytest.raises(EmbeddingError) as ei:
        e.embed(["a"])
    assert "/embeddings" in str(ei.value) and "\n" not in str(ei.value)


def test_vectors_are_cached_and_computed_once(emb_server, tmp_path: Path) -> None:
    cfg = make_config()
    cfg.embeddings.backend, cfg.embeddings.base_url, cfg.embeddings.model = "openai", emb_server.url + "/v1", "tiny"
    assert isinstance(embedder_from_config(cfg), OpenAIEmbedder)
    store = SQLiteStore(tmp_path / "newsdesk.db")
    root = build_corpus(tmp_path / "c")
    r1 = index_documents(store, cfg, load_paths([str(root)]))
    n_chunks = store.query("SELECT COUNT(DISTINCT content_hash) FROM chunks WHERE role IN ('chunk','child')")[0][0]
    assert r1.embedded == n_chunks
    assert store.query("SELECT COUNT(*) FROM embeddings WHERE model = 'tiny'")[0][0] == n_chunks
    calls = len(emb_server.requests)
    r2 = index_documents(store, cfg, load_paths([str(root)]))
    assert r2.embedded == 0 and len(emb_server.requests) == calls  # nothing recomputed
    # a changed document: only its new chunk texts are embedded
    p = root / "cycling-survey.md"
    p.write_text(p.read_text() + "\nA follow-up survey is planned for next spring.\n", encoding="utf-8")
    r3 = index_documents(store, cfg, load_paths([str(root)]))
    assert 0 < r3.embedded < n_chunks
    res = retrieve(store, cfg, "protected bike lanes", k=3, mode="dense")
    assert res.notice is None and res.hits and all(h.dense is not None for h in res.hits)
    store.close()
