"""Reading a question: clean what the user typed, find the question in a rambling message, and resolve follow-ups."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .config import MAX_QUESTION_CHARS


class QuestionError(ValueError):
    """The question cannot be asked (empty once cleaned).

    ``reason`` is the short form an error record gives ("empty question"); defaults to the message.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


_WORD = re.compile(r"[\w’']+")
#: Words that point back at something said earlier.
_ANAPHORA = frozenset({
    "it", "its", "it's", "they", "them", "their", "theirs", "that", "this", "those", "these",
    "he", "him", "his", "she", "her", "there", "then", "such", "same", "former", "latter",
    "else", "another", "others",
})
#: A phrase pointing at one of the things an earlier answer named: "the second one", "the 2nd author", "the
#: latter", "the other one"; a noun after the ordinal is one word at most ("the second person"), so "the first
#: law enforcement dialogue" is not one.
REFERENCE = re.compile(
    r"\b(?:the\s+)?(?P<which>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|other)\s+"
    r"(?P<noun>one|ones|of\s+(?:them|those|these|the\s+\w+)|(?:author|writer|person|man|woman|guy|name|people|"
    r"company|organi[sz]ation|country|report|expert|group)s?)\b|\bthe\s+(?P<pair>former|latter)\b",
    re.IGNORECASE)
_FOLLOWUP_OPENERS = ("and ", "what about", "how about", "also", "why", "how so", "so ", "which one", "which of")
#: A question with at most this many words and earlier history is treated as a follow-up.
_SHORT_QUESTION_WORDS = 4


# Conversational framing that names the article or its authors rather than the subject;
# it pulls retrieval toward the byline ("The views are the authors.").
_FRAMING = re.compile(
    r"\b(according to|in the view of|per) (the )?(authors?|article|piece|writers?|text|story)\b[’']?|"
    r"\bin the (authors?|writers?)[’']?s?[’']? (view|opinion)\b|\baccording to (them|him|her)\b|"
    r"\b(does|do|did) (the )?(article|piece|authors?|writers?|text|story) (say|suggest|argue|think|claim)\b|"
    r"\b(is|are|was|were) (the )?(article|piece|authors?|writers?|text|story) (saying|suggesting|arguing|claiming)\b|"
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
        raise QuestionError(f"question must be text, got {type(text).__name__}", "question is not text")
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
                            "e.g. \"What did the 2015 agreement bar?\"", "empty question")
    return question, notes


def is_followup(question: str, history: list[str]) -> bool:
    """Whether ``question`` leans on ``history``: it is short, opens like a follow-up, uses a pronoun (or closes
    with "one": "has the us made one"), or points at one of the things an earlier answer named ("the second
    one", :data:`REFERENCE`)."""
    if not history:
        return False
    lowered = question.lower()
    words = _WORD.findall(lowered)
    return (len(words) <= _SHORT_QUESTION_WORDS or lowered.startswith(_FOLLOWUP_OPENERS)
            or any(w in _ANAPHORA for w in words) or bool(REFERENCE.search(question)) or _closing_one(question))


# "has the us made one", "did china sign one too": "one" closing a follow-up, after a verb, stands for a thing
# of the kind the earlier question named with "a"/"an" ("... compare a no first use pledge to").
_PRONOUN_ONE = re.compile(r"(?<=\s)(?P<before>[\w’']+)\s+one(?=(\s+(too|yet|again|already|as well))?\s*\??\s*$)",
                          re.IGNORECASE)
_NOT_A_VERB = frozenset("""the this that which each every any no other another only same a an first second third
last next any some what no more big small new old good bad best right wrong""".split())
_INDEFINITE = re.compile(r"\b(?:a|an)\s+(?P<thing>[\w’'-]+(?:\s+[\w’'-]+){0,4}?)(?=\s+(?:to|of|in|on|at|for|with|from|by|"
                         r"about|that|which|who|and|or|is|are|was|were|did|does|do|has|have|had|be|been)\b|\s*[?.!]?\s*$)",
                         re.IGNORECASE)


