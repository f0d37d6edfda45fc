"""Retrieval evaluation on BEIR-format datasets (``newsdesk eval retrieval``).

Loads ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/test.tsv`` (the BEIR
layout, so SciFact, NFCorpus etc. work unchanged once downloaded), indexes the
corpus into a *temporary* store with the ask pipeline's own indexer
(``ask.retrieve.index_corpus``: same chunking, same embedder, same FTS5 BM25),
runs each query through ``ask.retrieve.retrieve_ids`` in the modes asked for,
and scores the rankings with ``eval.metrics`` (nDCG@10, Recall@10, Recall@100,
MRR@10). The user's own database is never touched.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from newsdesk.config import Config
from newsdesk.errors import NewsdeskError
from newsdesk.eval.metrics import evaluate_run

MODES = ("bm25", "dense", "hybrid")


class DatasetError(NewsdeskError):
    """A dataset file is missing or malformed."""


@dataclass
class BeirDataset:
    corpus: dict[str, dict[str, Any]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    name: str = ""


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise DatasetError(f"{path}: missing (BEIR layout: corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    out = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise DatasetError(f"{path}:{n}: invalid JSON: {e}") from None
            if "_id" not in d:
                raise DatasetError(f"{path}:{n}: no _id field")
            out.append(d)
    return out


def load_beir(directory: str | Path, split: str = "test") -> BeirDataset:
    """Read a BEIR dataset directory. Only queries that have qrels are kept."""
    d = Path(directory)
    if not d.is_dir():
        raise DatasetError(f"{d}: not a directory")
    corpus = {str(x["_id"]): {"title": x.get("title") or "", "text": x.get("text") or ""} for x in _jsonl(d / "corpus.jsonl")}
    queries = {str(x["_id"]): str(x.get("text") or "") for x in _jsonl(d / "queries.jsonl")}
    qpath = d / "qrels" / f"{split}.tsv"
    if not qpath.exists():
        raise DatasetError(f"{qpath}: missing qrels")
    qrels: dict[str, dict[str, int]] = {}
    with qpath.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        for n, row in enumerate(reader, 1):
            if not row or (n == 1 and not row[-1].strip().lstrip("-").isdigit()):
                continue  # header
            if len(row) < 3:
                raise DatasetError(f"{qpath}:{n}: expected query-id, corpus-id, score")
            qid, did, score = row[0], row[1], row[-1]
            try:
                qrels.setdefault(qid, {})[did] = int(float(score))
            except ValueError:
                raise DatasetError(f"{qpath}:{n}: score {score!r} is not a number") from None
    unknown = {q for q in qrels if q not in queries}
    if unknown:
        raise DatasetError(f"{qpath}: qrels name queries not in queries.jsonl: {sorted(unknown)[:5]}")
    return BeirDataset(corpus, {q: t for q, t in queries.items() if q in qrels}, qrels, d.name)


@dataclass
class RetrievalReport:
    dataset: str
    docs: int
    queries: int
    modes: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # per mode: mean query latency
    index_seconds: float = 0.0
    notices: list[str] = field(default_factory=list)
    runs: dict[str, dict[str, list[str]]] = field(default_factory=dict, repr=False)

    def to_dict(self, with_runs: bool = False) -> dict[str, Any]:
        d = {"dataset": self.dataset, "docs": self.docs, "queries": self.queries, "modes": self.modes,
             "mean_query_seconds": self.seconds, "index_seconds": self.index_seconds, "notices": self.notices}
        if with_runs:
            d["runs"] = self.runs
        return d


def dense_available(config: Config) -> str | None:
    """None when an embedder can be built from the config, else the reason it cannot."""
    from newsdesk.ask.embed import EmbeddingError, embedder_from_config

    try:
        emb = embedder_from_config(config)
    except EmbeddingError as e:
        return str(e)
    return None if emb is not None else 'embeddings disabled (embeddings.backend = "none")'


def evaluate_retrieval(ds: BeirDataset, config: Config | None = None, modes: Sequence[str] = MODES,
                       progress: Any = None, workdir: str | Path | None = None) -> RetrievalReport:
    """Index ``ds`` into a temporary store and score each mode."""
    from newsdesk.ask.retrieve import index_corpus, retrieve_ids
    from newsdesk.store import SQLiteStore

    config = config or Config()
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise ValueError(f"unknown mode(s) {bad}: use bm25, dense, hybrid")
    report = RetrievalReport(ds.name, len(ds.corpus), len(ds.queries))
    modes = list(modes)
    if any(m != "bm25" for m in modes):
        why = dense_available(config)
        if why:
            report.notices.append(f"dense and hybrid skipped: {why}")
            modes = [m for m in modes if m == "bm25"]
    with tempfile.TemporaryDirectory(dir=workdir, prefix="newsdesk-eval-") as tmp:
        store = SQLiteStore(Path(tmp) / "eval.db")
        try:
            t0 = time.perf_counter()
            index_corpus(store, config, ds.corpus, progress, embed=any(m != "bm25" for m in modes))
            report.index_seconds = round(time.perf_counter() - t0, 3)
            for mode in modes:
                run: dict[str, list[str]] = {}
                retrieve_ids(store, config, "warm up", k=1, mode=mode)  # model load is not query latency
                t0 = time.perf_counter()
                for qid, text in ds.queries.items():
                    run[qid] = [d for d, _ in retrieve_ids(store, config, text, k=100, mode=mode)]
                report.seconds[mode] = round((time.perf_counter() - t0) / max(len(ds.queries), 1), 5)
                report.modes[mode] = evaluate_run(run, ds.qrels)
                report.runs[mode] = run
        finally:
            store.close()
    return report
