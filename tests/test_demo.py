"""`newsdesk demo` end to end, as a user runs it: a subprocess on a fresh directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from newsdesk.demo.data import DATA_DIR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "newsdesk", "--quiet", "demo", "--dir", str(root), "--json"],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_demo_writes_three_formats(demo_run: dict) -> None:
    files = [Path(p) for p in demo_run["briefing_files"]]
    assert sorted(p.suffix for p in files) == [".html", ".json", ".md"]
    for p in files:
        assert p.exists() and p.stat().st_size > 500
    b = json.loads(next(p for p in files if p.suffix == ".json").read_text(encoding="utf-8"))
    schema = json.loads((Path(__import__("newsdesk").__file__).parent / "schemas" / "briefing.schema.json").read_text())
    jsonschema.validate(b, schema)


def test_demo_names_the_malformed_feed_and_still_briefs(demo_run: dict) -> None:
    assert len(demo_run["feeds_failed"]) == 1
    assert "truncated" in demo_run["feeds_failed"][0]
    assert demo_run["briefing"]["stories"] > 10
    assert demo_run["briefing"]["words"] <= 1500


def test_demo_briefing_passes_its_own_check(demo_run: dict) -> None:
    assert demo_run["eval"]["ok"], demo_run["eval"]
    assert demo_run["briefing"]["faithfulness"] == 1.0


def test_demo_answers_one_question_and_declines_another(demo_run: dict) -> None:
    questions = json.loads((DATA_DIR / "questions.json").read_text(encoding="utf-8"))
    answered, declined = demo_run["answers"]
    assert not answered["abstained"] and answered["citations"]
    expected = next(q for q in questions if q["question"] == answered["question"])
    assert any(f.lower() in answered["answer"].lower() for f in expected["expected"]), answered["answer"]
    assert any(expected["source"] in (c.get("source") or "") for c in answered["citations"])
    assert declined["abstained"] is True
    assert declined["answer"].startswith("I don't know")
