"""Ranking metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from newsdesk.eval.metrics import evaluate_run, mrr_at_k, ndcg_at_k, precision_recall, recall_at_k

RELS = {"d1": 2, "d2": 1, "d3": 0, "d4": 1}


def test_ndcg_hand_computed() -> None:
    ranked = ["d3", "d1", "d5", "d2"]
    # DCG = 0/log2(2) + 2/log2(3) + 0/log2(4) + 1/log2(5)
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    # ideal: 2, 1, 1 -> 2/1 + 1/log2(3) + 1/2
    idcg = 2 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(ranked, RELS, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, RELS, 10) == pytest.approx(0.5406, abs=1e-4)


def test_ndcg_perfect_and_empty() -> None:
    assert ndcg_at_k(["d1", "d2", "d4"], RELS) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], RELS) == 0.0
    assert ndcg_at_k(["d1"], {"d1": 0}) == 0.0


def test_ndcg_cutoff() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["d1"]
    assert ndcg_at_k(ranked, RELS, 10) == 0.0
    assert ndcg_at_k(ranked, RELS, 11) > 0


def test_recall() -> None:
    ranked = ["d3", "d1", "d5", "d2"]
    assert recall_at_k(ranked, RELS, 10) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, RELS, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, {}, 10) == 0.0


def test_mrr() -> None:
    assert mrr_at_k(["d3", "d5", "d4"], RELS) == pytest.approx(1 / 3)
    assert mrr_at_k(["d1"], RELS) == 1.0
    assert mrr_at_k(["d3"] * 10 + ["d1"], RELS, 10) == 0.0


def test_evaluate_run_means_over_queries_with_qrels() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}
    run = {"q1": ["a"], "q2": ["x", "b"]}
    m = evaluate_run(run, qrels)
    assert m["queries"] == 2
    assert m["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert m["recall@10"] == 1.0
    assert m["ndcg@10"] == pytest.approx(round((1 + 1 / math.log2(3)) / 2, 4))


def test_precision_recall() -> None:
    assert precision_recall(3, 1, 2) == (0.75, 0.6)
    assert precision_recall(0, 0, 0) == (None, None)
