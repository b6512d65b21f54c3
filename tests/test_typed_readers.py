"""Issue 13, third pass: abbreviations by their everyday name, dates, shares and names asked for, who-questions
answered by a kind of named things, another work's author, and follow-ups that point into an earlier answer."""
import pytest

from qa.abbreviations import Abbreviations
from qa.analysis import expected_answer_type, question_topics
from qa.answer import has_answer_type
from qa.focus import missing, question_focus


def test_an_abbreviation_reads_as_the_everyday_name_the_corpus_uses():
    table = Abbreviations(["China and the United States met.", "The Communist Party decided."]).table
    assert table["prc"] == "China"                      # "People's Republic of China" is not in the text
    assert table["ccp"] == "Communist Party"
    assert "fbi" not in table and "nato" not in table   # neither the long form nor its words


def test_an_abbreviation_reads_as_its_long_form_when_the_corpus_has_its_words():
    table = Abbreviations(["The department said it would defend them.", "Defense is the department's job."]).table
    assert table["dod"] == "Department of Defense"      # every content word is in the corpus, not the phrase


def test_a_common_word_is_an_abbreviation_only_in_capitals():
    abbreviations = Abbreviations(["Information technology grew.", "The United Nations met."])
    assert abbreviations.expand("It grew")[0] == "It grew"
    assert abbreviations.expand("how big is IT")[0] == "how big is information technology"


@pytest.mark.parametrize("question, kind", [
    ("exact date of the first dialogue", "date"), ("on what day did they meet", "date"),
    ("what was the date of the meeting", "date"),
    ("by what percentage did theft fall", "count"), ("what share of attacks came from china", "count"),
    ("names of the hackers the doj indicted", "title"), ("what is the name of the forum", "title"),
    ("what is the report called", "title"), ("when did they meet", "time"),
])
def test_dates_shares_and_names_asked_for(question, kind):
    assert expected_answer_type(question) == kind


@pytest.mark.parametrize("text, kind, ok", [
    ("Earlier this month, the two countries met.", "date", False),
    ("They met on March 3.", "date", True), ("They met on 3/3/2017.", "date", True),
    ("Although Xi may act independently.", "date", False),
    ("Theft fell after the agreement, a quantitative decline.", "count", False),
    ("Theft fell by 90 percent.", "count", True),
    ("Little has come of the U.S. Department of Justice’s effort to indict Chinese hackers.", "title", False),
    ("They met for the first Law Enforcement and Cybersecurity Dialogue.", "title", True),
])
def test_an_answer_holds_what_was_asked(text, kind, ok):
    assert has_answer_type(text, kind, frozenset({"department", "justice", "dialogue", "of"})) is ok


def test_who_wrote_it_asks_about_another_work_when_the_question_names_one():
    assert not question_topics("what's the title of the 2017 mit report and who wrote it") & {"byline", "bio"}
    assert {"byline", "bio"} <= question_topics("who wrote it")
    assert {"byline", "bio"} <= question_topics("who wrote this article, the one about the report")
    assert "title" not in question_topics("what's the title of the 2017 report")
    assert "title" in question_topics("what's the title of the article")


def test_a_who_question_is_answered_by_a_kind_of_named_things():
    focus = question_focus("who benefits most from stolen information")
    assert missing(focus, "The worth of stolen information can be astronomical, especially to firms.") is None
    assert missing(focus, "Stolen information is hard to trace by the central government.") is not None


def test_typed_near_topic_questions_are_refused(engine):
    for question in ("exact date of the first law enforcement and cybersecurity dialogue",
                     "by what percentage did cyber theft fall after the 2015 deal",
                     "names of the chinese hackers the doj indicted in 2014",
                     "whats the title of the 2017 mit report and who wrote it"):
        answer = engine.ask(question)
        assert not answer.answerable and answer.citations, question


def test_prc_is_read_as_china(engine):
    answer = engine.ask("why should the us and prc be the ones leading on this")
    assert answer.answerable and "As the world’s largest economies" in answer.answer
    assert "read 'prc' as 'China'" in answer.notes