def _closing_one(question: str) -> bool:
    """Whether ``question`` closes with the pronoun "one" after a verb ("has the us made one")."""
    match = _PRONOUN_ONE.search(question)
    if not match or match.group("before").lower() in _NOT_A_VERB:
        return False
    # "the biggest one", "a new one": an adjective after a determiner, not a verb
    previous = _WORD.findall(question[:match.start()].lower())[-1:]
    return not (previous and previous[0] in _NOT_A_VERB | {"most", "least", "very", "really"})


def pronoun_one(question: str, earlier: str) -> str | None:
    """The thing a closing "one" of a follow-up stands for, from the ``earlier`` question: its last
    indefinite noun phrase ("a no first use pledge"); None when the question has no such "one" ("which one",
    "the other one" point elsewhere) or the earlier question names nothing with "a"/"an".

    Example:
        >>> pronoun_one("has the us made one", "what do the authors compare a no first use pledge to")
        'a no first use pledge'
        >>> pronoun_one("which one", "what do the authors compare a no first use pledge to") is None
        True
    """
    if not _closing_one(question):
        return None
    things = list(_INDEFINITE.finditer(earlier))
    if not things:
        return None
    thing = things[-1]
    return earlier[thing.start():thing.end()].strip()


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


# -- reading a question as people type it -------------------------------------------------------

#: Words of conversation, not of content: a clause holding one before a comma is a preamble.
_CHAT = frozenset("""i i'm im i've ive i'd i'll my me mine we we're our us ok okay hi hello hey so well sorry
thanks thank please um uh hmm anyway basically honestly actually question quick""".split())
# Words that may come before the question word of a typed question ("so basically why ...", "just give me ...").
_LEAD = r"((so|and|but|ok|okay|basically|just|anyway|honestly|actually|really|then)\s+){0,3}"
_ASKING = re.compile(
    r"^\W*" + _LEAD + r"(what|whats|what['’]s|which|who|whom|whose|whos|who['’]s|when|where|why|"
    r"how|is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|tell|list|explain|describe|give|"
    r"name|summari[sz]e|show|find|compare|outline)\b", re.IGNORECASE)
# A sentence ends at . ! ? ; but not after "U.S." or a title ("Dr.").
# A request to the bot ("can you tell me", "could u help", "do you know"): talk about the asker, not a question.
_REQUEST = re.compile(r"^\W*(hi\s+|hey\s+)?" + _LEAD + r"((can|could|would|will|may|do|did)\s+"
                      r"(you|u|i|we|ya)\b|(tell|give|show|help)\s+me\b)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<![A-Za-z]\.[A-Za-z]\.)(?<!\b[MD]r\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bSt\.)(?<!\bvs\.)"
                           r"(?<=[.!?;])\s+")
_CLAUSE_BREAK = re.compile(r"(?:,|\s[-–—]|:)\s+")
#: Questions shorter than this (in words) are never split into preamble and question.
_PREAMBLE_MIN_WORDS = 6
# Contractions typed without the apostrophe.
_CONTRACTIONS = {
    "whats": "what's", "whos": "who's", "wheres": "where's", "hows": "how's", "dont": "don't",
    "doesnt": "doesn't", "didnt": "didn't", "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't",
    "werent": "weren't", "cant": "can't", "couldnt": "couldn't", "shouldnt": "shouldn't",
    "wouldnt": "wouldn't", "im": "I'm", "ive": "I've", "theyre": "they're", "hasnt": "hasn't", "havent": "haven't",
}
_TYPED_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def split_preamble(question: str) -> tuple[str, str]:
    """``(preamble, question)``: the conversational lead-in of a long question, and the question inside.

    In a question of at least 6 words, the last sentence that asks something (ends in "?"
    or opens with a question word or "tell me", "list", ...) is the question and what comes
    before it the preamble; within one sentence, a lead-in ending in a comma or dash counts
    only when it talks about the asker ("I was reading ..., what ..."). Otherwise the
    preamble is empty.

    Example:
        >>> split_preamble("hi, quick one for a school project. when did the talks start")
        ('hi, quick one for a school project.', 'when did the talks start')
        >>> split_preamble("Even with ongoing spying, what opportunities remain?")
        ('', 'Even with ongoing spying, what opportunities remain?')
    """
    if len(question.split()) < _PREAMBLE_MIN_WORDS:
        return "", question
    pieces = _SENTENCE_END.split(question)
    for i in range(len(pieces) - 1, 0, -1):
        piece = pieces[i]
        if (piece.rstrip().endswith("?") or _ASKING.match(piece)) and len(piece.split()) >= 2:
            return " ".join(pieces[:i]), " ".join(pieces[i:])
    last = pieces[-1]
    for match in reversed(list(_CLAUSE_BREAK.finditer(last))):
        head, tail = last[: match.start()], last[match.end():]
        # a lead-in that asks a question itself is the first half of a two-part question ("are they still
        # hacking us companies, and how has it changed"), not talk about the asker
        if _ASKING.match(tail) and len(tail.split()) >= 2 and not (_ASKING.match(head) and not _REQUEST.match(head)) and any(
                w.lower() in _CHAT for w in _TYPED_WORD.findall(head)):
            prefix = " ".join(pieces[:-1])
            lead = re.match(_LEAD, tail, re.IGNORECASE).group()   # "so basically why ...": talk, not the question
            return (f"{prefix} {head}".strip() + match.group() + lead).rstrip(), tail[len(lead):]
    return "", question


