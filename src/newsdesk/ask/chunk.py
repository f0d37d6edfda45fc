"""Chunking: recursive splitting of document text into retrieval units.

First stage of the "Ask your desk" pipeline after loading
(``collect.documents`` -> **chunk** -> embed -> index -> retrieve -> answer).

The splitter works on *segments* (a page of a PDF, a section under a Markdown
heading) so that every chunk keeps its provenance: document -> page or heading
-> character offsets inside the segment. Within a segment, text is split on
paragraphs, then lines, then sentence ends, then words, and the pieces are
packed greedily up to ``size`` characters; consecutive chunks share about
``overlap`` characters, taken as whole sentences from the end of the previous
chunk, so a chunk never starts mid-sentence when that can be avoided.

Two layouts:

* ``chunk`` (default): ~1000-character chunks with ~100 characters of overlap;
  each chunk is indexed and returned.
* parent-child: ~2000-character *parents* are split into ~400-character
  *children*; children are indexed, the parent is what the answer step reads.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from newsdesk.store.documents import ChunkRow

# paragraphs, then sentences (so hard-wrapped lines are not cut mid-sentence), then lines, then words
_SEPARATORS = ["\n\n", "(?<=[.!?…])[\"'”’)\\]]*\\s+", "\n", " "]
_SENT_LEVEL = 1
_SENT_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


@dataclass
class Segment:
    """A span of a document with one provenance (a PDF page or a section heading)."""

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass
class Piece:
    text: str
    start: int
    end: int


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _split(text: str, start: int, size: int, level: int) -> list[Piece]:
    """Recursively split ``text`` (at offset ``start``) into pieces no longer than ``size`` where possible."""
    if len(text) <= size or level >= len(_SEPARATORS):
        if len(text) > size:  # no separator left: hard cut
            return [Piece(text[i:i + size], start + i, start + min(i + size, len(text))) for i in range(0, len(text), size)]
        return [Piece(text, start, start + len(text))]
    sep = _SEPARATORS[level]
    out: list[Piece] = []
    pos = 0
    bounds = [m.end() for m in re.finditer(sep if level == _SENT_LEVEL else re.escape(sep), text)]
    for b in bounds + [len(text)]:
        part = text[pos:b]
        if part:
            if len(part) > size:
                out.extend(_split(part, start + pos, size, level + 1))
            else:
                out.append(Piece(part, start + pos, start + b))
        pos = b
    return out


def _tail_start(text: str, start: int, end: int, overlap: int) -> int | None:
    """Offset where the last whole sentences of ``text[start:end]`` fitting in ``overlap`` chars begin."""
    if overlap <= 0:
        return None
    body = text[start:end]
    best = None
    for m in _SENT_END.finditer(body):
        if len(body[m.end():].strip()) <= overlap:
            best = start + m.end()
            break
    return best


def split_text(text: str, size: int = 1000, overlap: int = 100) -> list[Piece]:
    """Split one segment into chunks of at most ~``size`` characters with ~``overlap`` of sentence overlap.

    Offsets refer to ``text``; a chunk's text is ``text[start:end]`` stripped (overlap
    prefixes extend ``start`` backwards to the beginning of the carried sentences).
    """
    if not text.strip():
        return []
    pieces = _split(text, 0, size, 0)
    chunks: list[Piece] = []
    cur: list[Piece] = []
    cur_len = 0

    def flush() -> None:
        nonlocal cur, cur_len
        if not cur:
            return
        s, e = cur[0].start, cur[-1].end
        body = text[s:e]
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            chunks.append(Piece(stripped, s + lead, s + lead + len(stripped)))
        cur, cur_len = [], 0

    for p in pieces:
        if cur and cur_len + len(p.text) > size:
            prev_end = cur[-1].end
            cur_start_prev = cur[0].start
            flush()
            ts = _tail_start(text, cur_start_prev, prev_end, overlap)
            if ts is not None and ts < prev_end and p.start - ts + len(p.text) <= size:
                cur = [Piece(text[ts:p.start], ts, p.start)]
                cur_len = p.start - ts
        cur.append(p)
        cur_len += len(p.text)
    flush()
    # drop chunks that only repeat overlap (tiny trailing chunks fully contained in the previous one)
    out: list[Piece] = []
    for c in chunks:
        if out and c.start >= out[-1].start and c.end <= out[-1].end:
            continue
        out.append(c)
    return out


def chunk_segments(segments: list[Segment], *, size: int = 1000, overlap: int = 100) -> list[ChunkRow]:
    """``chunk`` layout: every chunk is indexed and returned."""
    rows: list[ChunkRow] = []
    for seg in segments:
        for p in split_text(seg.text, size, overlap):
            rows.append(ChunkRow("chunk", len(rows), p.text, text_hash(p.text), seg.page, seg.heading, p.start, p.end))
    return rows


def parent_child_segments(segments: list[Segment], *, child_size: int = 400, parent_size: int = 2000,
                          child_overlap: int = 40) -> list[ChunkRow]:
    """Parent-child layout: ~``parent_size`` parents, each split into ~``child_size`` children.

    Children carry the parent's page/heading and offsets relative to the segment.
    """
    rows: list[ChunkRow] = []
    n_children = 0
    n_parents = 0
    for seg in segments:
        for par in split_text(seg.text, parent_size, 0):
            parent_idx = len(rows)
            rows.append(ChunkRow("parent", n_parents, par.text, text_hash(par.text), seg.page, seg.heading,
                                 par.start, par.end))
            n_parents += 1
            for ch in split_text(par.text, child_size, child_overlap):
                rows.append(ChunkRow("child", n_children, ch.text, text_hash(ch.text), seg.page, seg.heading,
                                     par.start + ch.start, par.start + ch.end, parent=parent_idx))
                n_children += 1
    return rows


def chunk_document(segments: list[Segment], *, size: int = 1000, overlap: int = 100, child_size: int = 400,
                   parent_size: int = 2000, parent_child: bool = True) -> list[ChunkRow]:
    """All chunk rows for a document: the ``chunk`` layout plus, optionally, the parent-child layout."""
    rows = chunk_segments(segments, size=size, overlap=overlap)
    if parent_child:
        base = len(rows)
        pc = parent_child_segments(segments, child_size=child_size, parent_size=parent_size)
        for r in pc:
            if r.parent is not None:
                r.parent += base
        rows.extend(pc)
    return rows


def chunking_signature(size: int, overlap: int, child_size: int, parent_size: int, parent_child: bool) -> str:
    """Stored with each document: re-chunk when the parameters change."""
    return f"v1:{size}/{overlap}" + (f";pc:{child_size}/{parent_size}" if parent_child else "")
