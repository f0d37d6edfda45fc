"""Answers "where an answer is grounded": cited, extractive by default, abstaining when evidence is weak.

Pipeline position: retrieve (``ask.retrieve``) -> **answer** -> CLI / web app.

Extractive path (default, no LLM): the sentences of the top passages are scored
against the question -- coverage of the question's content terms (sentence and
its neighbours, document title), embedding similarity (one batched encode of
the best lexical candidates only), answer-type cues (a number for "how many",
a year or date for "when", a name for "who") and the passage's retrieval rank.
The best 1-3 sentences are returned verbatim, each with its citation. When the
best evidence score is under ``config.ask.abstain_threshold`` (calibrated; see
docs/ask.md) the answer is "I don't know based on your documents." and the
closest sources are listed.

LLM path (``config.llm.backend`` or ``llm=``): the model answers from the
delimited passages with [n] markers; every sentence is checked with
``guard.grounding.support`` against its cited passages and unsupported ones are
removed. Nothing supported left, a malformed reply or a timeout -> the
extractive answer with ``path = "llm_fallback"``.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from newsdesk.ask.llm import ABSTAIN_TEXT, SYSTEM_PROMPT, LLM, LLMError, PromptPassage, build_prompt, llm_from_config
from newsdesk.ask.retrieve import Hit, retrieve
from newsdesk.config import Config
from newsdesk.brief.sentences import split_sentences as split_text_sentences
from newsdesk.guard.grounding import STOPWORDS, content_terms, normalize_ws, strip_citations, support
from newsdesk.store.documents import Filters

# Calibrated on the labelled set in tests/ask_helpers.py (see docs/ask.md): the midpoint of the
# widest gap between answerable and unanswerable questions, all-MiniLM-L6-v2 + hybrid retrieval.
DEFAULT_ABSTAIN_THRESHOLD = 0.50
# With embeddings off the evidence score is lexical only and runs higher; its own threshold.
DEFAULT_ABSTAIN_THRESHOLD_LEXICAL = 0.53

TITLE_CREDIT = 1.0  # question terms found in the document title/heading count as covered for every sentence
NOVELTY = 0.2  # bonus for sentences that add terms the question does not contain
_Q_WORDS = frozenset("""what which who whom whose when where why how many much does did do is are was were
    can could should would will tell give list name describe explain according document documents report
    mention mentioned say says said""".split())
_NUM = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
                  r"forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|half|"
                  r"percent|daily|weekly|monthly|yearly|annually|every|quarter|third|twice|once|double|triple)\b", re.I)
_MONEY_Q = re.compile(r"\b(?:cost|costs|price|pay|pays|paid|fee|fees|fine|fines|budget|spend|spent|raise|raised|"
                      r"fund|funding|contribut\w*|charge|charged|salary|worth|fare|fares)\b", re.I)
_MONEY = re.compile(r"[$€£¥]\s?\d|\b\d[\d,.]*\s?(?:dollars?|cents?|euros?|pounds?|million|billion)\b|\bfree\b", re.I)
_YEAR_OR_DATE = re.compile(
    r"\b(?:1[89]\d{2}|20\d{2})\b|\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b|\b(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_INJECTION: Any = None


_IRREGULAR = {
    "took": "take", "taken": "take", "takes": "take", "went": "go", "gone": "go", "made": "make", "got": "get",
    "gave": "give", "given": "give", "began": "begin", "begun": "begin", "ran": "run", "spent": "spend",
    "built": "build", "brought": "bring", "bought": "buy", "sold": "sell", "paid": "pay", "won": "win",
    "lost": "lose", "grew": "grow", "grown": "grow", "rose": "rise", "risen": "rise", "fell": "fall",
    "fallen": "fall", "left": "leave", "met": "meet", "held": "hold", "kept": "keep", "found": "find",
    "told": "tell", "thought": "think", "wrote": "write", "written": "write", "chose": "choose",
    "chosen": "choose", "saw": "see", "seen": "see", "knew": "know", "known": "know", "led": "lead",
    "cost": "cost", "costs": "cost", "children": "child", "people": "person", "men": "man", "women": "woman",
}


def _stem(w: str) -> str:
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    for suf in ("ations", "ation", "ings", "ing", "ies", "ied", "edly", "ed", "es", "ly", "s"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
    return w


def _clean_term(t: str) -> str:
    return re.sub(r"['’]s?$", "", t)


def _terms(text: str) -> set[str]:
    return {_stem(_clean_term(t)) for t in content_terms(text)}


def _question_terms(question: str) -> dict[str, str]:
    """Content terms of the question: ``{stem: surface form}`` (question words and years removed)."""
    out: dict[str, str] = {}
    for t in content_terms(question):
        t = _clean_term(t)
        if not t or t in _Q_WORDS or t in STOPWORDS or re.fullmatch(r"(?:19|20)\d{2}", t):
            continue
        out.setdefault(_stem(t), t)
    return out


def term_weights(store: Any, qterms: dict[str, str]) -> dict[str, float]:
    """IDF-style weight of each question term over the indexed chunks (FTS5 document frequency).

    A term no document contains gets the highest weight: a question whose key term appears
    nowhere in the library is most likely unanswerable from it.
    """
    if not qterms:
        return {}
    try:
        # all layers together: the ratio is what matters, and an FTS-only COUNT never touches the
        # chunks table (a join per matching row made this the slowest step of ask at 10k chunks)
        n = store.query("SELECT COUNT(*) FROM chunks")[0][0]
        out = {}
        for stem, surface in qterms.items():
            df = store.query("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (f'"{surface}"',))[0][0]
            out[stem] = math.log((n + 1) / (df + 0.5)) + 1.0
        return out
    except Exception:  # FTS syntax edge cases: fall back to equal weights
        return {s: 1.0 for s in qterms}


def _answer_type(question: str) -> str | None:
    q = question.lower()
    if re.search(r"\bhow (?:many|much|long|far|big|large|often|old|tall|high|deep|heavy|fast)\b|"
                 r"\bwhat (?:is |was |are |were )?(?:the )?(?:percentage|share|number|amount|proportion|fraction|"
                 r"rate|price|cost|population|size|height|length|weight|distance|speed|temperature|capacity|"
                 r"budget|fine|fee|salary|ratio|total|minimum|maximum|average)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (?:year|date|day|month|time)\b|\bwhich (?:year|date|day|month)\b", q):
        return "date"
    if re.search(r"\bwho\b|\bwhich (?:company|organisation|organization|person|agency|team|city|country)\b", q):
        return "name"
    return None


def _is_injection(text: str) -> bool:
    global _INJECTION
    if _INJECTION is None:
        try:
            from newsdesk.guard.screen import find_injection

            _INJECTION = find_injection
        except ImportError:  # pragma: no cover
            _INJECTION = lambda _t: None  # noqa: E731
    return bool(_INJECTION(text))


@dataclass
class Candidate:
    hit_index: int
    text: str  # verbatim (whitespace-normalised) sentence
    lex: float = 0.0
    cov: float = 0.0
    sim: float = 0.0
    cue: float = 0.0
    score: float = 0.0
    evidence: float = 0.0
    novelty: float = 0.0


_LEAD = re.compile(r"^(?:[-*•]\s+|\d{1,3}[.)]\s+|\[\d{1,2}:\d{2}(?::\d{2})?\]\s*|\(\d{1,2}:\d{2}(?::\d{2})?\)\s*)+")
_END_PUNCT = set(".!?…:;\"”'’)]")


def _looks_like_lines(block: str) -> bool:
    """Markdown-style blocks where every line ends a sentence (transcripts, lists), unlike wrapped PDF text."""
    lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
    if len(lines) < 2:
        return False
    ends = sum(1 for ln in lines if ln[-1] in ".!?…:\"”'’)")
    return ends >= len(lines) - (1 if len(lines) >= 4 else 0)


def _separate_headings(text: str) -> str:
    """Put a paragraph break around short unpunctuated lines followed by a capitalised line (PDF headings)."""
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    longest = max(len(ln.strip()) for ln in lines)
    out = []
    for i, ln in enumerate(lines):
        st = ln.strip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if (st and st[-1] not in _END_PUNCT and len(st) < 0.6 * longest and nxt[:1].isupper()
                and not st[:1].islower()):
            out += ["", ln, ""]
        else:
            out.append(ln)
    return "\n".join(out)


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, whitespace-normalised, in order (headings and fragments dropped)."""
    out = []
    bare = "\n".join(_LEAD.sub("", ln.strip()) for ln in text.split("\n"))
    starts = [m.group(0)[-1] for m in re.finditer(r"(?:^|[.!?]\s+)[^\W\d_]", bare, re.M)]
    lower_ok = bool(starts) and sum(c.islower() for c in starts) > len(starts) / 2  # unpunctuated transcripts
    for block in re.split(r"\n\s*\n", _separate_headings(text)):
        block = block.strip()
        if not block or block.startswith("#"):
            continue
        for line in block.split("\n") if _looks_like_lines(block) else [block]:
            flat = normalize_ws(line)
            if line is not block and flat and flat[-1] not in ".!?…:\"”'’)":
                continue  # a heading or label line
            for s in split_text_sentences(flat):
                s = _LEAD.sub("", s.strip())
                if len(s) < 25 or len(s.split()) < 5:
                    continue
                if s[-1] not in _END_PUNCT and len(s) < 120 and not lower_ok:
                    continue  # a heading, label or byline, not a statement
                if s[0].islower() and not lower_ok:
                    continue  # a fragment: the passage starts mid-sentence
                out.append(s)
    return out


