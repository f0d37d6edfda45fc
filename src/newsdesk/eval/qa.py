"""Question-answering evaluation (``newsdesk eval qa``) and the naive-RAG baseline.

Dataset: JSON Lines (or a JSON list) of
``{"question", "answerable", "expected": [facts], "source": "file name" | null}``.

Metrics (all 0-1):

* ``fact_rate``: over answerable questions, the share of expected facts that
  appear in the answer (case-, space- and quote-insensitive substring match;
  thousands separators ignored). ``all_facts_rate``: share of answerable
  questions whose answer contains every fact.
* ``citation_accuracy``: over answerable questions, the share whose expected
  source document is among the cited sources.
* ``abstention_precision``: of the questions the system declined, the share
  that really were unanswerable. ``abstention_recall``: of the unanswerable
  questions, the share the system declined. A system that never abstains has
  recall 0 and undefined precision (reported as null).
* ``answer_words``: mean answer length, so a "fact rate" bought by pasting a
  whole chunk is visible.

With an LLM configured, ``eval.judge`` adds context relevance, context
coverage, correctness and faithfulness per question.

``baseline_system`` is the recipe newsdesk replaces: 1000/100 recursive
chunks, dense-only top-3, the answer is the first retrieved chunk verbatim,
never abstains. It runs on the same documents and the same questions.
"""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any, Callable, Sequence

from newsdesk.errors import NewsdeskError
from newsdesk.eval.metrics import precision_recall


class QADatasetError(NewsdeskError):
    """The QA dataset file is missing or malformed."""


@dataclass
class QAItem:
    question: str
    answerable: bool
    expected: list[str]
    source: str | None = None


@dataclass
class QAResult:
    answer: str
    citations: list[str]  # cited document sources (paths, URLs or names)
    abstained: bool
    passages: list[str] = field(default_factory=list)  # the context the answer was given


QASystem = Callable[[str], QAResult]


def load_qa(path: str | Path) -> list[QAItem]:
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except OSError as e:
        raise QADatasetError(f"{p}: cannot read: {e.strerror or e}") from None
    rows: list[tuple[str, Any]] = []
    stripped = raw.lstrip()
    if stripped.startswith("["):
        try:
            rows = [(f"{p}[{i}]", d) for i, d in enumerate(json.loads(raw))]
        except json.JSONDecodeError as e:
            raise QADatasetError(f"{p}: invalid JSON: {e}") from None
    else:
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    rows.append((f"{p}:{n}", json.loads(line)))
                except json.JSONDecodeError as e:
                    raise QADatasetError(f"{p}:{n}: invalid JSON: {e}") from None
    out = []
    for where, d in rows:
        if not isinstance(d, dict) or not str(d.get("question") or "").strip():
            raise QADatasetError(f"{where}: needs a non-empty 'question'")
        expected = d.get("expected") or []
        if isinstance(expected, str):
            expected = [expected]
        answerable = bool(d.get("answerable", bool(expected)))
        if answerable and not expected:
            raise QADatasetError(f"{where}: answerable question without 'expected' facts")
        out.append(QAItem(str(d["question"]), answerable, [str(x) for x in expected], d.get("source") or None))
    if not out:
        raise QADatasetError(f"{p}: no questions")
    return out


_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})


def _norm(text: str) -> str:
    t = unicodedata.normalize("NFKC", text or "").translate(_QUOTES).casefold()
    t = re.sub(r"(?<=\d)[,\u202f ](?=\d{3}\b)", "", t)  # 212,000 / 212 000 -> 212000
    return " ".join(t.split())


def contains_fact(answer: str, fact: str) -> bool:
    return _norm(fact) in _norm(answer)


def source_matches(expected: str, cited: str) -> bool:
    """A cited source names the expected document (file name, path suffix or URL suffix)."""
    e, c = expected.strip().casefold(), (cited or "").strip().casefold()
    if not e or not c:
        return False
    return c == e or c.endswith("/" + e) or c.endswith("\\" + e) or Path(c).name == e or c.endswith(":" + e)


