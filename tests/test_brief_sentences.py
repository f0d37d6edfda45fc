"""Sentence splitter edge cases (newsdesk.brief.sentences)."""

from __future__ import annotations

import pytest

from newsdesk.brief.sentences import split_paragraphs, split_sentences
from newsdesk.guard.grounding import is_verbatim


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The U.S. and the U.K. signed the accord. Talks resume in March.",
         ["The U.S. and the U.K. signed the accord.", "Talks resume in March."]),
        ("Dr. Okafor and Mr. Brandt met Mrs. Lau. They agreed.",
         ["Dr. Okafor and Mr. Brandt met Mrs. Lau.", "They agreed."]),
        ("Prof. Hale lives on St. Clair Ave. near the park. She walks daily.",
         ["Prof. Hale lives on St. Clair Ave. near the park.", "She walks daily."]),
        ("Some fruits, e.g. apples, keep well. Others, i.e. berries, do not.",
         ["Some fruits, e.g. apples, keep well.", "Others, i.e. berries, do not."]),
        ("Bring pens, paper, etc. to the exam. Doors open early.",
         ["Bring pens, paper, etc. to the exam.", "Doors open early."]),
        ("Acme Inc. posted a profit. Shares rose.", ["Acme Inc. posted a profit.", "Shares rose."]),
        ("The vote is on Jan. 14 at the hall. Everyone may attend.",
         ["The vote is on Jan. 14 at the hall.", "Everyone may attend."]),
        ("The doors open at 9 a.m. and close at 5 p.m. on weekdays. Weekends differ.",
         ["The doors open at 9 a.m. and close at 5 p.m. on weekdays.", "Weekends differ."]),
        ("J. R. Hartley wrote the guide. It sold well.", ["J. R. Hartley wrote the guide.", "It sold well."]),
        ("Growth was 1.5 per cent. Pressure read 102.5 kPa and rising. Wind calm.",
         ["Growth was 1.5 per cent.", "Pressure read 102.5 kPa and rising.", "Wind calm."]),
        ('He said "the work is finished." Then the crowd cheered.',
         ['He said "the work is finished."', "Then the crowd cheered."]),
        ("“We will rebuild,” the mayor said. “Starting now.” Crews arrived at noon.",
         ["“We will rebuild,” the mayor said.", "“Starting now.”", "Crews arrived at noon."]),
        ("The results were… surprising. Nobody expected it.", None),
        ("Wait... what happened next? Nobody knows.", ["Wait... what happened next?", "Nobody knows."]),
        ("He moved to the U.S. The next year he returned.", ["He moved to the U.S.", "The next year he returned."]),
        ("He arrived at 10:30 p.m. Police were waiting.", ["He arrived at 10:30 p.m.", "Police were waiting."]),
        ("She holds a Ph.D. in physics. She teaches at McGill.",
         ["She holds a Ph.D. in physics.", "She teaches at McGill."]),
        ('Was it worth it? "Absolutely!" she said. Then she left.',
         ["Was it worth it?", '"Absolutely!" she said.', "Then she left."]),
    ],
)
def test_split_edge_cases(text: str, expected: list[str] | None) -> None:
    got = split_sentences(text)
    if expected is not None:
        assert got == expected
    else:  # ellipses: no empty fragments, nothing lost
        assert all(s.strip() for s in got)
        assert " ".join(got).replace(" ", "") == text.replace(" ", "")


def test_paragraph_breaks_always_split() -> None:
    text = "Heading without a full stop\n\nFirst sentence here. Second one here.\n \n\nLast paragraph"
    assert split_sentences(text) == [
        "Heading without a full stop", "First sentence here.", "Second one here.", "Last paragraph",
    ]
    assert split_paragraphs(text) == ["Heading without a full stop", "First sentence here. Second one here.",
                                      "Last paragraph"]


def test_sentences_are_whitespace_normalised_and_verbatim() -> None:
    text = "The  council\nvoted   on Monday.\tIt passed 7-2.\n\nA   new\u00a0paragraph begins."
    got = split_sentences(text)
    assert got == ["The council voted on Monday.", "It passed 7-2.", "A new paragraph begins."]
    assert all(is_verbatim(s, text) for s in got)


def test_empty_and_blank() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n  ") == []


def test_thread_safe() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Item {i} opened on Jan. {i + 1} in the U.S. capital. It closed at 5 p.m. sharp." for i in range(40)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(split_sentences, texts))
    assert all(len(r) == 2 for r in results)
    assert results[7][0] == "Item 7 opened on Jan. 8 in the U.S. capital."


def test_every_sentence_is_a_span_of_the_text() -> None:
    texts = [
        'He said "it is over. " Then the crowd cheered.',
        "“Done.” ‘Really?’ (Yes.) [Sure.] She left… He stayed.",
        "Line one\nline two.\n\n\n  Para   two!  Para three?",
        "Mixed\u00a0spaces\u2009and\tTabs. Café, naïve, résumé: all NFC. E\u0301tude starts here.",
    ]
    for t in texts:
        for s in split_sentences(t):
            assert is_verbatim(s, t), (s, t)