def _candidates(question: str, hits: Sequence[Hit], weights: dict[str, float], atype: str | None,
                max_passages: int) -> list[Candidate]:
    cands: list[Candidate] = []
    q = set(weights)
    total = sum(weights.values()) or 1.0
    money = bool(_MONEY_Q.search(question))
    for hi, h in enumerate(hits[:max_passages]):
        sents = split_sentences(h.text)
        title_terms = _terms(h.title or "") | _terms(h.heading or "")
        sent_terms = [_terms(s) for s in sents]
        for si, s in enumerate(sents):
            if _is_injection(s):
                continue
            own = sent_terms[si] & q
            ctx = set()
            if si > 0:
                ctx |= sent_terms[si - 1]
            if si + 1 < len(sents):
                ctx |= sent_terms[si + 1]
            topic = (title_terms & q) - own  # the document is about these: they hold for every sentence
            ctx = (ctx & q) - own - topic
            cov = (sum(weights[t] for t in own) + TITLE_CREDIT * sum(weights[t] for t in topic)
                   + 0.5 * sum(weights[t] for t in ctx)) / total if q else 0.0
            # an answer adds something the question does not already say
            st = sent_terms[si]
            novelty = len(st - q - title_terms) / len(st) if st else 0.0
            cue = 0.0
            if atype == "number":
                cue = 0.1 if _NUM.search(s) else -0.1
            elif atype == "date":
                cue = 0.1 if _YEAR_OR_DATE.search(s) else -0.1
            elif atype == "name":
                cue = 0.05 if _NAME.search(s) else -0.1
            if money and atype == "number":
                cue += 0.05 if _MONEY.search(s) else -0.05
            prior = 0.08 / (1 + hi)
            year_pen = -0.25 if h.year_match is False else 0.0
            cands.append(Candidate(hi, s, lex=cov + cue + prior + year_pen + NOVELTY * novelty, cov=cov,
                                   cue=cue + year_pen, novelty=novelty))
    return cands


