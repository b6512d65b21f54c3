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
    ("Talks resume in two weeks.", True), ("Future dialogues may expand on it.", False),
    ("Cooperation may grow in coming years.", False), ("The current administrations now have an opportunity.", False),
])
def test_a_time_to_come_needs_a_date(answer, ok):
    assert (missing(Focus(future=True), answer) is None) is ok


def test_most_questions_ask_for_nothing_more():
    assert question_focus("why did the 2015 agreement fall short") == Focus()
    assert missing(Focus(), "anything") is None
