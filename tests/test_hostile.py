"""Hostile and odd questions: the engine never raises anything but the documented QuestionError."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import QuestionError

ODD = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec=None, categories=("Cc", "Cs", "Cf", "Mn", "Zs", "So")), max_size=80),
    st.sampled_from(["", " \t\n", "\x00" * 10, "مرحبا ما هو الاتفاق؟", "e\u0301\u0301\u0301", "🔥" * 50,
                     "\ud800 lone surrogate", "<script>alert(1)</script>", "a" * 50_000]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=ODD, history=st.lists(st.text(max_size=40), max_size=3))
def test_ask_returns_an_answer_or_question_error(engine, question, history):
    try:
        answer = engine.ask(question, history=history)
    except QuestionError as exc:
        assert "question" in str(exc)
        return
    data = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8"))
    assert isinstance(data["answerable"], bool)
    assert 0 < len(data["question"]) <= 2000
    text = engine.documents["us-china-cyber-relations.txt"].text
    for c in data["citations"]:
        assert text[c["start"]:c["end"]] == c["text"]


def test_non_string_question_is_a_question_error(engine):
    for bad in (None, 42, ["list"]):
        try:
            engine.ask(bad)
        except QuestionError as exc:
            assert "must be text" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")