def _score(question: str, cands: list[Candidate], qvec: np.ndarray | None, embedder: Any,
           hits: Sequence[Hit], top_m: int = 5) -> None:
    """Final score and evidence for the best lexical candidates (embedding similarity computed once, batched)."""
    cands.sort(key=lambda c: -c.lex)
    top = cands[:top_m]
    sims = None
    if qvec is not None and embedder is not None and top:
        try:
            from newsdesk.ask.embed import embed_cached

            vecs = embed_cached(embedder, [c.text for c in top])
            sims = vecs @ qvec.astype(np.float32)
        except Exception:
            sims = None
    for i, c in enumerate(top):
        c.sim = float(sims[i]) if sims is not None else 0.0
        if sims is not None:
            c.score = 0.45 * c.cov + 0.55 * c.sim + c.cue + 0.08 / (1 + c.hit_index) + NOVELTY * c.novelty
            c.evidence = 0.5 * min(c.cov, 1.0) + 0.5 * max(c.sim, 0.0) + min(c.cue, 0.0)
        else:
            c.score = c.lex
            c.evidence = min(c.cov, 1.0) + min(c.cue, 0.0)
    for c in cands[top_m:]:
        c.score = -1.0
    cands.sort(key=lambda c: -c.score)


def _threshold(config: Config, lexical: bool) -> float:
    if config.ask.abstain_threshold is not None:
        return float(config.ask.abstain_threshold)
    return DEFAULT_ABSTAIN_THRESHOLD_LEXICAL if lexical else DEFAULT_ABSTAIN_THRESHOLD


