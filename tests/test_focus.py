"""Focus: a question about what someone said needs that speaker reported in the answer; one about a date to come, a date."""
import pytest

from qa.focus import Focus, missing, question_focus

REPORTED = "The G20 Finance Ministers' meeting warned that “attacks could disrupt financial services.”"


@pytest.mark.parametrize("question, speaker", [
    ("what did the g20 say about ict", ("g20",)),
    ("What has the Carnegie Endowment called for?", ("carnegi", "endow")),
    ("how did the chinese government react", ("chines", "govern")),
    ("what was the FBI's response", ("fbi",)),
    ("what did they say could be disrupted", ()),          # a follow-up: the speaker is in the history
    ("what do the authors say the agreement showed", ()),  # the article itself
    ("what has the united states refused to commit to", ()),   # "states" is not a verb of saying here
    ("what did the agreement bar", ()),
])
def test_the_speaker_a_question_asks_about(question, speaker):
    assert question_focus(question).speaker == speaker


def test_an_answer_must_name_the_speaker_and_report_speech():
    assert missing(question_focus("what did the g20 meeting say"), REPORTED) is None
    assert "never names fbi" in missing(question_focus("what did the fbi say about hackers"), REPORTED)
    # named, but only as part of a name, not as saying anything
    assert "not reported" in missing(question_focus("what did obama say"), "The Obama-Xi agreement fell short.")


@pytest.mark.parametrize("question, future", [
    ("when will the agreement be renewed", True), ("When is the next dialogue?", True),
    ("when was the meeting held", False), ("when did the talks start", False), ("what will happen next", False),
])
def test_questions_about_a_time_to_come(question, future):
    assert question_focus(question).future is future


@pytest.mark.parametrize("answer, ok", [
    ("The next round is planned for March 2026.", True), ("They meet again next month.", True),
    ("Talks will resume in two weeks.", True), ("Future dialogues may expand on it.", False),
    ("Earlier this month, the two countries met.", False), ("The meeting held in March warned of risks.", False),
    ("Future dialogues build on cooperation begun in 2015.", False),
    ("Cooperation may grow in coming years.", False), ("The current administrations now have an opportunity.", False),
])
def test_a_time_to_come_needs_a_date(answer, ok):
    assert (missing(Focus(future=True), answer) is None) is ok


def test_most_questions_ask_for_nothing_more():
    assert question_focus("why did the 2015 agreement fall short") == Focus()
    assert missing(Focus(), "anything") is None


@pytest.mark.parametrize("question, kind", [
    ("which american firms lost data to chinese hackers", "firms"), ("Which two countries met?", "countries"),
    ("which us companies did hackers target", "companies"),
    ("what were the names of the officers charged in the 2014 indictment", "officers"),
    ("names of the people who attended the first dialogue", "people"),
    ("Which two realms are getting tangled up?", None),            # not a kind of named thing
    ("Which Chinese leader keeps tightening his grip?", "leader"),   # singular kinds count too
    ("Which Chinese realm keeps tightening its grip?", None),
    ("What contingency plans should governments prepare?", None),
])
def test_the_kind_of_named_things_a_question_asks_for(question, kind):
    assert question_focus(question).things == kind


def test_an_answer_naming_none_of_the_things_asked_for_must_share_the_rest():
    focus = question_focus("which american firms lost data to chinese hackers")
    assert "asks which firms" in missing(focus, "Little came of the 2014 effort to indict Chinese hackers.")
    assert missing(focus, "Two American firms lost data to Chinese hackers.") is None   # names the kind
    # the kind unnamed, but most of the other words there: a paraphrase ("United States and China" for countries)
    assert missing(question_focus("which two countries met earlier this month"),
                   "Earlier this month, the United States and China met.") is None


def test_a_who_question_needs_most_of_its_words_in_the_answer_unless_it_is_a_follow_up():
    focus = question_focus("who is the current chinese ambassador to the united states")
    assert focus.things == "who"
    assert "asks who" in missing(focus, "Nathan Montierth is a Young Ambassador at a center in Beijing.")
    assert missing(focus, "Mr Li is the current Chinese ambassador to the United States.") is None
    assert question_focus("who were they going after", followup=True) == Focus()


