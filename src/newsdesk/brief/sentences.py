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


def _segmenter():  # type: ignore[no-untyped-def]
    """One pysbd segmenter per thread (it keeps per-call state on the instance)."""
    seg = getattr(_local, "segmenter", None)
    if seg is None:
        import pysbd

        seg = _local.segmenter = pysbd.Segmenter(language="en", clean=False)
    return seg


def _segment(paragraph: str) -> list[str]:
    para = normalize_ws(paragraph)
    try:
        parts = _segmenter().segment(para)
    except Exception:  # pragma: no cover - pysbd bug on odd input: fall back to the whole paragraph
        parts = [para]
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
