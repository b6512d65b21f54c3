"""Question analysis: one QuestionInfo per question, read once, with everything retrieval and the composer use."""
from __future__ import annotations

import dataclasses

import pytest

from qa.analysis import QuestionInfo, QuestionReader, analyze
from qa.question import QuestionError

TEXTS = ["The 2015 agreement barred state-sanctioned cyber theft of intellectual property.",
         "State-owned enterprises (SOEs) gain from it.",
         "Captain Adam Greer is an instructor pilot at the Air Force Academy."]


@pytest.fixture(scope="module")
def reader():
    return QuestionReader(TEXTS)


def test_one_record_holds_every_reading(reader):
    info = reader.analyze("Who wrote this article about the SOEs in 2019?", [])
    assert isinstance(info, QuestionInfo) and dataclasses.is_dataclass(info)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.question = "x"
    assert info.kind == "who" and info.answer_type == "name"
    assert info.topics == frozenset({"bio", "byline"})
    assert info.unknown_names == ("2019",)   # "SOEs" is the corpus's own
    assert "state-owned enterprises" in info.text.lower() and info.reading.terms
    assert info.context == () and info.alternatives == ()


def test_misspelt_question_keeps_its_uncorrected_reading(reader):
    info = reader.analyze("why did the agreemnt bar theft", [])
    assert info.text == "why did the agreement bar theft?" and info.kind == "why"
    assert [alt.text for alt in info.alternatives] == ["why did the agreemnt bar theft?"]
    assert "read 'agreemnt' as 'agreement'" in info.all_notes
    chosen = info.choose(info.alternatives[0])
    assert chosen.text == "why did the agreemnt bar theft?" and chosen.all_notes == []


def test_follow_up_context_and_its_terms(reader):
    info = reader.analyze("Why?", ["What did the 2015 agreement bar?"])
    assert info.context == ("What did the 2015 agreement bar?",)
    assert "agreement" in info.reading.embed_text and "bar" in info.context_terms
    assert info.reading.embed_text.startswith("Why?")   # the question leads: a long history never cuts it off


def test_questions_about_time_and_counts(reader):
    assert reader.analyze("When was it signed?").answer_type == "time"
    assert reader.analyze("How many hackers were charged?").answer_type == "count"
    assert reader.analyze("What did it bar?").answer_type is None


def test_empty_question_is_an_error():
    with pytest.raises(QuestionError) as caught:
        analyze("  \x00 ")
    assert caught.value.reason == "empty question"


def test_asking_for_a_population_or_number_of_things_expects_a_quantity(reader):
    assert reader.analyze("what is the population of beijing").answer_type == "count"
    assert reader.analyze("whats the number of hackers").answer_type == "count"
    assert reader.analyze("what is the gist of it").answer_type is None
