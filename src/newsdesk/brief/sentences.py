"""Sentence splitting for the briefing's extractive summaries.

Pipeline position: ``summarize.py`` splits each item's cleaned text with
:func:`split_sentences` and may only ever choose one of the returned sentences,
so every summary sentence is a verbatim (whitespace-normalised) span of the
source text.

The heavy lifting is done by ``pysbd`` (rule-based "Golden Rules" segmenter,
pure Python, no model download), which handles abbreviations (U.S., Dr.,
e.g., Inc., Jan., a.m.), initials, decimals, quotations and ellipses. On top
of it this module:

* splits paragraphs first: every blank-line separated block is segmented on
  its own, so a heading without a full stop never swallows the next paragraph;
  inside a block, single line breaks are soft wraps (joined with a space);
* keeps a closing quote with the sentence it ends (``"... over." Then``);
* returns whitespace-normalised sentences (single spaces, stripped), which is
  exactly the form :func:`newsdesk.guard.grounding.is_verbatim` checks.

Speed: pysbd costs about a millisecond per paragraph (hundreds of regexes, one
per abbreviation it finds). Most of a news paragraph is plain sentences, so a
paragraph is first cut at *unambiguous* boundaries -- ``word. Next`` where
``word`` has three or more letters and is none of pysbd's abbreviations, or is
a number that does not open the paragraph -- and
only the pieces that still contain a ``.``, ``!`` or ``?`` before their end
that pysbd does not always mask (a decimal point, the stop after ``Dr``) go
through pysbd. This gives pysbd's own answer (every rule pysbd applies is local
to a period, or is excluded): paragraphs with quotes, brackets, ellipses,
``--``, single-letter initials, apostrophes not after a letter, characters outside Latin
script or consecutive list-like numbers (``1.`` ... ``2.``) are segmented whole by
pysbd exactly as before. ``tests/test_brief_sentences.py`` compares both paths
on generated text.
"""

from __future__ import annotations

import re
import threading

from newsdesk.guard.grounding import normalize_ws

_PARAGRAPHS = re.compile(r"\n[ \t\u00a0]*\n+")
# pysbd occasionally leaves a lone closing quote/bracket at the start of the next segment.
_LEADING_CLOSERS = re.compile(r"^([\"'”’»)\]]+)\s+")
# Very long inputs are segmented up to this many characters (summaries favour the lead anyway).
MAX_CHARS = 20000


_local = threading.local()

# Anything pysbd treats with a rule that looks beyond one period: quote and
# bracket spans, ellipses, em-dash spans ("--"), single-letter initials and
# alphabetical list items ("a."), apostrophes that do not follow a letter, and
# characters outside printable ASCII / Latin letters / ’ – — (pysbd's own
# placeholder symbols among them: ȸ and ȹ are cut out of the Latin range).
_UNSAFE = re.compile(
    "[^\x20-\x7e\u00c0-\u0237\u023a-\u024f\u2019\u2013\u2014]|[\"()\\[\\]{}<>`\\\\]|--|\\.\\.|\\. \\."
    "|(?<!\\S)[A-Za-z]\\.|(?<![A-Za-z])'"
)
# A sentence end pysbd always honours: a word of 3+ letters (unless it is an
# abbreviation) or a number that does not start the paragraph, a full stop, one
# space, then a capital letter ("grants. Dr", "in 1998. Its").
_BOUNDARY = re.compile(r"(?:(?<!\S)([A-Za-z][a-z]{2,})|(?<=\s)\d[\d,]*)\. (?=[A-Z])")
_ROMAN = frozenset("ivxlcdm")
_SENT_PUNCT = re.compile(r"[.!?]")
_TOKEN_BEFORE = re.compile(r"(?<!\S)([A-Za-z]+)$")
_pysbd_words: tuple[frozenset[str], frozenset[str], re.Pattern[str]] | None = None


def _pysbd_tables() -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    """pysbd's English abbreviations and prepositive abbreviations (lower case), and its numbered-list pattern."""
    global _pysbd_words
    if _pysbd_words is None:
        from pysbd.lang.english import English
        from pysbd.lists_item_replacer import ListItemReplacer

        ab = English.Abbreviation
        words = frozenset(
            a.strip().lower()
            for a in (*ab.ABBREVIATIONS, *ab.PREPOSITIVE_ABBREVIATIONS, *ab.NUMBER_ABBREVIATIONS)
        )
        prepositive = frozenset(a.strip().lower() for a in ab.PREPOSITIVE_ABBREVIATIONS)
        _pysbd_words = (words, prepositive, re.compile(ListItemReplacer.NUMBERED_LIST_REGEX_1))
    return _pysbd_words


