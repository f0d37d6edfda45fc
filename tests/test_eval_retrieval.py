"""``eval retrieval`` on the project's BEIR-format fixture: loading, errors, and real scores per mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsdesk.cli.main import app
from newsdesk.config import parse_config
from newsdesk.eval.retrieval import DatasetError, evaluate_retrieval, load_beir

BEIR = Path(__file__).parent / "fixtures" / "beir"


def test_load_fixture() -> None:
    ds = load_beir(BEIR)
    assert len(ds.corpus) == 60 and len(ds.queries) == 27
    assert ds.qrels["q10"] == {"f1": 2, "f2": 1, "f5": 1}
    assert all(d in ds.corpus for q in ds.qrels.values() for d in q)


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="corpus.jsonl"):
        load_beir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text('{"_id": "a", "text": "x"}\n{broken\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"corpus.jsonl:2"):
        load_beir(tmp_path)


def test_bm25_scores_on_fixture() -> None:
    cfg = parse_config('[embeddings]\nbackend = "none"\n')
    rep = evaluate_retrieval(load_beir(BEIR), cfg, ["bm25", "dense", "hybrid"])
    # dense is unavailable with backend none: skipped with a notice, not silently reported as BM25
    assert list(rep.modes) == ["bm25"] and rep.notices
    m = rep.modes["bm25"]
    assert m["queries"] == 27
    assert 0.6 < m["ndcg@10"] <= 1.0
    assert m["recall@100"] >= m["recall@10"]
    # the run really ranks the expected document first for an exact-term query
    assert rep.runs["bm25"]["q12"][0] == "f4"


@pytest.mark.slow
def test_all_modes_cli_json(home: Path) -> None:
    res = CliRunner().invoke(app, ["--home", str(home), "eval", "retrieval", "--dataset", str(BEIR), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data["modes"]) == {"bm25", "dense", "hybrid"}
    # paraphrase queries ("aurora borealis" -> "northern lights") need the dense retriever
    assert data["modes"]["dense"]["recall@100"] > data["modes"]["bm25"]["recall@100"]
    assert data["modes"]["hybrid"]["ndcg@10"] >= data["modes"]["bm25"]["ndcg@10"]


def test_cli_bad_mode(home: Path) -> None:
    res = CliRunner().invoke(app, ["--home", str(home), "eval", "retrieval", "--dataset", str(BEIR), "--modes", "bm25,splade"])
    assert res.exit_code == 2
