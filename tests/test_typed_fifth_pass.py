"""Issue 13, sixth pass: follow-ups asking how a thing turned out, and "how much" asked of a value without a unit."""
import pytest

from qa.analysis import expected_answer_type
from qa.answer import has_answer_type
from qa.followup import wants_neighbourhood


@pytest.mark.parametrize("question, how", [
    ("did it actually work", "next"), ("was it a success", "next"), ("how did that turn out", "next"),
    ("so has it helped", "next"), ("what happened after", "next"),
    ("did it reduce theft", None), ("was it signed in 2015", None), ("is it a treaty", None),
])
def test_a_follow_up_asking_how_it_turned_out_reads_the_passage_after(question, how):
    assert wants_neighbourhood(question) == how


def test_how_the_agreement_turned_out_is_answered_after_its_description(engine):
    answer = engine.ask("did it actually work", history=["what was the 2015 obama xi agreement about"])
    assert answer.answerable
    assert "quantitative decline" in answer.answer or "fallen short" in answer.answer


@pytest.mark.parametrize("question, kind", [
    ("how much is the stolen information worth", "amount"), ("how much does the agreement matter", "amount"),
    ("how much is the stolen information worth in dollars", "count"), ("how much money was lost each year", "count"),
    ("how much data was stolen", "count"), ("how much did it cost", "count"),
])
def test_a_value_asked_without_a_unit_is_an_amount(question, kind):
    assert expected_answer_type(question) == kind


@pytest.mark.parametrize("text, ok", [
    ("The worth of stolen data can be astronomical.", True), ("Losses reached 300 billion dollars.", True),
    ("The data is valuable to rivals.", False),
])
def test_an_amount_is_a_figure_or_a_magnitude_in_words(text, ok):
    assert has_answer_type(text, "amount") is ok
    assert has_answer_type(text, "count") is (ok and "300" in text)


def test_a_value_is_answered_in_words_but_not_in_dollars(engine):
    assert "astronomical" in engine.ask("how much is the stolen information worth").answer
    assert not engine.ask("how much is the stolen information worth in dollars").answerable


def test_preferring_the_passage_after_the_earlier_answer_never_turns_an_answer_into_a_refusal(engine):
    # the sentences after "what are the authors proposing"'s answer are below the bar for "did it achieve
    # anything"; the best passage (above it) answers instead of a refusal
    answer = engine.ask("did it achieve anything", history=["what are the authors proposing"])
    assert answer.answerable and "quantitative decline" in answer.answer
