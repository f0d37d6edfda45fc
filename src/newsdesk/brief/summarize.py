"""Where a summary sentence is chosen: extractive, grounded summaries for briefing stories.

Pipeline position: ``build.py`` calls :func:`summarize` once per story with the
cleaned text of every item in the story. The result is a few sentences copied
from those texts -- never generated, never paraphrased -- each tagged with the
item it came from. A post-condition checks every chosen sentence with
:func:`newsdesk.guard.grounding.is_verbatim` against its item's text.

How a sentence is chosen:

1. Candidates: every sentence of every item (``sentences.split_sentences``),
   minus boilerplate (:func:`is_boilerplate`: bylines, "Read more", newsletter
   and share prompts, photo credits, author bios, "The post ... appeared first
   on", cookie notices, instructions aimed at machines), fragments under
   ``MIN_WORDS`` words, sentences over ``MAX_SENTENCE_WORDS`` words, and
   sentences still carrying mojibake or HTML entities that cleaning could not
   repair (they are skipped, never "fixed": a summary sentence stays verbatim).
2. Score = 0.45 * position (lead bias, ``1/sqrt(rank+1)``; other items of the
   story weigh 0.8) + 0.30 * cosine to the title + 0.25 * cosine to the
   centroid of all candidates (bag of content words).
3. Greedy selection (maximal marginal relevance): the best remaining candidate
   is taken unless it is a near-duplicate of the title or of a chosen sentence
   (word-set Jaccard >= 0.6), its redundancy with chosen sentences is
   subtracted from its score, and the word budget (``max_words``) and sentence
   cap (``max_sentences``) hold.
4. Chosen sentences are returned in reading order (item order, then position).

A title-only item (no text, or text that only repeats the title) gets an empty
summary: nothing is ever invented to fill the gap.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from ftfy.badness import is_bad

from newsdesk.brief.sentences import split_sentences
from newsdesk.guard.grounding import content_terms, is_verbatim, normalize_ws

MIN_WORDS = 5
MAX_SENTENCE_WORDS = 60
SCAN_CHARS = 6000  # lead bias: sentences past the first ~1,000 words are never competitive

_I = re.IGNORECASE
_NAMES = r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|and|&|of|the|de|van|von))*"
_BOILERPLATE: list[re.Pattern[str]] = [
    # calls to action
    re.compile(r"\b(read|see) (more|the full (story|article|report|post|piece))\b", _I),
    re.compile(r"\b(continue|keep) reading\b", _I),
    re.compile(r"\bclick here\b", _I),
    re.compile(r"\b(subscribe|sign[- ]up|newsletters?|unsubscribe|inbox)\b", _I),
    re.compile(r"\b(follow us|like us on|share (this|on)|tweet this|share your|join the conversation)\b", _I),
    re.compile(r"\bdownload (our|the) app\b", _I),
    # syndication footers
    re.compile(r"\bappeared first on\b", _I),
    re.compile(r"\bthis (post|article|story|piece) (was|is|has been) (originally |first )?(written|published|produced|created|updated|republished|edited)\b", _I),
    re.compile(r"\b(originally|first) published (on|in|by|at)\b", _I),
    re.compile(r"\b(all rights reserved|copyright ©|©)", _I),
    re.compile(r"^\s*(advertisement|sponsored( content)?|related( stories| articles)?|more on this)\b", _I),
    # credits
    re.compile(r"^\s*(photo|photograph|image|illustration|video|graphic|credit|source)s?( credit)?\s*[:/|]", _I),
    re.compile(r"\((photo|image)[^)]*\)", _I),
    re.compile(r"\b(getty images|shutterstock|alamy|ap photo|afp via|reuters/|istock)\b", _I),
    re.compile(r"\b[A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+)+\s*$"),  # trailing ALL-CAPS photographer credit
    re.compile(r"[a-z.,)][A-Z]{2,}(?:\s+[A-Z]{2,})+"),  # credit glued to the caption: "segments.ETHAN TWEEDIE"
    # bylines and bios
    re.compile(r"^\s*[Bb][Yy]\s+" + _NAMES + r"(?:\s*[,|–—-]\s*" + _NAMES + r")*\s*\.?$"),
    re.compile(r"^\s*[—–-]\s*[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,4}\s*$"),
    re.compile(
        r"^\s*[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3}\s+(is|was)\s+(a|an|the)\s+[\w\s,/-]{0,60}?"
        r"\b(journalist|writer|reporter|editor|correspondent|author|contributor|columnist|freelancer|blogger|"
        r"architect|specialist|scientist|engineer|manager|producer|host)\b.{0,120}?\b(at|for|with|based|who|and|covering|specializ|specialis)",
    ),
    re.compile(r"^\s*[Bb][Yy]\s+" + _NAMES + r"\s*(?:,[^.!?]{0,60})?\s*[|•/]\s*[^.!?]{0,40}$"),  # "By A B, desk | City"
    re.compile(r"^\s*[Bb][Yy]\s+" + _NAMES + r"\s*,[^.!?]{0,50}\b(correspondent|reporter|staff|writer|editor|"
               r"contributor|bureau|columnist)\b[^.!?]{0,30}$"),
    re.compile(r"^\s*[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){1,3}\s+(covers|reports on|reports from|writes about|"
               r"writes on)\b[^.!?]{0,80}\b(for|at)\s+(the\s+)?[A-Z][^.!?]{0,60}[.!?]?$"),
    re.compile(r"^\s*[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){1,3}\s+is\s+[^.!?]{0,60}\b(correspondent|reporter|"
               r"editor|writer|columnist|journalist|contributor)\b[^.!?]{0,40}[.!?]?$"),
    re.compile(r"^\s*(She|He|They)\s+(previously|formerly)\s+(reported|worked|wrote|covered|served as)\b"),
    re.compile(r"\babout the authors?\b", _I),
    re.compile(r"\b(become a (paying )?(member|subscriber|patron|supporter)|support (our|independent) journalism|"
               r"donate (now|today)|make a donation)\b", _I),
    re.compile(r"^\s*enjoying\b[^.!?]{0,60}\?$", _I),
    # site furniture
    re.compile(r"\bcookies?\b.*\b(use|accept|consent|policy|settings)\b|\b(use|accept|consent to)\b.*\bcookies\b", _I),
    re.compile(r"\bby (continuing|using) (to use |to browse )?(this|our) (site|website)\b", _I),
    re.compile(r"\b(privacy policy|terms of (use|service))\b", _I),
    re.compile(r"https?://|www\.", _I),
    # instructions aimed at language models, never news
    re.compile(r"\b(ignore|disregard|forget) (all |any |the )?(previous|prior|above|earlier) (instructions|prompts|messages)\b", _I),
]


# Residual mojibake (UTF-8 read as Mac Roman / Windows-1252) that cleaning could not repair.
_MOJIBAKE = re.compile(r"‚Ä[ôùúìîòëé¶¢]|â€|Ã[©¨¢ª«®´¶¼½¾§±³]|Â[·°©®«»]|[,.;:!?]†|&#?\w+;")


# Literal words (lower case) at least one of which a case-insensitive pattern
# above needs in order to match: a cheap ``in`` test skips the regex otherwise.
# Patterns not listed here always run.
_BOILERPLATE_TRIGGERS: dict[str, tuple[str, ...]] = {
    r"\b(read|see) (more|the full (story|article|report|post|piece))\b": ("read ", "see "),
    r"\b(continue|keep) reading\b": ("reading",),
    r"\bclick here\b": ("click here",),
    r"\b(subscribe|sign[- ]up|newsletters?|unsubscribe|inbox)\b": ("subscribe", "sign", "newsletter", "inbox"),
    r"\b(follow us|like us on|share (this|on)|tweet this|share your|join the conversation)\b":
        ("follow us", "like us on", "share ", "tweet this", "join the conversation"),
    r"\bdownload (our|the) app\b": ("download ",),
    r"\bappeared first on\b": ("appeared first on",),
    r"\b(originally|first) published (on|in|by|at)\b": ("published ",),
    r"\b(all rights reserved|copyright ©|©)": ("all rights reserved", "©"),
    r"\((photo|image)[^)]*\)": ("(photo", "(image"),
    r"\b(getty images|shutterstock|alamy|ap photo|afp via|reuters/|istock)\b":
        ("getty images", "shutterstock", "alamy", "ap photo", "afp via", "reuters/", "istock"),
    r"\babout the authors?\b": ("about the author",),
    r"\bcookies?\b.*\b(use|accept|consent|policy|settings)\b|\b(use|accept|consent to)\b.*\bcookies\b": ("cookie",),
    r"\b(privacy policy|terms of (use|service))\b": ("privacy policy", "terms of "),
    r"https?://|www\.": ("http", "www."),
}
_BOILERPLATE_GATED: list[tuple[re.Pattern[str], tuple[str, ...] | None]] = [
    (p, _BOILERPLATE_TRIGGERS.get(p.pattern) if p.flags & re.IGNORECASE else None) for p in _BOILERPLATE
]
# Characters re.IGNORECASE matches to an ASCII letter but str.lower() does not turn into one.
_FOLD_SPECIAL = re.compile("[\u0130\u0131\u017f]")


def is_boilerplate(sentence: str) -> bool:
    """True for furniture that must never be chosen as a summary sentence."""
    s = normalize_ws(sentence)
    if not s:
        return True
    if not s.isascii() and _FOLD_SPECIAL.search(s):
        return any(p.search(s) for p in _BOILERPLATE)
    low = s.lower()
    for p, triggers in _BOILERPLATE_GATED:
        if triggers is not None and not any(t in low for t in triggers):
            continue
        if p.search(s):
            return True
    return False


@dataclass(frozen=True)
class Sentence:
    """One summary sentence and the item whose text contains it verbatim."""

    text: str
    item_id: int

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "item_id": self.item_id}


def word_count(text: str) -> int:
    return len(text.split())


def _bag(text: str) -> Counter[str]:
    return Counter(t.rstrip("s") if len(t) > 3 else t for t in content_terms(text))


def _cos(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    if not dot:
        return 0.0
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


def _jaccard(a: Counter[str], b: Counter[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def _eligible(sentence: str) -> bool:
    n = word_count(sentence)
    if n < MIN_WORDS or n > MAX_SENTENCE_WORDS:
        return False
    if sentence.endswith(":"):
        return False
    # A heading-like fragment: no sentence punctuation and short.
    if n < 8 and not re.search(r"[.!?…\"'”’)]$", sentence):
        return False
    # ftfy's badness patterns all need a non-ASCII character: skip them for ASCII text.
    if _MOJIBAKE.search(sentence) or (not sentence.isascii() and is_bad(sentence)):
        return False  # damaged text that cleaning could not repair is never shown
    return not is_boilerplate(sentence)


@dataclass
class _Cand:
    text: str
    item_id: int
    doc: int
    pos: int
    bag: Counter[str]
    words: int
    score: float = 0.0


def candidates(item_texts: list[tuple[int, str]], title: str) -> list[_Cand]:
    """Eligible sentences of every item, in reading order."""
    out: list[_Cand] = []
    title_n = normalize_ws(title).casefold()
    seen: set[str] = set()
    for doc, (item_id, text) in enumerate(item_texts):
        pos = 0
        for s in split_sentences(text or "", max_chars=SCAN_CHARS):
            key = s.casefold()
            if key == title_n or key in seen or not _eligible(s):
                continue
            seen.add(key)
            out.append(_Cand(s, item_id, doc, pos, _bag(s), word_count(s)))
            pos += 1
    return out


def summarize(
    item_texts: list[tuple[int, str]],
    title: str,
    max_words: int = 60,
    max_sentences: int = 3,
) -> list[Sentence]:
    """Choose up to ``max_sentences`` sentences (at most ``max_words`` words in all) from the items' texts.

    ``item_texts`` is ``[(item_id, cleaned_text), ...]`` with the story's primary
    item first. Every returned sentence occurs verbatim (whitespace-normalised)
    in the text of the item it names.
    """
    cands = candidates(item_texts, title)
    if not cands or max_sentences <= 0:
        return []
    title_bag = _bag(title)
    centroid: Counter[str] = Counter()
    for c in cands:
        centroid.update(c.bag)
    for c in cands:
        position = 1.0 / math.sqrt(c.pos + 1) * (1.0 if c.doc == 0 else 0.8)
        c.score = 0.45 * position + 0.30 * _cos(c.bag, title_bag) + 0.25 * _cos(c.bag, centroid)

    chosen: list[_Cand] = []
    used = 0
    pool = [c for c in cands if _jaccard(c.bag, title_bag) < 0.8]
    while pool and len(chosen) < max_sentences:
        best, best_val = None, -1e9
        for c in pool:
            if used + c.words > max_words:
                continue
            redundancy = max((_cos(c.bag, o.bag) for o in chosen), default=0.0)
            if chosen and max(_jaccard(c.bag, o.bag) for o in chosen) >= 0.6:
                continue
            val = c.score - 0.5 * redundancy
            if val > best_val:
                best, best_val = c, val
        if best is None:
            break
        chosen.append(best)
        used += best.words
        pool.remove(best)

    chosen.sort(key=lambda c: (c.doc, c.pos))
    texts = dict(item_texts)
    result = [Sentence(c.text, c.item_id) for c in chosen]
    for s in result:  # post-condition: grounded by construction
        assert is_verbatim(s.text, texts[s.item_id]), f"summary sentence not in item {s.item_id}: {s.text!r}"
    return result
