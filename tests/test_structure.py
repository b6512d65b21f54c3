"""Page structure on the real article (deck, byline, the article's own questions), and what a question asks about."""

import pytest

from qa.chunking import Sentence, split_sentences
from qa.corpus import load_corpus
from qa.question import is_followup
from qa.analysis import question_topics
from qa.structure import asks, sentence_roles


@pytest.fixture(scope="module")
def sentences(corpus_dir):
    return split_sentences(load_corpus(corpus_dir))


def _texts(sentences, mask):
    return [s.text for s in sentences if mask[s.id]]


def test_deck_is_the_one_sentence_summary_under_the_headline(sentences):
    deck = _texts(sentences, sentence_roles(sentences)["deck"])
    summary = "The 2015 agreement may have fallen short of its goals, but the U.S. and China can still cooperate"
    assert deck == [summary + " on cyber issues."]


def test_byline_is_the_last_paragraph_and_bios_name_people(sentences):
    roles = sentence_roles(sentences)
    byline = _texts(sentences, roles["byline"])
    assert len(byline) == 3 and byline[-1] == "The views are the authors."
    assert [t.split(" is ")[0] for t in _texts(sentences, roles["bio"])] == ["Captain Adam Greer", "Nathan Montierth"]


def test_conclusion_is_the_last_paragraph_before_the_byline(sentences):
    conclusion = _texts(sentences, sentence_roles(sentences)["conclusion"])
    assert conclusion[0] == "The timing might be right for progress." and len(conclusion) == 3


def test_a_plain_article_has_no_deck_or_byline():
    plain = [Sentence(i, "d", p, 1, 0, 1, text) for i, (p, text) in enumerate(
        [(1, "The lede sets out the story."), (1, "It has two sentences."), (2, "Body text follows here."),
         (3, "The end of the story is near.")])]
    roles = sentence_roles(plain)
    assert not roles["deck"].any() and not roles["byline"].any()
    assert _texts(plain, roles["conclusion"]) == ["The end of the story is near."]


@pytest.mark.parametrize("question, topics", [
    ("Who wrote this article?", {"byline", "bio"}),
    ("Who wrote it?", {"byline", "bio"}),
    ("Who are the authors?", {"byline", "bio"}),
    ("Whose opinions does the piece express?", {"byline"}),
    ("Who wrote Pride and Prejudice?", set()),
    ("Is this a good moment, in the authors' view?", set()),
    ("What does the sub-headline say about the 2015 agreement?", {"deck"}),
    ("Per the tagline, can they still cooperate?", {"deck"}),
    ("What is the main argument of the article?", {"deck"}),
    ("What is this article about?", {"deck"}),
    ("What's the subheading?", {"deck"}),
    ("What does the text under the title say?", {"deck"}),
    ("What does the article conclude?", {"conclusion"}),
    ("What's the bottom line?", {"conclusion"}),
    ("Tell me about the authors.", {"byline", "bio"}),
    ("What question do the authors pose about the agreement?", {"asked"}),
    ("What did the 2015 agreement bar?", set()),
    ("What is the title of this article?", {"title"}),
    ("What's the article called?", {"title"}),
    ("What is the headline's question?", {"title"}),
    ("What title does Montierth hold?", set()),
])
def test_question_topics(question, topics):
    assert question_topics(question) == topics


@pytest.mark.parametrize("question, kind", [
    ("Why did it fall short?", "why"), ("So why did it fail?", "why"), ("What explains the failure?", "why"),
    ("What did the agreement bar?", "what"), ("When was the meeting held?", "when"), ("Did it work?", None),
])
def test_asks_names_the_kind_of_question(question, kind):
    assert asks(question) == kind


def test_questions_about_the_page_are_answered_from_it(engine):
    wrote = engine.ask("Who wrote this article?")
    assert wrote.answerable and "Captain Adam Greer" in wrote.answer and "Nathan Montierth" in wrote.answer
    deck = engine.ask("What does the subtitle say?")
    assert deck.answerable and deck.citations[0].paragraph == 1
    title = engine.ask("What is the headline?")
    span = title.answer_spans[0]
    assert title.answer == "How Are US-China Cyber Relations Progressing?"
    assert engine.documents[span.doc].text[span.start:span.end] == title.answer
    headline, below = title.citations[:2]      # the headline is quoted first, then the summary under it
    assert (headline.n, headline.paragraph, below.n, below.paragraph) == (1, 0, 2, 1)
    assert (headline.start, headline.end, headline.answer_start, headline.answer_end) == (span.start, span.end,
                                                                                         span.start, span.end)
    assert engine.documents[headline.doc].text[headline.start:headline.end] == headline.text == title.answer
    concluded = engine.ask("What does the article conclude?")
    assert concluded.answerable and concluded.citations[0].paragraph == 8
    about = engine.ask("Tell me about the authors.")
    assert "Captain Adam Greer" in about.answer and "The views are the authors." not in about.answer
    posed = engine.ask("What question do the authors pose about the agreement?")
    assert "Why has the 2015 agreement seemingly fallen short" in posed.answer


def test_the_article_question_is_answered_by_what_follows_it(engine):
    answer = engine.ask("Why did it fall short?", history=["What did the 2015 agreement bar?"])
    assert answer.answerable and not answer.answer.rstrip().endswith("?")
    assert "There are several possible explanations" in answer.answer
    assert "control over entrepreneurial Chinese cyber actors may be limited" in answer.answer


@pytest.mark.parametrize("question, followup", [
    ("Why did it fall short?", True), ("When was that meeting held?", True), ("And the other?", True),
    ("Which one is perhaps the most important?", True), ("What else did it call for?", True),
    ("What did the G20 finance ministers warn about?", False),
])
def test_followups_are_recognised(question, followup):
    assert is_followup(question, ["What explanations are there for the agreement falling short?"]) is followup
    assert is_followup(question, []) is False
