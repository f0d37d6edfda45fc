"""Ranking and classification metrics for the evaluation harness.

Implemented here (a few lines each) rather than pulled from pytrec_eval so the
definitions are visible and testable. They follow the BEIR / trec_eval
conventions so numbers are comparable with published ones:

* nDCG@k with *linear* gain (``rel / log2(rank + 1)``), ideal ranking from the
  graded qrels; relevance <= 0 counts as not relevant.
* Recall@k: relevant documents found in the top k / all relevant documents.
* MRR@k: 1 / rank of the first relevant document within the top k, else 0.

All scores are on a 0-1 scale, higher is better.
"""

from __future__ import annotations

import math
from statistics import mean
from typing import Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]  # query id -> doc id -> graded relevance
Run = Mapping[str, Sequence[str]]  # query id -> ranked doc ids


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = dcg(ideal)
    if idcg == 0:
        return 0.0
    gains = [max(rels.get(d, 0), 0) for d in ranked[:k]]
    return dcg(gains) / idcg


def recall_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def evaluate_run(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10, Recall@10, Recall@100 and MRR@10 over the queries that have qrels."""
    qids = [q for q in qrels if any(r > 0 for r in qrels[q].values())]
    if not qids:
        return {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0, "queries": 0}
    out = {
        "ndcg@10": mean(ndcg_at_k(run.get(q, []), qrels[q], 10) for q in qids),
        "recall@10": mean(recall_at_k(run.get(q, []), qrels[q], 10) for q in qids),
        "recall@100": mean(recall_at_k(run.get(q, []), qrels[q], 100) for q in qids),
        "mrr@10": mean(mrr_at_k(run.get(q, []), qrels[q], 10) for q in qids),
    }
    return {**{k: round(v, 4) for k, v in out.items()}, "queries": len(qids)}


def precision_recall(tp: int, fp: int, fn: int) -> tuple[float | None, float | None]:
    """Precision and recall; None when undefined (nothing predicted / nothing to find)."""
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    return p, r
