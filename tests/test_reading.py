"""Questions as people type them: typos, abbreviations, names in lower case, preambles, case and punctuation."""
import pytest

from qa.abbreviations import Abbreviations, learn
from qa.question import read_question, split_preamble
from qa.specifics import looks_specific, specific_words
from qa.spelling import Speller

SENTENCES = ["Hackers in state-owned enterprises (SOEs) may act alone.",
             "The U.S. Department of Justice’s 2014 effort to indict hackers.",
             "The agreement barred the theft of intellectual property by organizations."]


def test_spelling_corrects_only_confident_misspellings():
    speller = Speller(SENTENCES)
    assert speller.correct("aggreement") == "agreement"        # a corpus word
    assert speller.correct("wrot") == "wrote"                   # a common English word
    assert speller.correct("beleive") == "believe"              # two letters swapped
    assert speller.correct("organisations") == "organizations"  # the corpus's spelling
    assert speller.correct("agreement") is None                 # in the corpus
    assert speller.correct("banana") is None                    # common English
    assert speller.correct("xqzvw") is None                     # nothing close


def test_abbreviations_are_learned_from_the_corpus_and_the_general_list_needs_the_long_form():
    assert learn(["use of Information and Communication Technologies (ICT) could"]) == {
        "ict": "Information and Communication Technologies"}
    assert learn(["the (USA) and (XYZ) unrelated words"]) == {}
    table = Abbreviations(SENTENCES).table
    assert table["soe"] == "state-owned enterprises" and table["doj"] == "Department of Justice"
    assert "fbi" not in table          # its long form is not in the corpus
    expanded, notes = Abbreviations(SENTENCES).expand("did the doj indict SOEs? tell us about it")
    assert expanded == "did the Department of Justice indict state-owned enterprises? tell us about it"
    assert notes == ["read 'doj' as 'Department of Justice'", "read 'SOEs' as 'state-owned enterprises'"]


@pytest.mark.parametrize("word, specific", [
    ("putin", True), ("Huawei", True), ("interpol", True), ("2019", True), ("gdp", True), ("FBI", True),
    ("I've", False), ("ok", False), ("OK", False), ("thanks", False), ("pilfered", False), ("shortfall", False),
    ("zone", False), ("agreement", False), ("freelance", False), ("rein", False),
])
def test_specific_words_are_judged_whatever_their_case(word, specific):
    assert looks_specific(word) is specific


def test_a_capitalised_word_at_a_sentence_start_is_not_a_name():
    assert specific_words("OK so I've read it. Then what did Trump say?") == ["Trump"]


def test_the_question_inside_a_rambling_message():
    preamble, asked = split_preamble("so I was reading the bit about banks and I wondered, what could a loss of "
                                     "public confidence in banking do")
    assert asked == "what could a loss of public confidence in banking do" and preamble.startswith("so I was")
    assert split_preamble("Despite the pact's shortcomings, what does the tagline say they can still do?")[0] == ""
    reading = read_question("hi there, quick question for a school project. whats the doj 2014 effort",
                            abbreviations=Abbreviations(SENTENCES))
    assert reading.text == "what's the Department of Justice 2014 effort?"
    assert reading.notes[0] == "read the question as 'whats the doj 2014 effort'"


def test_typos_are_answered_like_the_question_spelt_right(engine):
    typed = engine.ask("who wrot this artcle and wher do they wrk?")
    right = engine.ask("who wrote this article and where do they work?")
    assert typed.answerable and typed.answer == right.answer and "Adam Greer" in typed.answer
    assert "read 'artcle' as 'article'" in typed.notes


def test_a_rare_real_word_still_finds_its_answer(engine):
    answer = engine.ask("What nuclear-era pledge do the writers liken a blanket ban on financial-data attacks to?")
    assert "akin to a nuclear weapons no-first-use commitment" in answer.answer


def test_the_docs_example_is_answered_with_the_barred_sentence(engine):
    assert "barred state-sanctioned cyber theft" in engine.ask("What did the 2015 agreement bar?").answer


@pytest.mark.parametrize("variant", [
    "what did the 2015 agreement bar", "WHAT DID THE 2015 AGREEMENT BAR?", "What did the 2015 agreement bar?!",
])
def test_case_and_punctuation_do_not_change_the_answer(engine, variant):
    assert engine.ask(variant).answer == engine.ask("What did the 2015 agreement bar?").answer


def test_british_spelling_gives_the_american_answer(engine):
    british = engine.ask("which organisations have called on states not to attack financial data")
    american = engine.ask("which organizations have called on states not to attack financial data")
    assert british.answer == american.answer and "Carnegie Endowment" in british.answer


def test_a_preamble_with_i_ve_is_not_a_name(engine):
    answer = engine.ask("ok so I've been reading about this for ages and I'm curious. "
                        "what could a loss of public confidence in banking systems do")
    assert answer.answerable and "similarly catastrophic" in answer.answer


@pytest.mark.parametrize("question, absent", [
    ("what did putin say about the agreement", "putin"), ("did interpol help with the investigation", "interpol"),
    ("what sanctions were put on huawei", "huawei"),
])
def test_lower_case_names_the_article_lacks_are_refused(engine, question, absent):
    answer = engine.ask(question)
    assert answer.answerable is False and absent in answer.answer and answer.citations


def test_a_who_question_needs_a_name_the_question_lacks(engine):
    assert engine.ask("who is the head of the carnegie endowment").answerable is False
    assert "Xi Jinping" in engine.ask("Who keeps consolidating power in China?").answer


def test_keyword_queries_work(engine):
    assert "Carnegie Endowment" in engine.ask("carnegie call").answer
    assert "Adam Greer" in engine.ask("authors").answer


def test_contractions_are_not_content_words():
    from qa.lexical import terms

    assert terms("what's the pact's step? don't I've") == ["pact", "step"]


def test_a_dotted_abbreviation_does_not_end_the_question():
    question = "Why did the U.S. Department of Justice indict Chinese state-sponsored hackers in 2014?"
    assert split_preamble(question) == ("", question)
    assert split_preamble("naive question: what did the 2015 agreement bar")[1] == "what did the 2015 agreement bar"


def test_swapped_letters_and_other_scripts():
    speller = Speller(SENTENCES)
    assert speller.correct("waht") == "what"
    reading = read_question("¿qué prohibió el acuerdo?", speller)
    assert reading.text == "¿qué prohibió el acuerdo" and not reading.spelling_notes


@pytest.mark.parametrize("variant", ["which academy employs one of the writers",
                                     "Which academy employs one of the writers?!", "which academy employs one of the writers."])
def test_trailing_punctuation_does_not_change_the_answer(engine, variant):
    assert engine.ask(variant).answer == engine.ask("Which academy employs one of the writers?").answer
