"""Question hygiene and follow-ups: clean what the user typed, and resolve a follow-up against earlier questions."""
from __future__ import annotations

import re
import unicodedata

from .config import MAX_QUESTION_CHARS


class QuestionError(ValueError):
    """The question cannot be asked (empty once cleaned)."""


_WORD = re.compile(r"[\w’']+")
#: Words that point back at something said earlier.
_ANAPHORA = frozenset({
    "it", "its", "it's", "they", "them", "their", "theirs", "that", "this", "those", "these",
    "he", "him", "his", "she", "her", "there", "then", "such", "same", "former", "latter",
    "else", "another", "others",
})
_FOLLOWUP_OPENERS = ("and ", "what about", "how about", "also", "why", "how so", "so ", "which one", "which of")
#: A question with at most this many words and earlier history is treated as a follow-up.
_SHORT_QUESTION_WORDS = 4


# Conversational framing that names the article or its authors rather than the subject;
# it pulls retrieval toward the byline ("The views are the authors.").
_FRAMING = re.compile(
    r"\b(according to|in the view of|per) (the )?(authors?|article|piece|writers?|text|story)\b[’']?|"
    r"\bin the (authors?|writers?)[’']?s?[’']? (view|opinion)\b|"
    r"\b(does|do|did) (the )?(article|piece|authors?|writers?|text|story) (say|suggest|argue|think|claim)\b|"
    r"\b(does|do|did) (the )?(authors?|writers?)\b",
    re.IGNORECASE)


def retrieval_text(question: str) -> str:
    """``question`` without framing about the article itself ("according to the authors").

    Example:
        >>> retrieval_text("Is now a good time, in the authors' view?")
        'Is now a good time, ?'
    """
    stripped = _FRAMING.sub("", question)
    return stripped if stripped.strip(" ,?.!") else question


def clean_question(text: str, limit: int = MAX_QUESTION_CHARS) -> tuple[str, list[str]]:
    """Strip control characters and lone surrogates, collapse whitespace, cut to ``limit`` characters.

    Args:
        text: what the user typed.
        limit: longest question kept. Defaults to 2,000 characters.

    Returns:
        ``(question, notes)``: the cleaned question and notes on what was changed.

    Raises:
        QuestionError: nothing is left to ask.
    """
    if not isinstance(text, str):
        raise QuestionError(f"question must be text, got {type(text).__name__}")
    kept = text if text.isprintable() else "".join(  # isprintable: no C* or Z* but " " (fast path)
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text if unicodedata.category(ch) not in ("Cs", "Cf") or ch in "\u200d"
    )
    question = " ".join(kept.split())
    notes = []
    if len(question) > limit:
        question = question[:limit].rstrip()
        notes.append(f"question cut to its first {limit} characters (it had {len(text)})")
    if not question:
        raise QuestionError("question is empty; ask something about the article, "
                            "e.g. \"What did the 2015 agreement bar?\"")
    return question, notes


def is_followup(question: str, history: list[str]) -> bool:
    """Whether ``question`` leans on ``history``: it is short, opens like a follow-up, or uses a pronoun."""
    if not history:
        return False
    lowered = question.lower()
    words = _WORD.findall(lowered)
    return (len(words) <= _SHORT_QUESTION_WORDS or lowered.startswith(_FOLLOWUP_OPENERS)
            or any(w in _ANAPHORA for w in words))


def context_for(question: str, history: list[str], depth: int = 2) -> list[str]:
    """The earlier questions a follow-up refers to, oldest first; ``[]`` for a standalone question.

    The last earlier question is taken; if it was itself a follow-up, the one
    before it too, up to ``depth`` questions. Defaults to 2.
    """
    history = [h for h in history if h and h.strip()]
    if not is_followup(question, history):
        return []
    context: list[str] = []
    while history and len(context) < depth:
        previous = history.pop()
        context.insert(0, previous)
        if not is_followup(previous, history):
            break
    return context
