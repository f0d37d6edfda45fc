"""Grounding: is a sentence supported by its sources?

One module, used by the extractive summarizer (as a post-condition), by the
answer path (to check LLM sentences against the retrieved context) and by the
evaluation harness (faithfulness).

Two levels:

* ``is_verbatim(sentence, source)``: the sentence occurs in the source after
  whitespace normalisation. Extractive summaries and extractive answers must
  pass this; it is how "grounded by construction" is verified.
* ``support(sentence, passages)``: for generated text. A sentence is supported
  when (a) enough of its content words occur in one passage (recall of the
  sentence's content terms against the best passage) and (b) every number and
  every capitalised name it states occurs in the passages. (b) is what catches
  an invented fact: a changed figure, date or name fails it even when the rest
  of the sentence is copied.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_WS = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-", "\u00a0": " "})
_WORD = re.compile(r"[^\W_]+(?:[.'’-][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CITATION = re.compile(r"\s*\[(?:\d+(?:\s*,\s*\d+)*)\]")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves said says say according one two new""".split()
)


def normalize_ws(text: str) -> str:
    """Whitespace-normalised text: the form in which summary sentences must occur in their source."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


def _loose(text: str) -> str:
    return normalize_ws(unicodedata.normalize("NFKC", text or "").translate(_QUOTES)).casefold()


def strip_citations(sentence: str) -> str:
    """Remove citation markers such as ``[1]`` or ``[2, 3]`` from a generated sentence."""
    return normalize_ws(_CITATION.sub("", sentence))


def is_verbatim(sentence: str, source: str) -> bool:
    """True when ``sentence`` occurs in ``source`` after whitespace normalisation."""
    s = normalize_ws(sentence)
    return bool(s) and s in normalize_ws(source)


def content_terms(text: str) -> list[str]:
    return [w for w in (m.group(0).casefold() for m in _WORD.finditer(text)) if w not in STOPWORDS and len(w) > 1]


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _names(text: str) -> set[str]:
    """Capitalised words not at the start of the sentence: a cheap proxy for named entities."""
    words = _WORD.findall(text)
    return {w.casefold() for w in words[1:] if w[:1].isupper() and w.casefold() not in STOPWORDS}


@dataclass
class Support:
    supported: bool
    score: float  # share of the sentence's content terms found in the best passage, 0-1
    passage: int | None  # index of the best passage
    verbatim: bool = False
    missing: list[str] = field(default_factory=list)  # numbers / names not found in any passage


def support(sentence: str, passages: list[str], *, threshold: float = 0.6) -> Support:
    """Check a (generated) sentence against the passages it claims to come from."""
    sent = strip_citations(sentence)
    if not sent:
        return Support(False, 0.0, None)
    loose_sent = _loose(sent)
    for i, p in enumerate(passages):
        if loose_sent and loose_sent in _loose(p):
            return Support(True, 1.0, i, verbatim=True)
    terms = set(content_terms(sent))
    all_text = " ".join(passages)
    all_terms = set(content_terms(all_text))
    all_numbers = _numbers(all_text)
    missing = sorted((_numbers(sent) - all_numbers) | {n for n in _names(sent) if n not in all_terms})
    best, best_i = 0.0, None
    for i, p in enumerate(passages):
        pt = set(content_terms(p))
        if not terms:
            continue
        score = len(terms & pt) / len(terms)
        if score > best:
            best, best_i = score, i
    ok = bool(terms) and best >= threshold and not missing
    return Support(ok, round(best, 4), best_i, missing=missing)
