"""The splitter's fast path (cut at unambiguous ends, pysbd only where needed) equals pysbd on whole paragraphs."""

from __future__ import annotations

import random

import pytest

from newsdesk.brief import sentences

WORDS = (
    "the council said budget would affect residents over next months staff estimated cost grants vote "
    "passed members absent Eganville Renfrew Tuesday iii vii civil I A UV EST NATO Montréal it’s council's"
).split()
TRICKY = [
    "Dr.", "dr.", "St.", "Gov.", "Mr.", "No.", "no.", "Inc.", "etc.", "Jan.", "approx.", "est.", "Ave.", "Mass.",
    "U.S.", "a.m.", "p.m.", "e.g.", "Ph.D.", "A.", "J.", "iv.", "$2.4", "1.5", "102.5", "5:00", "10:30", "1998.",
    "8,400.", "7.", "12.", "3.", "www.x.com", "file.jpg", "Yahoo!", "why?", "now!", "km/h", "–", "—", '"quoted"',
    "“We", "go,”", "(see", "it)", "--", "...", "…", "teachers'", "'hi'",
]


def _paragraph(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 7)):
        words = [rng.choice(TRICKY) if rng.random() < 0.15 else rng.choice(WORDS) for _ in range(rng.randint(2, 12))]
        words[0] = words[0][:1].upper() + words[0][1:]
        out.append(" ".join(words) + rng.choice([".", ".", "?", "!", ""]))
    return " ".join(out)


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_equals_pysbd_on_whole_paragraphs(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    paras = [_paragraph(rng) for _ in range(150)]
    fast = [sentences.split_sentences(p) for p in paras]
    used = sum(1 for p in paras if sentences._pieces(sentences.normalize_ws(p)) is not None)
    assert used > 20  # the fast path is really exercised
    monkeypatch.setattr(sentences, "_pieces", lambda para: None)  # every paragraph through pysbd whole
    slow = [sentences.split_sentences(p) for p in paras]
    for p, a, b in zip(paras, fast, slow):
        assert a == b, p


def test_unsafe_paragraphs_go_to_pysbd_whole() -> None:
    for para in ['He said "no." Then left.', "It was (mostly) fine. Then rain.", "Wait... then rain. Then sun.",
                 "John F. Kennedy spoke. Crowds cheered.", "Items 1. and 2. passed. Done now.",
                 "Hello \u0238 world was here. Next one came."]:  # pysbd's own end marker
        assert sentences._pieces(para) is None, para


def test_cuts_only_at_unambiguous_ends() -> None:
    pieces = sentences._pieces("Staff met on Tuesday. Dr. Lee said 42 percent agreed in 1998. The vote passed.")
    assert pieces == ["Staff met on Tuesday.", "Dr. Lee said 42 percent agreed in 1998.", "The vote passed."]
    assert sentences._pieces("Fees rose at the main st. Then rain fell.") == ["Fees rose at the main st. Then rain fell."]
