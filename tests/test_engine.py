"""The engine end to end with the real model: answers, offsets, follow-ups, abstaining, bad input."""
import dataclasses
import json

import pytest

from qa import QuestionError
from qa.answer import has_answer_type
from qa.cli import EVAL_DIR
from qa.evaluation import evaluate, load_eval_set
from qa.lexical import BM25, terms


def test_answer_shape_is_json_and_offsets_are_exact(engine):
    answer = engine.ask("Which organization called on states to commit not to attack financial systems?")
    assert answer.to_dict() == dataclasses.asdict(answer)
    data = json.loads(json.dumps(answer.to_dict()))
    assert set(data) == {"id", "question", "answerable", "answer", "answer_spans", "citations", "latency_ms", "notes"}
    assert data["answerable"] is True
    text = engine.documents["us-china-cyber-relations.txt"].text
    assert [c["n"] for c in data["citations"]] == [1, 2, 3]
    for c in data["citations"]:
        assert text[c["start"]:c["end"]] == c["text"]
        assert c["paragraph"] >= 1 and c["sentence"] >= 1
    for span in data["answer_spans"]:
        assert text[span["start"]:span["end"]] in data["answer"]
    assert "Carnegie Endowment" in data["answer"]


def test_every_chunk_offset_is_exact(engine):
    for chunk in engine.data.chunks:
        assert engine.documents[chunk.doc].text[chunk.start:chunk.end] == chunk.text


def test_followup_uses_history(engine):
    history = ["What was the first Law Enforcement and Cybersecurity Dialogue?"]
    alone = engine.ask("Who took part in it?")
    followed = engine.ask("Who took part in it?", history=history)
    assert "the United States and China met" in followed.citations[0].text
    assert "the United States and China met" not in alone.citations[0].text
    held = engine.ask("When was that meeting held?", history=["What did the G20 meeting warn about?"])
    assert "held in March this year" in held.answer


def test_off_topic_is_declined_but_lists_related_passages(engine):
    answer = engine.ask("What is a good recipe for banana bread?")
    assert answer.answerable is False
    assert answer.answer.startswith("The article does not cover")
    assert answer.answer_spans == [] and answer.citations


@pytest.mark.parametrize("question, answerable", [
    ("what did obama say about the deal", False),          # named only inside "the Obama-Xi agreement"
    ("what did the chinese government say about the indictments", False),
    ("which american firms lost data to chinese hackers", False),
    ("when will the agreement be renewed", False),
    ("what did the g20 say about ict", True),
    ("which two countries met earlier this month", True),
])
def test_a_question_whose_focus_the_best_sentence_does_not_supply_is_declined(engine, question, answerable):
    answer = engine.ask(question)
    assert answer.answerable is answerable, answer.answer
    assert answer.citations   # the closest passages are listed either way


def test_unknown_names_are_declined(engine):
    answer = engine.ask("What sanctions did the US impose on Huawei?")
    assert answer.answerable is False
    assert "Huawei" in answer.answer


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01\n\t"])
def test_empty_question_raises(engine, bad):
    with pytest.raises(QuestionError, match="question is empty"):
        engine.ask(bad)


def test_long_question_is_cut_with_a_note_and_controls_stripped(engine):
    answer = engine.ask("Who wrote\x00 the article? " + "x" * 3000)
    assert len(answer.question) <= 2000 and "\x00" not in answer.question
    assert answer.notes and "cut to its first 2000" in answer.notes[0]


@pytest.mark.parametrize("k", [0, 21, "3"])
def test_bad_top_k_lists_valid_range(engine, k):
    with pytest.raises(QuestionError, match="top_k must be an integer from 1 to 20"):
        engine.ask("Who wrote the article?", top_k=k)


def test_top_k_larger_than_corpus_returns_what_exists(engine):
    answer = engine.ask("cyber", top_k=20)
    assert 1 <= len(answer.citations) <= 20
    assert len({c.start for c in answer.citations}) == len(answer.citations)


def test_ask_many_equals_ask(engine):
    questions = ["Who wrote the article?", "When was that meeting held?", "How tall is Mount Everest?"]
    histories = [[], ["What did the G20 warn about?"], []]
    many = engine.ask_many(questions, histories)
    for q, h, got in zip(questions, histories, many):
        one = engine.ask(q, history=h)
        a, b = got.to_dict(), one.to_dict()
        a.pop("latency_ms"), b.pop("latency_ms")
        assert a == b


def test_ask_many_answers_around_an_empty_question(engine):
    from qa.engine import QuestionFailure

    good, bad, last = engine.ask_many(["Who wrote the article?", " ", "What did the 2015 agreement bar?"],
                                      ids=["a", "b", "c"])
    assert isinstance(bad, QuestionFailure) and bad.to_dict() == {"id": "b", "question": " ", "error": "empty question"}
    assert good.id == "a" and good.answerable and last.id == "c" and "barred" in last.answer
    with pytest.raises(QuestionError, match="question is empty"):   # one question alone still raises
        engine.ask(" ")


def test_bm25_edge_cases():
    bm25 = BM25.build([terms("cyber theft of property"), terms("financial data"), terms("cyber theft of property")])
    assert bm25.scores([]).tolist() == [0, 0, 0]
    assert bm25.scores(terms("zebra")).tolist() == [0, 0, 0]
    scores = bm25.scores(terms("cyber thefts"))
    assert scores[0] == scores[2] > scores[1] == 0
    assert BM25.build([]).scores(["x"]).shape == (0,)


