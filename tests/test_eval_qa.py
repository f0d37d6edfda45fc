"""``eval qa``: dataset loading, metrics against hand-computed values, the LLM judge over a local
OpenAI-compatible server, the baseline, and the CLI end to end on tests/fixtures/qa."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from typer.testing import CliRunner

from newsdesk.cli.main import app
from newsdesk.eval.judge import JUDGE_SYSTEM, METRICS, PROMPTS, judge, parse_judgement
from newsdesk.eval.qa import QAItem, QAResult, QADatasetError, contains_fact, evaluate_qa, load_qa, source_matches

QA = Path(__file__).parent / "fixtures" / "qa"
ROOT = Path(__file__).parent.parent


def test_load_fixture_and_json_list(tmp_path: Path) -> None:
    items = load_qa(QA / "qa.jsonl")
    assert len(items) == 20 and sum(i.answerable for i in items) == 14
    assert all((QA / "docs" / i.source).exists() for i in items if i.answerable)
    p = tmp_path / "q.json"
    p.write_text(json.dumps([{"question": "Q?", "answerable": True, "expected": "x", "source": "a.md"}]), encoding="utf-8")
    assert load_qa(p)[0].expected == ["x"]


def test_load_errors(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"question": "ok?", "answerable": false}\n{"question": "", "answerable": false}\n', encoding="utf-8")
    with pytest.raises(QADatasetError, match=r"bad.jsonl:2"):
        load_qa(p)
    p.write_text('{"question": "What?", "answerable": true, "expected": []}\n', encoding="utf-8")
    with pytest.raises(QADatasetError, match="without 'expected'"):
        load_qa(p)


def test_fact_and_source_matching() -> None:
    assert contains_fact("Visits rose to 212 000 last year", "212,000")
    assert contains_fact("It costs $8.6\u00a0Million", "$8.6 million")
    assert not contains_fact("It costs $8.5 million", "$8.6 million")
    assert source_matches("ferry.txt", "/home/u/docs/ferry.txt")
    assert not source_matches("ferry.txt", "/home/u/docs/old-ferry.txt")


ITEMS = [
    QAItem("q1", True, ["alpha", "beta"], "a.md"),
    QAItem("q2", True, ["gamma"], "b.md"),
    QAItem("q3", True, ["delta"], "c.md"),
    QAItem("u1", False, [], None),
    QAItem("u2", False, [], None),
]
ANSWERS = {
    "q1": QAResult("alpha is here [1]", ["/x/a.md"], False, ["alpha is here"]),  # 1/2 facts, cited
    "q2": QAResult("gamma and more", ["/x/z.md"], False),  # 1/1, wrong citation
    "q3": QAResult("I don't know based on your documents.", ["/x/c.md"], True),  # wrongly abstained
    "u1": QAResult("I don't know based on your documents.", [], True),  # rightly abstained
    "u2": QAResult("an invented answer", ["/x/a.md"], False),  # should have abstained
}


def test_metrics_hand_computed() -> None:
    rep = evaluate_qa(ITEMS, lambda q: ANSWERS[q], name="fake")
    assert rep.fact_rate == pytest.approx((0.5 + 1 + 0) / 3, abs=1e-4)
    assert rep.all_facts_rate == pytest.approx(1 / 3, abs=1e-4)
    assert rep.citation_accuracy == pytest.approx(1 / 3, abs=1e-4)  # abstaining is not citing
    assert rep.abstention_precision == 0.5  # 2 abstentions, 1 correct
    assert rep.abstention_recall == 0.5  # 2 unanswerable, 1 declined
    never = evaluate_qa(ITEMS, lambda q: QAResult("alpha beta gamma delta", ["a.md", "b.md", "c.md"], False))
    assert never.abstention_recall == 0.0 and never.abstention_precision is None and never.fact_rate == 1.0


# --------------------------------------------------------------------------- local OpenAI-compatible judge

class _JudgeHandler(BaseHTTPRequestHandler):
    calls: list[dict] = []

    def log_message(self, *a: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(body)
        system, user = body["messages"][0]["content"], body["messages"][1]["content"]
        if system != JUDGE_SYSTEM:
            reply = "not a judge request"
        elif "Metric: answer correctness." in user:
            ok = "I don't know" in user if "Answerable from the documents: no" in user else "ozone" in user.lower().split("system answer:")[1]
            reply = json.dumps({"score": 1 if ok else 0, "explanation": "ozone stated" if ok else "fact missing\nsecond line"})
        elif "Metric: faithfulness." in user:
            reply = 'Sure! {"score": 1.7, "explanation": "all claims supported"}'  # clamped to 1
        elif "Metric: context relevance." in user:
            reply = "I think it is fine"  # malformed: recorded as an error
        else:
            reply = json.dumps({"score": 0.5, "explanation": "half of the facts"})
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def judge_server() -> Iterator[str]:
    _JudgeHandler.calls = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _JudgeHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_judge_over_http(judge_server: str) -> None:
    from newsdesk.ask.llm import OpenAIChat

    llm = OpenAIChat(judge_server, "judge-model", timeout=10)
    js = {j.metric: j for j in judge(llm, question="What stage is added?", answer="An ozone stage [1].",
                                     passages=["The project adds an ozone disinfection stage."],
                                     expected=["ozone"], answerable=True)}
    assert set(js) == set(METRICS)
    assert js["correctness"].score == 1.0 and js["correctness"].explanation == "ozone stated"
    assert js["faithfulness"].score == 1.0
    assert js["context_coverage"].score == 0.5
    assert js["context_relevance"].score is None and "no JSON" in (js["context_relevance"].error or "")
    sent = _JudgeHandler.calls[0]
    assert sent["model"] == "judge-model" and sent["temperature"] == 0.0
    assert '<passage id="1">' in sent["messages"][1]["content"]


def test_parse_judgement_one_line_explanation() -> None:
    j = parse_judgement("correctness", '{"score": 0.25, "explanation": "one\\ntwo"}')
    assert j.score == 0.25 and j.explanation == "one two"
    assert parse_judgement("x", '{"score": "high"}').error


def test_judge_prompts_are_published_verbatim() -> None:
    doc = (ROOT / "docs" / "judge-prompts.md").read_text(encoding="utf-8")
    assert JUDGE_SYSTEM in doc
    for prompt in PROMPTS.values():
        assert prompt in doc


@pytest.mark.slow
def test_cli_qa_with_baseline_and_judge(home: Path, judge_server: str) -> None:
    (home / "newsdesk.toml").write_text(
        f'[llm]\nbackend = "openai"\nbase_url = "{judge_server}"\nmodel = "judge-model"\ntimeout = 10\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["--home", str(home), "eval", "qa", "--dataset", str(QA / "qa.jsonl"),
                                   "--docs", str(QA / "docs"), "--extractive", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    nd, base = data["systems"]
    assert nd["system"] == "newsdesk" and base["system"].startswith("baseline")
    # the baseline never abstains: recall 0, precision undefined
    assert base["abstention_recall"] == 0.0 and base["abstention_precision"] is None
    assert nd["abstention_recall"] > 0 and nd["abstention_precision"] > 0
    # newsdesk answers in a sentence or three; the baseline pastes a whole chunk
    assert nd["answer_words"] < base["answer_words"] / 2
    # judge ran for every question and metric; malformed context-relevance replies counted as errors
    assert nd["judge_errors"] == 20 and nd["judge"]["context_relevance"] is None
    assert nd["judge"]["faithfulness"] == 1.0 and 0 < nd["judge"]["correctness"] < 1
    q = next(d for d in nd["details"] if d["question"].startswith("What new treatment stage"))
    assert {j["metric"] for j in q["judge"]} == set(METRICS)
