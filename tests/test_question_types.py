"""Answer types read from a question: a time, a quantity, a name, a place; and whether a passage holds one."""
import pytest

from qa.analysis import expected_answer_type
from qa.answer import has_answer_type


@pytest.mark.parametrize("question, kind", [
    ("when was it held", "time"), ("what time does the office open", "time"), ("whats the time in beijing", "time"),
    ("how long did the talks take", "count"), ("how old is he", "count"), ("what is the budget of the endowment", "count"),
    ("what is the carnegie endowments annual budget", "count"), ("what is the main value of it", None),
    ("where does he teach", "place"), ("in which city is the centre", "place"),
    ("who wrote it", "name"), ("what did the agreement bar", None), ("what kind of theft", None),
])
def test_the_answer_type_a_question_asks_for(question, kind):
    assert expected_answer_type(question) == kind


@pytest.mark.parametrize("text, ok", [
    ("Greer is an instructor at the Air Force Academy.", True), ("Montierth works in Beijing.", True),
    ("Analysts suggest efforts to infiltrate U.S. companies continue.", False),
    ("It was not addressed in the 2015 agreement.", False), ("The meeting held in March warned.", False),
])
def test_a_place_answer_says_where(text, ok):
    assert has_answer_type(text, "place") is ok


@pytest.mark.parametrize("text, ok", [
    ("Although Xi may act independently.", False),   # the verb, not the month
    ("It was held in May.", True), ("On May 5 they met.", True), ("The G20 met in March.", True),
])
def test_a_time_answer_says_when(text, ok):
    assert has_answer_type(text, "time") is ok