def _list_pairs(found: list[str]) -> bool:
    """True when pysbd's numbered-list scan would rewrite any of ``found`` (consecutive neighbours).

    Mirrors ``ListItemReplacer.scan_lists``: an item counts when the next one is
    one higher, or the previous one is one lower (or 9/0 next to each other).
    """
    nums = [int(x) for x in found]
    for i in range(1, len(nums)):
        a, b = nums[i - 1], nums[i]
        if a + 1 == b or b - 1 == a or (b == 0 and a == 9) or (b == 9 and a == 0):
            return True
    return False


def _pieces(para: str) -> list[str] | None:
    """``para`` cut at unambiguous sentence ends, or None when pysbd must see it whole."""
    if _UNSAFE.search(para):
        return None
    abbreviations, _prepositive, numbered = _pysbd_tables()
    if _list_pairs(numbered.findall(para)):
        return None  # pysbd's numbered-list rule pairs neighbouring numbers across sentences
    out: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(para):
        word = (m.group(1) or "").lower()
        if word and (word in abbreviations or _ROMAN.issuperset(word)):
            continue
        out.append(para[start:m.end() - 1])
        start = m.end()
    out.append(para[start:])
    return out


def _one_sentence(piece: str) -> bool:
    """True when pysbd would return ``piece`` (from :func:`_pieces`) as one sentence.

    That holds when every ``.``/``!``/``?`` before its last character is a
    full stop pysbd always masks: one followed by a digit (``$2.4``), or one
    after a prepositive title such as ``Dr``, ``St``, ``Gov`` followed by a space.
    """
    last = len(piece) - 1
    for m in _SENT_PUNCT.finditer(piece):
        i = m.start()
        if i == last:
            break
        if piece[i] != ".":
            return False
        nxt = piece[i + 1]
        if nxt.isdigit() and nxt.isascii():
            continue
        if nxt == " ":
            tok = _TOKEN_BEFORE.search(piece, 0, i)
            if tok is not None and tok.group(1).lower() in _pysbd_tables()[1]:
                continue
        return False
    return True


def _pysbd_segment(para: str) -> list[str]:
    try:
        return _segmenter().segment(para)
    except Exception:  # pragma: no cover - pysbd bug on odd input: fall back to the whole paragraph
        return [para]


def _raw_segments(para: str) -> list[str]:
    """pysbd's segmentation of ``para``; plain pieces skip pysbd (see module docstring)."""
    pieces = _pieces(para)
    if pieces is None:
        return _pysbd_segment(para)
    parts: list[str] = []
    for piece in pieces:
        if _one_sentence(piece):
            parts.append(piece)
        else:
            parts.extend(_pysbd_segment(piece))
    return parts


def _segmenter():  # type: ignore[no-untyped-def]
    """One pysbd segmenter per thread (it keeps per-call state on the instance)."""
    seg = getattr(_local, "segmenter", None)
    if seg is None:
        import pysbd

        seg = _local.segmenter = pysbd.Segmenter(language="en", clean=False)
    return seg


def _segment(paragraph: str) -> list[str]:
    para = normalize_ws(paragraph)
    parts = _raw_segments(para)
    out: list[str] = []
    for p in parts:
        s = normalize_ws(p)
        if not s:
            continue
        m = _LEADING_CLOSERS.match(s)
        if m and out:
            joined = out[-1] + m.group(1)
            if joined in para:  # only when the quote really closes the previous sentence
                out[-1] = joined
                s = s[m.end():]
                if not s:
                    continue
        out.append(s)
    # every sentence must be a verbatim span of the paragraph (pysbd may normalise odd input)
    return [s for s in out if s in para]


def split_paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks of ``text`` (whitespace-normalised, empty ones dropped)."""
    return [p for p in (normalize_ws(b) for b in _PARAGRAPHS.split(text or "")) if p]


def split_sentences(text: str, *, max_chars: int = MAX_CHARS) -> list[str]:
    """Sentences of ``text`` in order, each whitespace-normalised.

    Each ``\\n\\n`` block is split separately; within a block pysbd decides the
    boundaries. Only the first ``max_chars`` characters are examined.
    """
    if not text:
        return []
    text = text[:max_chars]
    out: list[str] = []
    for para in _PARAGRAPHS.split(text):
        if para.strip():
            out.extend(_segment(para))
    return out
