"""Answer sentences come from the same abbreviation-aware splitter as summaries."""

from newsdesk.ask.answer import split_sentences


def test_abbreviations_and_decimals_do_not_cut_answer_sentences() -> None:
    text = ("The U.S. Senate voted 71-27 late Friday to pass the stopgap bill. "
            "Dr. Ruth Alvarez said the plan costs 4.2 million dollars in total, e.g. for staffing.")
    assert split_sentences(text) == [
        "The U.S. Senate voted 71-27 late Friday to pass the stopgap bill.",
        "Dr. Ruth Alvarez said the plan costs 4.2 million dollars in total, e.g. for staffing.",
    ]
