"""Chunking: sizes, sentence-aligned overlap, offsets and the parent-child layout."""

from __future__ import annotations

import re

from newsdesk.ask.chunk import Segment, chunk_document, parent_child_segments, split_text


def _text(n_paras: int = 15) -> str:
    paras = []
    for p in range(n_paras):
        sents = [f"Paragraph {p} sentence {s} talks about topic {p * 7 + s} in plain words." for s in range(6)]
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


def test_chunks_respect_size_and_offsets() -> None:
    text = _text()
    chunks = split_text(text, 1000, 100)
    assert len(chunks) > 3
    for c in chunks:
        assert len(c.text) <= 1000
        assert text[c.start:c.end] == c.text  # provenance offsets point at the exact text
    # every sentence of the text appears in some chunk
    for sent in re.findall(r"Paragraph \d+ sentence \d+[^.]*\.", text):
        assert any(sent in c.text for c in chunks), sent


def test_chunks_start_and_end_on_sentence_boundaries() -> None:
    text = _text()
    for c in split_text(text, 1000, 100):
        assert c.text.startswith("Paragraph"), c.text[:30]
        assert c.text.endswith("."), c.text[-30:]


def test_overlap_repeats_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} is short and complete." for i in range(80))
    chunks = split_text(text, 300, 100)
    assert len(chunks) > 5
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end, "consecutive chunks overlap"
        overlap = text[b.start:a.end].strip()
        assert 0 < len(overlap) <= 100
        assert overlap.startswith("Sentence") and overlap.endswith(".")


def test_long_sentence_without_breaks_is_still_split() -> None:
    text = "word " * 600
    chunks = split_text(text, 1000, 100)
    assert all(len(c.text) <= 1000 for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) >= 600


def test_parent_child_layout_links_children_to_parents() -> None:
    seg = Segment(_text(20), page=3, heading="Results")
    rows = parent_child_segments([seg], child_size=400, parent_size=2000)
    parents = [r for r in rows if r.role == "parent"]
    children = [r for r in rows if r.role == "child"]
    assert parents and len(children) > len(parents)
    for r in parents:
        assert len(r.text) <= 2000
    for ch in children:
        assert len(ch.text) <= 400
        parent = rows[ch.parent]
        assert parent.role == "parent"
        assert ch.text in parent.text
        assert (ch.page, ch.heading) == (3, "Results")


def test_chunk_document_keeps_page_provenance() -> None:
    rows = chunk_document([Segment("First page text. " * 10, page=1), Segment("Second page text. " * 10, page=2)])
    chunk_rows = [r for r in rows if r.role == "chunk"]
    assert [r.page for r in chunk_rows] == [1, 2]
    assert {r.role for r in rows} == {"chunk", "parent", "child"}
    # parent indices are valid positions in the combined list
    for r in rows:
        if r.parent is not None:
            assert rows[r.parent].role == "parent"
