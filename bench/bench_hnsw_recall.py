"""How much of the HNSW recall loss in bench_latency is the random vectors?

Builds hnswlib indexes with newsdesk's parameters (``HNSW_M``,
``HNSW_EF_CONSTRUCTION``, ``HNSW_EF_SEARCH`` from ``ask/dense.py``) over (a) uniformly random unit vectors, as in
bench_latency, and (b) clustered vectors (1,000 centres, each point a centre
plus noise), closer to how real sentence embeddings are distributed, and
measures recall@10 against exact search. Queries are drawn the same way as
the data. Not a claim about any specific corpus.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from common import write_result

DIM = 384


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall(data: np.ndarray, queries: np.ndarray) -> dict:
    import hnswlib

    from newsdesk.ask.dense import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

    t0 = time.perf_counter()
    idx = hnswlib.Index(space="cosine", dim=DIM)
    idx.init_index(max_elements=len(data), ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M)
    idx.add_items(data, np.arange(len(data)))
    build = time.perf_counter() - t0
    out = {"build_seconds": round(build, 2)}
    exact = np.argsort(-(queries @ data.T), axis=1)[:, :10]
    for name, e in (("newsdesk_ef", HNSW_EF_SEARCH), ("ef_800", 800)):
        idx.set_ef(e)
        labels, _ = idx.knn_query(queries, k=10)
        out[f"recall@10_{name}"] = round(float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(labels, exact)])), 4)
    return out


def run(quick: bool) -> dict:
    n = 20_000 if quick else 50_000
    rng = np.random.default_rng(3)
    rand = _unit(rng.standard_normal((n, DIM)))
    rand_q = _unit(rng.standard_normal((50, DIM)))
    centres = rng.standard_normal((1000, DIM))
    assign = rng.integers(0, 1000, n)
    clus = _unit(centres[assign] + 0.9 * rng.standard_normal((n, DIM)))
    clus_q = _unit(centres[rng.integers(0, 1000, 50)] + 0.9 * rng.standard_normal((50, DIM)))
    from newsdesk.ask.dense import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

    return {"vectors": n, "params": f"M={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION}, ef={HNSW_EF_SEARCH} (newsdesk); ef=800 for comparison",
            "random_unit_vectors": recall(rand, rand_q), "clustered_vectors": recall(clus, clus_q)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    write_result("hnsw_recall", run(a.quick), a.quick)
