"""Focus: what a question asks the answer to supply beyond its topic (who said it, a date to come, which things), and whether it does."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import terms

# "What did the G20 say ...?", "What has the Carnegie Endowment called for?", "How did Beijing react?"
_SPEECH_VERBS = (r"say|says|said|think|thinks|thought|argue|argues|argued|claim|claims|claimed|warn|warns|warned|"
                 r"announce|announces|announced|tell|tells|told|believe|believes|believed|"
                 r"suggest|suggests|suggested|recommend|recommends|recommended|propose|proposes|proposed|urge|urges|"
                 r"urged|respond|responds|responded|react|reacts|reacted|comment|comments|commented|predict|"
                 r"predicts|predicted|insist|insists|insisted|deny|denies|denied|admit|admits|admitted|reply|"
                 r"replies|replied|write|writes|wrote|call|calls|called")
_SPEAKER_QUESTION = re.compile(
    r"^\W*(what|how)\s+(did|does|do|has|have|had|will|would)\s+(?P<who>[^?,;]{1,60}?)\s+(" + _SPEECH_VERBS + r")\b|"
    r"^\W*what\s+(is|was|are|were)\s+(?P<owner>[^?,;]{1,60}?)['’]s?\s+(reaction|response|position|stance|view|"
    r"statement|comment|answer|reply)s?\b", re.IGNORECASE)
# Who the question says spoke, when it is not something a sentence can name: the article itself, a pronoun
# (a follow-up's speaker is in its history), or "some" and "others".
_UNNAMED_SPEAKERS = frozenset("""it its they them their he him his she her we you i this that these those article
piece story text essay author authors writer writers commentary analysis some others many most people everyone
anyone someone one""".split())
# An answer that reports speech: a quotation, or a verb of saying, arguing or urging.
_REPORTED = re.compile(
    r"[“”\"]|\b(say|says|said|saying|warn\w*|argu\w*|call(s|ed|ing)? (up)?on|call(s|ed|ing)? for|suggest\w*|"
    r"believ\w*|claim\w*|not(e|es|ed) that|announc\w*|in the words of|according to|t[eo]ld|tell\w*|think\w*|"
    r"thought|recommend\w*|urg(e|es|ed|ing)|ask(s|ed|ing)?|propos\w*|predict\w*|insist\w*|den(y|ies|ied)|accus\w*|"
    r"stress\w*|wr[io]te|written|indicat\w*|stat(es|ed) that|statements?|responded|reacted|repl(y|ied))\b",
    re.IGNORECASE)

# A when-question about what is still to come: "When will the next round be held?", "When is the next meeting?"
_FUTURE_TIME_QUESTION = re.compile(
    r"^\W*when\s+(will|shall|(is|are)\s+.*\b(next|going to|due|planned|scheduled|expected)\b|.*\bnext\b)",
    re.IGNORECASE)
# A time that says when: a year, a month or a weekday, a calendar date, or a span from now ("next month",
# "in two weeks"). "In the future" or "in coming years" does not say when.
_SPECIFIC_TIME = re.compile(
    r"\b(1[5-9]\d\d|20\d\d)\b|\b(january|february|march|april|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight)\b|\bmay \d|"
    r"\b(next|this|last)\s+(week|month|year|spring|summer|autumn|fall|winter|quarter)\b|"
    r"\bin\s+(\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|a few)\s+(days?|weeks?|months?|years?)\b|"
    r"\b\d{1,2}/\d{1,2}(/\d{2,4})?\b",
    re.IGNORECASE)
# ... said of what is to come: "held in March", "earlier this month" or "begun in 2015" answer "when was it".
_FUTURE_CONTEXT = re.compile(
    r"\b(will|shall|next|upcoming|scheduled|planned|due|tomorrow|tonight|expected to|(is|are) to|later this)\b",
    re.IGNORECASE)

# "Which american firms lost data ...?": the kind of named things a which/what question asks for.
_WHICH = re.compile(r"^\W*(which|what)\s+(?P<phrase>[\w’'-]+(\s+[\w’'-]+){0,3})", re.IGNORECASE)
#: Plural nouns for things known by their names (companies, countries, officials ...): general English,
#: the kinds a "which ...?" question asks to have named.
NAMED_KINDS = frozenset("""companies firms corporations businesses banks brands countries nations governments
cities regions provinces people persons individuals officials leaders officers ministers executives
politicians presidents diplomats members agencies organizations organisations groups institutions
universities newspapers websites""".split())
_WHO = re.compile(r"^\W*(who|whom)\b", re.IGNORECASE)
_NUMBER_WORDS = frozenset("two three four five six seven eight nine ten several many few".split())
# Content words that say nothing about what an answer holds.
_FILLER = frozenset("might must may also without within whether yet even".split())
#: An answer that names none of the things asked for must hold at least this share of the question's
#: other content words.
MIN_OTHER_WORDS = 0.5


def _named_kind(question: str) -> str | None:
    """The kind of named things a "which/what <kind>" question asks for ("firms" in "which american firms
    lost data"; numbers and one modifier may come first), or None when the phrase after "which" is not
    one of :data:`NAMED_KINDS` ("which two realms", "which chinese leader keeps ...")."""
    match = _WHICH.match(question)
    if not match:
        return None
    modifiers = 0
    for word in match.group("phrase").lower().split():
        if word in _NUMBER_WORDS or word.isdigit():
            continue
        if word in NAMED_KINDS:
            return word
        modifiers += 1
        if modifiers > 1:
            return None
    return None


@dataclass(frozen=True)
class Focus:
    """What an answer must supply besides matching the question's words.

    ``speaker`` holds the stemmed content words of whoever the question asks to have said something
    ("What did the G20 meeting say?": ``("g20", "meet")``); empty when no one is named. ``future`` is
    True for a when-question about something still to come, which only a date answers. ``things``
    is the stem of the kind of named things a which/what question asks for ("which american firms lost
    data": ``"firm"``; see :data:`NAMED_KINDS`), or ``"who"`` for a who-question, and ``others`` the
    stems of the question's other content words.
    """

    speaker: tuple[str, ...] = ()
    future: bool = False
    things: str | None = None
    others: tuple[str, ...] = ()


def question_focus(question: str, followup: bool = False) -> Focus:
    """The :class:`Focus` of ``question`` (an empty one for most questions); a ``followup`` (a question
    read with earlier ones, see :func:`qa.question.context_for`) asks no ``things``: its other words are in
    its history. Defaults to False.

    Example:
        >>> question_focus("what did the chinese government say about the indictments")
        Focus(speaker=('chines', 'govern'), future=False)
        >>> question_focus("What did they say?"), question_focus("when is the next dialogue").future
        (Focus(speaker=(), future=False), True)
    """
    speaker: tuple[str, ...] = ()
    match = _SPEAKER_QUESTION.search(question)
    if match:
        who = match.group("who") or match.group("owner") or ""
        words = set(re.findall(r"[\w’']+", who.lower().replace("’", "'")))
        if not words & _UNNAMED_SPEAKERS:
            speaker = tuple(dict.fromkeys(terms(who)))
    stem = None
    if not followup:
        things = _named_kind(question)
        stem = terms(things)[0] if things and terms(things) else "who" if _WHO.match(question) else None
    others = tuple(dict.fromkeys(t for t in terms(question) if t != stem and t not in _FILLER)) if stem else ()
    return Focus(speaker, bool(_FUTURE_TIME_QUESTION.search(question)), stem, others)


def missing(focus: Focus, answer: str) -> str | None:
    """What ``answer`` fails to supply of ``focus``, as a short reason for the log; None when nothing.

    A question about what someone said needs an answer that names every word of the speaker and
    reports speech (a quotation, "warned", "argued", "called on" ...): "What did the FBI say?" is not
    answered by a sentence about the 2014 indictments. A question about a time to come needs a
    specific date said of the future ("next month", "will meet in March"; not "held in March"). A question asking which things (or who) did something ("which american
    firms lost data to chinese hackers", "who is the current chinese ambassador to the united states") is
    not answered by a sentence that names no such things and holds fewer than half
    (:data:`MIN_OTHER_WORDS`) of the question's other content words: it is about something else that
    shares the topic.

    Example:
        >>> missing(question_focus("what did the g20 say"), "The G20 meeting warned that attacks could spread.")
        >>> missing(question_focus("what did obama say"), "The Obama-Xi agreement fell short.")
        'the speaker obama is not reported as saying anything'
    """
    if focus.speaker:
        said = set(terms(answer))
        absent = [word for word in focus.speaker if word not in said]
        if absent:
            return f"the answer never names {' '.join(absent)}"
        if not _REPORTED.search(answer):
            return f"the speaker {' '.join(focus.speaker)} is not reported as saying anything"
    if focus.future and not (_SPECIFIC_TIME.search(answer) and _FUTURE_CONTEXT.search(answer)):
        return "a question about when something will happen, and the answer gives no date to come"
    if focus.things and focus.others:
        said = set(terms(answer))
        held = sum(word in said for word in focus.others)
        if focus.things not in said and held < MIN_OTHER_WORDS * len(focus.others):
            asked = "who" if focus.things == "who" else f"which {focus.things}"
            return (f"the question asks {asked}, the answer names none and holds {held} of its "
                    f"{len(focus.others)} other content words")
    return None