def _citation(h: Hit, passage: str | None = None) -> dict[str, Any]:
    text = normalize_ws(h.text)
    if passage:
        i = text.find(passage)
        if i >= 0 and len(text) > 600:
            start = max(0, i - 200)
            text = ("…" if start else "") + text[start:i + len(passage) + 200] + ("…" if i + len(passage) + 200 < len(text) else "")
    elif len(text) > 400:
        text = text[:400] + "…"
    d = {"doc_id": h.doc_id, "title": h.title, "source": h.source, "page": h.page, "url": h.url,
         "passage": text, "score": round(float(h.score), 6)}
    d["chunk_id"] = h.chunk_id
    d["heading"] = h.heading
    d["published"] = h.published
    d["kind"] = h.kind
    if h.flags:
        d["flags"] = list(h.flags)
    return d


def _result(question: str, answer: str, abstained: bool, path: str, sentences: list[dict[str, Any]],
            citations: list[dict[str, Any]], timings: dict[str, float]) -> dict[str, Any]:
    flags = [{"citation": i, "doc_id": c["doc_id"], "flags": c["flags"]} for i, c in enumerate(citations) if c.get("flags")]
    return {"question": question, "answer": answer, "abstained": abstained, "path": path, "sentences": sentences,
            "citations": citations, "timings_ms": timings, "flags": flags}


def extractive(question: str, hits: Sequence[Hit], *, qvec: np.ndarray | None, embedder: Any, config: Config,
               weights: dict[str, float] | None = None, max_sentences: int = 3,
               max_passages: int = 5) -> dict[str, Any]:
    """The extractive answer body (without timings): verbatim sentences with citations, or an abstention."""
    qterms = _question_terms(question)
    weights = weights if weights is not None else {t: 1.0 for t in qterms}
    atype = _answer_type(question)
    cands = _candidates(question, hits, weights, atype, max_passages)
    lexical = qvec is None or embedder is None
    _score(question, cands, qvec, embedder, hits)
    best = cands[0] if cands else None
    threshold = _threshold(config, lexical)
    evidence = best.evidence if best else 0.0
    parts = {"cov": round(best.cov, 3), "sim": round(best.sim, 3), "cue": round(best.cue, 3),
             "sentence": best.text} if best else {}
    if best is None or evidence < threshold or not qterms and not lexical and best.sim < 0.5:
        cits = [_citation(h) for h in hits[:3]]
        return {"answer": ABSTAIN_TEXT, "abstained": True, "sentences": [], "citations": cits,
                "evidence": round(evidence, 4), "threshold": threshold, "parts": parts}
    chosen = [best]
    for c in cands[1:]:
        if len(chosen) >= max_sentences or c.score < 0:
            break
        if c.score < best.score * 0.85 or c.evidence < threshold:
            continue
        # skip near-duplicates (overlapping chunks repeat sentences)
        if any(c.text == o.text or len(_terms(c.text) ^ _terms(o.text)) <= 2 for o in chosen):
            continue
        chosen.append(c)
    # document order within the same passage reads better
    chosen.sort(key=lambda c: (c.hit_index, hits[c.hit_index].text.find(c.text[:30])))
    citations: list[dict[str, Any]] = []
    cit_index: dict[int, int] = {}
    sentences = []
    for c in chosen:
        if c.hit_index not in cit_index:
            cit_index[c.hit_index] = len(citations)
            citations.append(_citation(hits[c.hit_index], c.text))
        sentences.append({"text": c.text, "citations": [cit_index[c.hit_index]]})
    answer = " ".join(f"{s['text']} [{s['citations'][0] + 1}]" for s in sentences)
    return {"answer": answer, "abstained": False, "sentences": sentences, "citations": citations,
            "evidence": round(evidence, 4), "threshold": threshold, "parts": parts}


_SPLIT_GEN = re.compile(r"(?<=[.!?])(?:\s*\[\d+(?:\s*,\s*\d+)*\])*\s+(?=[A-Z\"“(])")
_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def _split_generated(text: str) -> list[str]:
    """Sentences of an LLM reply, each keeping its trailing citation markers."""
    text = normalize_ws(text)
    out, pos = [], 0
    for m in re.finditer(r"[.!?](?:\s*\[\d+(?:\s*,\s*\d+)*\])*(?=\s+|$)", text):
        out.append(text[pos:m.end()].strip())
        pos = m.end()
    if text[pos:].strip():
        out.append(text[pos:].strip())
    return [s for s in out if s]


