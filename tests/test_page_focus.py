"""Page questions with two articles in the corpus: answered from the document in focus, never another one."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.question import QuestionError

ROOT = Path(__file__).resolve().parent.parent
REEF = Path(__file__).resolve().parent / "data" / "coral-reef-recovery.txt"
CYBER = ROOT / "corpus" / "us-china-cyber-relations.txt"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """An engine over the real article and a short fake news article (headline, deck, byline and bios)."""
    from qa import Engine

    corpus = tmp_path_factory.mktemp("two-corpus")
    shutil.copy(CYBER, corpus / CYBER.name)
    shutil.copy(REEF, corpus / REEF.name)
    return Engine.load(corpus=corpus, index=tmp_path_factory.mktemp("two-index"))


def _docs(answer) -> set[str]:
    return {span.doc for span in answer.answer_spans} | {c.doc for c in answer.citations}


def test_profiles_are_found_per_document_and_saved_with_the_index(two):
    profiles = {p.doc: p for p in two.data.profiles}
    assert set(profiles) == {"us-china-cyber-relations.txt", "coral-reef-recovery.txt"}
    reef = profiles["coral-reef-recovery.txt"]
    bios = [two.data.sentences[i].text for i in reef.bio]
    assert len(bios) == 3 and bios[0].startswith("Maria Santos and Daniel Reyes are")
    assert [two.data.sentences[i].text for i in reef.deck][0].startswith("Bleached reefs near Palawan")
    assert reef.title is not None and set(two.data.manifest["profiles"]) == set(profiles)


@pytest.mark.parametrize("doc, focus, author", [
    ("coral-reef-recovery.txt", "the coral reefs of Palawan", "Maria Santos"),
    ("us-china-cyber-relations.txt", "US-China cyber relations", "Adam Greer"),
])
def test_page_questions_are_answered_from_the_document_in_focus(two, doc, focus, author):
    wrote = two.ask(f"Who wrote this article about {focus}?")
    assert wrote.answerable and author in wrote.answer and _docs(wrote) == {doc}
    headline = two.ask(f"What is the headline of the article about {focus}?")
    assert headline.answerable and headline.answer == two.documents[doc].title and _docs(headline) == {doc}
    concludes = two.ask(f"What does the article about {focus} conclude?")
    assert concludes.answerable and _docs(concludes) == {doc}


@pytest.mark.parametrize("doc, author", [("coral-reef-recovery.txt", "Daniel Reyes"),
                                         ("us-china-cyber-relations.txt", "Nathan Montierth")])
def test_a_caller_can_scope_a_question_to_one_document(two, doc, author):
    for question in ("Who wrote this?", "What is the headline?", "What does it conclude?"):
        answer = two.ask(question, doc=doc)
        assert answer.answerable and _docs(answer) == {doc}, question
    assert author in two.ask("Who wrote this?", doc=doc).answer


def test_an_unknown_document_is_a_question_error(two):
    with pytest.raises(QuestionError, match="no document 'nope'"):
        two.ask("Who wrote this?", doc="nope")