# Floors about one question below the measured scores (README "Evaluation"), so a regression fails CI. The two
# typed holdouts were scored blind once and are regression sets now (their citations run longer: 446 chars).
FLOORS = {
    "questions": {"answer_correct": 0.86, "rank1": 0.9, "top3": 0.97, "followup_rank1": 0.92,
                  "answer_rate": 0.94, "off_topic_abstained": 1.0, "near_topic_abstained": 0.83},
    "holdout": {"answer_correct": 0.96, "rank1": 0.96, "top3": 0.96, "followup_rank1": 0.83,
                "answer_rate": 0.96, "off_topic_abstained": 1.0, "near_topic_abstained": 0.8},
    "holdout-b": {"answer_correct": 0.93, "rank1": 0.93, "top3": 0.96, "followup_rank1": 0.8,
                  "answer_rate": 0.96, "off_topic_abstained": 1.0, "near_topic_abstained": 0.75},
    "typed": {"answer_correct": 0.9, "rank1": 0.91, "top3": 0.95, "followup_rank1": 0.86,
              "answer_rate": 0.96, "off_topic_abstained": 1.0, "near_topic_abstained": 0.8},
    "typed-holdout": {"answer_correct": 0.96, "rank1": 0.96, "top3": 0.96, "followup_rank1": 0.75,
                      "answer_rate": 0.96, "off_topic_abstained": 1.0, "near_topic_abstained": 0.6},
    "typed-holdout-2": {"answer_correct": 0.84, "rank1": 0.84, "top3": 0.92, "followup_rank1": 0.66,
                        "answer_rate": 0.92, "off_topic_abstained": 1.0, "near_topic_abstained": 0.87},
    # scored blind once (answer correct 67.9%, rank 1 75.0%, follow-ups 2 of 6, near-topic 3 of 8); its misses
    # were then read to design the third pass (README), so these floors are a regression set's
    "typed-holdout-3": {"answer_correct": 0.89, "rank1": 0.89, "top3": 0.92, "followup_rank1": 0.83,
                        "answer_rate": 0.92, "off_topic_abstained": 1.0, "near_topic_abstained": 0.87},
    # scored blind once (answer correct 84.4%, rank 1 90.6%, top 3 96.9%, follow-ups 6 of 6, answered 93.8%,
    # near-topic 4 of 5); "name the ..." fixed after it was read; now a regression set
    "typed-holdout-4": {"answer_correct": 0.87, "rank1": 0.9, "top3": 0.96, "followup_rank1": 0.83,
                        "answer_rate": 0.93, "off_topic_abstained": 1.0, "near_topic_abstained": 0.8},
    # scored blind once (answer correct 81.2%, rank 1 89.6%, top 3 93.8%, follow-ups 7 of 8, answered 93.8%,
    # near-topic 6 of 7); two general causes fixed after it was read; now a regression set
    "typed-holdout-5": {"answer_correct": 0.87, "rank1": 0.89, "top3": 0.93, "followup_rank1": 0.87,
                        "answer_rate": 0.95, "off_topic_abstained": 1.0, "near_topic_abstained": 0.85},
    # scored blind once (answer correct 88.0%, rank 1 90.0%, top 3 96.0%, follow-ups 7 of 8, answered 94.0%,
    # near-topic 7 of 8); four general causes fixed after it was read; now a regression set
    "typed-holdout-6": {"answer_correct": 0.92, "rank1": 0.92, "top3": 0.96, "followup_rank1": 0.75,
                        "answer_rate": 0.96, "off_topic_abstained": 1.0, "near_topic_abstained": 0.75},
}
CITATION_CAP = {"typed-holdout-2": 460}   # median characters of the top citation; 400 for the others


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_evaluation_sets_meet_floors(engine, name):
    metrics = evaluate(engine, load_eval_set(EVAL_DIR / f"{name}.jsonl"))["metrics"]
    for metric, floor in FLOORS[name].items():
        assert metrics[metric] >= floor, (name, metric, metrics[metric])
    assert metrics["median_top_citation_chars"] <= CITATION_CAP.get(name, 400)


def test_a_sentence_holding_every_word_asked_answers_a_short_question(engine):
    # The embedding of "What could be a palatable step?" is far (0.24) from the long sentence.
    answer = engine.ask("What could be a palatable step?")
    assert answer.answerable and "may be a palatable step" in answer.answer
    assert engine.ask("What could be a palatable recipe?").answerable is False   # "recipe": not in it


def test_the_authors_as_subject_do_not_pull_in_the_byline(engine):
    answer = engine.ask("What do the authors recommend?")
    assert "The views are the authors." not in answer.answer


@pytest.mark.parametrize("text, has_count", [
    ("They lost 3 million dollars.", True), ("There are several possible explanations.", True),
    ("In the words of a 2017 MIT report, attacks wreak havoc.", False), ("The G20 meeting warned.", False),
])
def test_a_year_or_a_name_is_not_a_quantity(text, has_count):
    assert has_answer_type(text, "count") is has_count


def test_agent_nouns_meet_their_verbs():
    assert terms("hackers hacking leaders leading") == ["hack", "hack", "lead", "lead"]
    assert terms("water power") == ["water", "power"]   # short stems are left alone


def test_the_similarity_bar_rises_with_the_corpus_size(engine):
    from qa.answer import Composer

    assert engine.composer.corpus_sentences == len(engine.data.sentences)
    assert engine.composer.similarity_bar == engine.composer.min_similarity      # the article: under 1,000
    assert Composer(corpus_sentences=1_000).similarity_bar == 0.4
    assert abs(Composer(corpus_sentences=100_000).similarity_bar - 0.5) < 1e-9
    assert abs(Composer(corpus_sentences=10_000, similarity_per_decade=0.1).similarity_bar - 0.5) < 1e-9