_QUESTION_OPENER = re.compile(
    r"^\W*(what|whats|what['’]s|which|who|whom|whose|whos|who['’]s|when|where|why|how|is|are|was|were|do|does|did|"
    r"can|could|should|would|will|has|have|had)\b", re.IGNORECASE)


def _punctuate(question: str) -> str:
    """``question`` ending in one "?" when it opens like a question, in none otherwise ("list the reasons"),
    so that "what did it bar", "What did it bar?!" and "what did it bar?" read alike."""
    bare = question.rstrip(" ?!.")
    if not bare:
        return question
    return bare + "?" if _QUESTION_OPENER.match(bare) else bare


@dataclass(frozen=True)
class Reading:
    """How a question is read for retrieval.

    ``text`` is the question with the preamble dropped, contractions restored, abbreviations
    expanded and misspellings corrected; ``uncorrected`` the same without the spelling
    corrections (embedded too, and kept when it matches the corpus better); ``preamble``
    the dropped lead-in ("" when none); ``notes`` say what was read differently;
    ``spelling_notes`` the part of the notes that only holds for ``text``.
    """

    text: str
    uncorrected: str
    preamble: str = ""
    notes: tuple[str, ...] = ()
    spelling_notes: tuple[str, ...] = ()


def read_question(question: str, speller=None, abbreviations=None) -> Reading:
    """Read a cleaned ``question`` the way the user meant it (see :class:`Reading`).

    Args:
        question: the cleaned question (see :func:`clean_question`).
        speller: a :class:`qa.spelling.Speller`. Defaults to None (no spelling correction).
        abbreviations: a :class:`qa.abbreviations.Abbreviations`. Defaults to None (none expanded).
    """
    preamble, asked = split_preamble(question)
    notes: list[str] = []
    if preamble:
        notes.append(f"read the question as '{asked}'")
    if asked.isupper():   # all capitals carry no information about names or abbreviations
        asked = asked.lower()
    asked = _TYPED_WORD.sub(lambda m: _CONTRACTIONS.get(m.group().lower(), m.group()), asked)
    asked = _punctuate(asked)
    if abbreviations is not None:
        asked, expanded = abbreviations.expand(asked)
        notes.extend(expanded)
    if speller is None:
        return Reading(asked, asked, preamble, tuple(notes))
    spelling: list[str] = []

    def correct(match: re.Match) -> str:
        word = match.group()
        fixed = speller.correct(word.lower())
        if fixed is None:
            return word
        note = f"read '{word}' as '{fixed}'"
        if note not in spelling:
            spelling.append(note)
        return fixed

    corrected = _TYPED_WORD.sub(correct, asked)
    return Reading(corrected, asked, preamble, tuple(notes), tuple(spelling))