@dataclass
class QuestionReport:
    question: str
    answerable: bool
    abstained: bool
    facts_found: int
    facts: int
    cited_expected: bool | None
    answer: str
    citations: list[str]
    answer_words: int
    judge: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class QAReport:
    system: str
    questions: int = 0
    answerable: int = 0
    fact_rate: float | None = None
    all_facts_rate: float | None = None
    citation_accuracy: float | None = None
    abstention_precision: float | None = None
    abstention_recall: float | None = None
    answer_words: float | None = None
    judge: dict[str, float | None] = field(default_factory=dict)
    judge_errors: int = 0
    details: list[QuestionReport] = field(default_factory=list)

    def to_dict(self, with_details: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not with_details:
            d.pop("details")
        return d


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def evaluate_qa(items: Sequence[QAItem], system: QASystem, *, name: str = "newsdesk", judge_llm: Any = None,
                progress: Any = None) -> QAReport:
    """Run every question through ``system`` and score the results (optionally with an LLM judge)."""
    from newsdesk.eval.judge import METRICS, judge

    rep = QAReport(system=name, questions=len(items))
    tp = fp = fn = 0
    fact_scores: list[float] = []
    all_facts: list[bool] = []
    cites: list[bool] = []
    judged: dict[str, list[float]] = {m: [] for m in METRICS}
    for it in items:
        res = system(it.question)
        found = sum(contains_fact(res.answer, f) for f in it.expected) if not res.abstained else 0
        cited = None
        if it.answerable and it.source:
            cited = any(source_matches(it.source, c) for c in res.citations) and not res.abstained
            cites.append(cited)
        if it.answerable:
            fact_scores.append(found / len(it.expected))
            all_facts.append(found == len(it.expected))
        if res.abstained and not it.answerable:
            tp += 1
        elif res.abstained and it.answerable:
            fp += 1
        elif not res.abstained and not it.answerable:
            fn += 1
        qr = QuestionReport(it.question, it.answerable, res.abstained, found, len(it.expected), cited,
                            res.answer, res.citations, len(res.answer.split()))
        if judge_llm is not None:
            js = judge(judge_llm, question=it.question, answer=res.answer, passages=res.passages,
                       expected=it.expected, answerable=it.answerable)
            qr.judge = [j.to_dict() for j in js]
            for j in js:
                if j.score is None:
                    rep.judge_errors += 1
                else:
                    judged[j.metric].append(j.score)
        rep.details.append(qr)
        if progress is not None:
            progress.advance(1)
    rep.answerable = len(fact_scores)
    rep.fact_rate = _r(mean(fact_scores)) if fact_scores else None
    rep.all_facts_rate = _r(float(mean(all_facts))) if all_facts else None
    rep.citation_accuracy = _r(float(mean(cites))) if cites else None
    p, r = precision_recall(tp, fp, fn)
    rep.abstention_precision, rep.abstention_recall = _r(p), _r(r)
    rep.answer_words = _r(mean(d.answer_words for d in rep.details)) if rep.details else None
    if judge_llm is not None:
        rep.judge = {m: (_r(mean(v)) if v else None) for m, v in judged.items()}
    return rep


# --------------------------------------------------------------------------- systems under test

def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        v = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        if v is not None:
            return v
    return default


def coerce_result(res: Any) -> QAResult:
    """Read an answer object/dict from ``newsdesk.ask.answer`` into a ``QAResult``."""
    answer = str(_get(res, "answer", "text", default="") or "")
    cits = _get(res, "citations", "sources", default=[]) or []
    cited = []
    for c in cits:
        if isinstance(c, str):
            cited.append(c)
        else:
            s = _get(c, "source", "path", "url", "title")
            if s:
                cited.append(str(s))
    passages = [str(_get(h, "text", default="")) for h in (_get(res, "hits", "passages", "context", default=[]) or [])]
    if not passages:
        passages = [str(_get(c, "passage", "text", "quote", default="")) for c in cits if not isinstance(c, str)]
    abstained = bool(_get(res, "abstained", "abstain", default=False))
    return QAResult(answer, cited, abstained, [p for p in passages if p])


def newsdesk_system(store: Any, config: Any, *, use_llm: bool = True) -> QASystem:
    """newsdesk's own answer path (``newsdesk.ask.answer.ask``) over ``store``.

    ``use_llm=False`` forces the extractive path even when an LLM is configured
    (the LLM then only judges).
    """
    from newsdesk.ask.answer import ask

    def run(question: str) -> QAResult:
        return coerce_result(ask(store, config, question, llm=None if use_llm else False))

    return run


def index_docs(store: Any, config: Any, docs_dir: str | Path, progress: Any = None) -> int:
    """Index every supported file under ``docs_dir`` with the ask pipeline. Returns the document count."""
    from newsdesk.ask.kb import index_documents
    from newsdesk.collect.documents import load_paths

    docs = list(load_paths([str(docs_dir)]))
    index_documents(store, config, docs, progress)
    return len(docs)


@dataclass
class _BaselineChunk:
    source: str
    text: str


class BaselineRAG:
    """The naive recipe: 1000/100 recursive chunks, dense top-3, answer = first chunk, never abstains."""

    name = "baseline (1000/100 chunks, dense top-3, first chunk, never abstains)"

    def __init__(self, docs_dir: str | Path, embedder: Any = None, size: int = 1000, overlap: int = 100, k: int = 3):
        from newsdesk.ask.chunk import split_text
        from newsdesk.collect.documents import load_paths

        if embedder is None:
            from newsdesk.ask.embed import LocalEmbedder

            embedder = LocalEmbedder()
        self.embedder = embedder
        self.k = k
        self.chunks: list[_BaselineChunk] = []
        for doc in load_paths([str(docs_dir)]):
            for piece in split_text(doc.text, size, overlap):
                if piece.text.strip():
                    self.chunks.append(_BaselineChunk(doc.source, piece.text))
        self.matrix = embedder.embed([c.text for c in self.chunks])

    def __call__(self, question: str) -> QAResult:
        import numpy as np

        q = self.embedder.embed([question])[0]
        scores = self.matrix @ q
        top = np.argsort(-scores)[: self.k]
        hits = [self.chunks[i] for i in top]
        return QAResult(answer=hits[0].text if hits else "", citations=[h.source for h in hits], abstained=False,
                        passages=[h.text for h in hits])


def run_newsdesk_on_docs(items: Sequence[QAItem], config: Any, docs_dir: str | Path, *, judge_llm: Any = None,
                         use_llm: bool = True, progress: Any = None, workdir: str | Path | None = None) -> QAReport:
    """Index ``docs_dir`` into a temporary store and evaluate newsdesk's answer path on it."""
    from newsdesk.store import SQLiteStore

    with tempfile.TemporaryDirectory(dir=workdir, prefix="newsdesk-qa-") as tmp:
        store = SQLiteStore(Path(tmp) / "qa.db")
        try:
            index_docs(store, config, docs_dir)
            return evaluate_qa(items, newsdesk_system(store, config, use_llm=use_llm), judge_llm=judge_llm, progress=progress)
        finally:
            store.close()