@pytest.mark.parametrize("question, verbs", [
    ("who represented china at the dialogue", ("represented",)),
    ("which us companies did chinese hackers target", ("target",)),
    ("which companies did the pla hack", ("hack",)),                      # a determiner opens the subject
    ("which banks were hit by cyber attacks in 2017", ("hit",)),          # an irregular participle
    ("which chinese officials have attended the talks", ("attended",)),
    ("names of the people who attended the first dialogue", ("attended",)),
    ("who continues to consolidate power", ("continues", "consolidate")),
    ("who keeps consolidating power", ("keeps", "consolidating")),
    ("who is the head of the endowment", ()), ("who is captain adam greer", ()),   # copulas
    ("which countries have an overwhelming stake", ()),
])
def test_the_predicate_of_a_which_or_who_question(question, verbs):
    assert question_focus(question).predicate == verbs


def test_an_answer_naming_none_of_the_things_asked_for_must_say_what_they_did():
    focus = question_focus("who represented china at the dialogue")
    assert "asks who represented" in missing(focus, "Earlier this month, the United States and China met for the first dialogue.")
    assert missing(focus, "Minister Wang represented China at the dialogue.") is None
    # the kind as a word, not a word sharing its stem: "banking" does not name banks
    banks = question_focus("which banks were hit by cyber attacks in 2017")
    assert "asks which banks hit" in missing(banks, "A 2017 cyber attack could hurt confidence in banking systems.")
    assert missing(banks, "Two banks were hit by cyber attacks in 2017.") is None
    # a verb of urging or saying is said by any report of speech
    urged = question_focus("who urged states not to attack financial data")
    assert missing(urged, "The Endowment has called upon states not to attack financial data.") is None
    assert missing(question_focus("which organisations warned about it"),
                   "Organizations like the Endowment warned about it.") is None   # British and American spelling


@pytest.mark.parametrize("question, pinned", [
    ("whats the weather in beijing tomorrow", True), ("what time does the office open tomorow", True),
    ("how did the league end last season", True), ("how would analysts describe today's intrusions", False),
    ("what is the weather like in beijing", False),
])
def test_a_question_pinned_to_a_time_needs_an_answer_saying_one(question, pinned):
    focus = question_focus(question)
    assert focus.pinned is pinned
    bio = "Nathan Montierth is a Young Ambassador at a center in Beijing."
    assert (missing(focus, bio) is not None) is pinned
    assert missing(focus, "Earlier this month, the two countries met in Beijing.") is None


def test_a_number_the_question_names_must_be_in_the_answer_unless_it_asks_why():
    focus = question_focus("what agreement did the us and china sign in 2017")
    assert focus.numbers == ("2017",)
    assert "names 2017" in missing(focus, "Cooperation begun in 2015 with the Obama-Xi cyber agreement.")
    assert missing(focus, "In 2017 the two countries signed a pact.") is None
    assert question_focus("why did the 2015 agreement fall short").numbers == ()   # reasons, not the year
    assert question_focus("what did the g20 say").numbers == ()                    # part of a name


def test_singular_kinds_and_names_of():
    assert question_focus("what university did adam greer attend").things == "university"
    assert question_focus("what is the name of the official who led it").things == "official"
    assert "asks which university attend" in missing(question_focus("what university did adam greer attend"),
                                                     "Adam Greer is an instructor at the Air Force Academy.")


def test_a_recommendation_asked_for_needs_one_in_the_answer():
    focus = question_focus("what did the mit report recommend")
    assert focus.directive
    assert "not reported as recommending" in missing(focus, "In the words of a 2017 MIT report, attacks “wreak havoc.”")
    assert missing(focus, "The MIT report recommended that banks should share data.") is None
    assert not question_focus("what did the mit report say").directive


def test_the_name_of_a_kind_may_come_after_several_words():
    focus = question_focus("what is the name of the department of justice official who led the indictments")
    assert (focus.things, focus.predicate) == ("official", ("led",))
    assert question_focus("which one of the five big us banks lost data").things is None   # "which": one modifier