def grounded_llm_answer(question: str, hits: Sequence[Hit], llm: LLM) -> dict[str, Any] | None:
    """Ask the LLM; keep only sentences ``support`` confirms. None when nothing usable came back."""
    passages = [PromptPassage(h.text, h.title, h.source, h.published, h.page, h.flags) for h in hits]
    reply = llm.generate(SYSTEM_PROMPT, build_prompt(question, passages))
    reply = (reply or "").strip()
    if not reply:
        raise LLMError("LLM returned an empty answer")
    if normalize_ws(reply).rstrip(".").lower().startswith(ABSTAIN_TEXT.rstrip(".").lower()) or \
            re.match(r"^i (?:do not|don't) know\b", reply.strip(), re.I):
        return {"answer": ABSTAIN_TEXT, "abstained": True, "sentences": [],
                "citations": [_citation(h) for h in hits[:3]]}
    texts = [h.text for h in hits]
    kept: list[tuple[str, list[int]]] = []
    for sent in _split_generated(reply):
        markers = []
        for m in _MARKERS.finditer(sent):
            markers += [int(x) - 1 for x in m.group(1).split(",") if x.strip().isdigit()]
        markers = [i for i in dict.fromkeys(markers) if 0 <= i < len(hits)]
        clean = strip_citations(sent)
        if len(clean) < 3:
            continue
        pool = [texts[i] for i in markers] if markers else texts
        sup = support(clean, pool)
        if not sup.supported and markers:
            # a wrong marker is not a wrong fact: accept support from any retrieved passage
            sup_all = support(clean, texts)
            if sup_all.supported:
                markers, sup = [sup_all.passage], sup_all  # type: ignore[list-item]
        if not sup.supported:
            continue
        if not markers and sup.passage is not None:
            markers = [sup.passage]
        kept.append((clean, markers))
    if not kept:
        return None
    citations: list[dict[str, Any]] = []
    cmap: dict[int, int] = {}
    sentences = []
    for clean, markers in kept:
        idx = []
        for m in markers:
            if m not in cmap:
                cmap[m] = len(citations)
                citations.append(_citation(hits[m]))
            idx.append(cmap[m])
        sentences.append({"text": clean, "citations": idx})
    answer = " ".join(s["text"] + " " + "".join(f"[{i + 1}]" for i in s["citations"]) for s in sentences)
    return {"answer": answer.strip(), "abstained": False, "sentences": sentences, "citations": citations}


def ask(store: Any, config: Config, question: str, *, k: int | None = None, mode: str = "chunk",
        filters: Filters | None = None, llm: LLM | None | bool = None, retrieval: str = "hybrid",
        debug: bool = False) -> dict[str, Any]:
    """Answer ``question`` from the indexed documents.

    ``mode``: ``chunk`` (1000-char chunks) or ``parent`` (search 400-char children, read 2000-char parents).
    ``llm``: None -> the configured backend (none by default); False -> extractive only; or an LLM object.
    Returns ``question, answer, abstained, path, sentences[], citations[], timings_ms, flags``.
    """
    from newsdesk.ask.embed import EmbeddingError, embedder_from_config

    if mode not in ("chunk", "parent"):
        raise ValueError(f"unknown answer mode {mode!r} (chunk or parent)")
    t0 = time.perf_counter()
    k = k or config.ask.k
    res = retrieve(store, config, question, k=k, filters=filters, mode=retrieval,
                   layer="child" if mode == "parent" else "chunk")
    t1 = time.perf_counter()
    try:
        embedder = embedder_from_config(config) if res.query_vec is not None else None
    except EmbeddingError:
        embedder = None
    if llm is None:
        llm = llm_from_config(config)
    path = "extractive"
    body: dict[str, Any] | None = None
    if llm and res.hits:
        try:
            body = grounded_llm_answer(question, res.hits, llm)  # type: ignore[arg-type]
            path = "llm" if body is not None else "llm_fallback"
        except LLMError:
            body, path = None, "llm_fallback"
    if body is None:
        weights = term_weights(store, _question_terms(question))
        body = extractive(question, res.hits, qvec=res.query_vec, embedder=embedder, config=config, weights=weights)
    t2 = time.perf_counter()
    timings = {"retrieve": round((t1 - t0) * 1000, 2), "answer": round((t2 - t1) * 1000, 2),
               "total": round((t2 - t0) * 1000, 2)}
    out = _result(question, body["answer"], body["abstained"], path, body["sentences"], body["citations"], timings)
    if debug:
        out["debug"] = {"evidence": body.get("evidence"), "parts": body.get("parts"), "threshold": body.get("threshold"),
                        "notice": res.notice, "retrieval": res.mode, "years": res.years}
    return out
