"""Dense (vector) search over one chunk layer.

Pipeline position: embed -> **dense index** -> retrieve (fused with BM25).

Vectors live in SQLite (``embeddings``); this module keeps a search structure
next to the database:

* layers up to ``EXACT_MAX`` (20,000) vectors: exact cosine search with numpy over an
  in-memory matrix (faster to build than a graph and exact);
* larger layers: an hnswlib HNSW graph persisted under ``home.index_dir``
  (``dense-<layer>-<model>.bin`` + ``.json``), rebuilt from SQLite when missing or
  stale. Staleness = model, chunk count or max chunk id differ from the database.

Both keep a per-process cache, so a warm query costs one staleness check
(a single indexed COUNT/MAX query) plus the search itself.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from newsdesk.store.documents import DocumentStore

EXACT_MAX = 20000  # exact search below this: ~3 ms per query at 20k x 384, recall 1.0, no graph build
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 200
_CACHE: dict[tuple[str, str, str], "DenseIndex"] = {}
_LOCK = threading.Lock()


def default_index_dir(store_path: str) -> Path | None:
    """``<home>/index`` for a database at ``<home>/newsdesk.db``; None for in-memory stores."""
    if not store_path or store_path == ":memory:":
        return None
    return Path(store_path).parent / "index"


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s)


class DenseIndex:
    """Nearest-neighbour search over the vectors of one layer (``chunk`` or ``child``)."""

    def __init__(self, docs: DocumentStore, role: str, model: str, index_dir: Path | None):
        self.docs, self.role, self.model, self.index_dir = docs, role, model, index_dir
        self.state: tuple[int, int] | None = None
        self.ids = np.zeros(0, dtype=np.int64)
        self.vecs: np.ndarray | None = None
        self.hnsw: Any = None
        self.kind = "empty"
        self._lock = threading.Lock()

    @classmethod
    def get(cls, docs: DocumentStore, role: str, model: str, index_dir: Path | None = None) -> "DenseIndex":
        if index_dir is None:
            index_dir = default_index_dir(docs.store.path)
        key = (docs.store.path + f"#{id(docs.store)}" if docs.store.path == ":memory:" else docs.store.path, role, model)
        with _LOCK:
            idx = _CACHE.get(key)
            if idx is None or idx.docs.store is not docs.store:
                idx = _CACHE[key] = cls(docs, role, model, index_dir)
        idx.refresh()
        return idx

    def _paths(self) -> tuple[Path, Path] | None:
        if self.index_dir is None:
            return None
        base = self.index_dir / f"dense-{self.role}-{_slug(self.model)}"
        return base.with_suffix(".bin"), base.with_suffix(".json")

    def refresh(self) -> None:
        """Reload or rebuild when the layer changed since the last load (one thread at a time)."""
        state = self.docs.layer_state(self.role)
        if state == self.state:
            return
        with self._lock:
            if state == self.state:
                return
            if state[0] <= EXACT_MAX:
                self._load_exact()
            else:
                self._load_hnsw(state)
            self.state = state

    def _load_exact(self) -> None:
        self.ids, self.vecs = self.docs.layer_vectors(self.role, self.model)
        self.hnsw = None
        self.kind = "exact"

    def _load_hnsw(self, state: tuple[int, int]) -> None:
        import hnswlib

        paths = self._paths()
        if paths and paths[0].exists() and paths[1].exists():
            try:
                meta = json.loads(paths[1].read_text())
                if meta.get("model") == self.model and tuple(meta.get("state", ())) == state \
                        and meta.get("db") == self.docs.store.path:
                    index = hnswlib.Index(space="ip", dim=int(meta["dim"]))
                    index.load_index(str(paths[0]), max_elements=int(meta["n"]))
                    index.set_ef(HNSW_EF_SEARCH)
                    self.hnsw, self.vecs, self.kind = index, None, "hnsw"
                    return
            except (OSError, ValueError, KeyError, RuntimeError):
                pass  # corrupt or foreign file: rebuild below
        self.rebuild(state)

    def rebuild(self, state: tuple[int, int] | None = None) -> None:
        """Build the HNSW graph from the vectors in SQLite and persist it."""
        import hnswlib

        state = state or self.docs.layer_state(self.role)
        ids, vecs = self.docs.layer_vectors(self.role, self.model)
        if len(ids) == 0:
            self.hnsw, self.vecs, self.kind = None, None, "empty"
            return
        index = hnswlib.Index(space="ip", dim=int(vecs.shape[1]))
        index.init_index(max_elements=len(ids), ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M)
        index.add_items(vecs, ids)
        index.set_ef(HNSW_EF_SEARCH)
        self.hnsw, self.vecs, self.ids, self.kind = index, None, ids, "hnsw"
        paths = self._paths()
        if paths:
            paths[0].parent.mkdir(parents=True, exist_ok=True)
            tmp = paths[0].with_suffix(".bin.tmp")
            index.save_index(str(tmp))
            tmp.replace(paths[0])
            paths[1].write_text(json.dumps({"model": self.model, "dim": int(vecs.shape[1]), "n": len(ids),
                                            "state": list(state), "db": self.docs.store.path}))

    def __len__(self) -> int:
        if self.hnsw is not None:
            return int(self.hnsw.get_current_count())
        return len(self.ids)

    def search(self, qvec: np.ndarray, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """Top ``k`` ``(chunk id, cosine similarity)``; ``allowed`` restricts to a set of chunk ids."""
        if allowed is not None and not allowed:
            return []
        if self.hnsw is not None:
            n = len(self)
            kk = min(k, n)
            if kk <= 0:
                return []
            flt = (lambda i: i in allowed) if allowed is not None else None
            if kk > HNSW_EF_SEARCH:
                self.hnsw.set_ef(kk)
            try:
                labels, dists = self.hnsw.knn_query(qvec.reshape(1, -1), k=min(kk, len(allowed)) if allowed else kk,
                                                    filter=flt)
            except RuntimeError:  # fewer than k reachable under the filter
                return []
            return [(int(i), float(1.0 - d)) for i, d in zip(labels[0], dists[0])]
        if self.vecs is None or len(self.ids) == 0:
            return []
        if allowed is not None:
            mask = np.fromiter((int(i) in allowed for i in self.ids), dtype=bool, count=len(self.ids))
            ids, vecs = self.ids[mask], self.vecs[mask]
        else:
            ids, vecs = self.ids, self.vecs
        if len(ids) == 0:
            return []
        sims = vecs @ qvec.astype(np.float32)
        kk = min(k, len(ids))
        top = np.argpartition(-sims, kk - 1)[:kk]
        top = top[np.argsort(-sims[top])]
        return [(int(ids[i]), float(sims[i])) for i in top]
