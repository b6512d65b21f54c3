"""Issue 13, sixth pass: follow-ups asking how a thing turned out, and "how much" asked of a value without a unit."""
import pytest

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
