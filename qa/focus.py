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
    r"^\W*(what|how)\s+(did|does|do|has|have|had|will|would)\s+(?P<who>[^?,;]{1,60}?)\s+(?P<verb>" + _SPEECH_VERBS + r")\b|"
    r"^\W*what\s+(is|was|are|were)\s+(?P<owner>[^?,;]{1,60}?)['’]s?\s+(reaction|response|position|stance|view|"
    r"statement|comment|answer|reply)s?\b", re.IGNORECASE)
# Verbs of recommending: "what did the report recommend" needs an answer that recommends something, not any
# quotation ("should", "called upon", "urged"), and no other speech verb answers it.
_DIRECTIVE_VERBS = re.compile(r"recommend\w*|suggest\w*|propos\w*|urge[sd]?|advise[sd]?", re.IGNORECASE)
_DIRECTIVE = re.compile(r"\b(recommend\w*|suggest\w*|propos\w*|urg(e|es|ed|ing)|advis\w*|call(s|ed|ing)? (up)?on|"
                        r"call(s|ed|ing)? for|should|must|ought|need to|needs to)\b", re.IGNORECASE)
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

# "Which american firms lost data ...?": the kind of named things a which/what question asks for;
# "what were the names of the officers ...", "names of the people who ..." ask the same.
_WHICH = re.compile(r"^\W*((what\s+(is|are|was|were)\s+)?(the\s+)?names?\s+of(\s+the)?|which|what)\s+"
                    r"(?P<phrase>[\w’'-]+(\s+[\w’'-]+){0,5})", re.IGNORECASE)
#: Plural nouns for things known by their names (companies, countries, officials ...): general English,
#: the kinds a "which ...?" question asks to have named.
NAMED_KINDS = frozenset("""companies firms corporations businesses banks brands countries nations governments
cities regions provinces people persons individuals officials leaders officers ministers executives
politicians presidents diplomats members agencies organizations organisations groups institutions
universities newspapers websites ministries bureaus committees councils teams units""".split())
#: ... and their singulars ("what university did she attend", "the name of the official who ...").
NAMED_KIND = frozenset("""company firm corporation business bank brand country nation government city region
province person individual official leader officer minister executive politician president diplomat member agency
organization organisation group institution university newspaper website ministry bureau committee
council team unit""".split())
_WHO = re.compile(r"^\W*(who|whom)\b", re.IGNORECASE)
# The predicate of a which/who question: what the things asked for did or had done to them. Auxiliaries
# come before it ("were hit", "will lead"); after "did/does/do" a subject comes first ("did chinese
# hackers target"), ending at a preposition, a determiner or the end.
_AUXILIARIES = frozenset("""will would can could shall should may might must has have had is are was were be been
being am get got gets""".split())
_DO = frozenset("do does did".split())
_RELATIVE = frozenset("who whom that which".split())
_BE = frozenset("is are was were am be".split())
_RUN_END = frozenset("""in on at of for from to by with about into over under against during after before since
the a an this that these those their its his her our your my and or but than as if when while where""".split())
# Verbs that take another verb ("continues to consolidate", "keeps consolidating"): both are the predicate.
_CATENATIVE_NEXT = re.compile(r"^(to\s+)?(?P<next>[a-z’'-]+)")
_NUMBER_WORDS = frozenset("two three four five six seven eight nine ten several many few".split())
# Content words that say nothing about what an answer holds.
_FILLER = frozenset("might must may also without within whether yet even".split())
#: An answer that names none of the things asked for must hold at least this share of the question's
#: other content words.
MIN_OTHER_WORDS = 0.5


def _named_kind(question: str) -> tuple[str | None, str, str]:
    """The kind of named things a "which/what <kind>" question asks for ("firms" in "which american firms
    lost data"; numbers and two modifiers may come first, one after "what"), the rest of the question after it, and the
    modifiers of a which/what question ("american", "chinese military"; "" when none); ``(None, "", "")``
    when the phrase after "which" is not one of :data:`NAMED_KINDS` ("which two realms"), more than two
    words come before it, or a verb does ("what should countries prepare", "what did firms lose": there the
    kind is the subject, and "what" asks for the object)."""
    match = _WHICH.match(question)
    if not match:
        return None, "", ""
    opener = match.group(1).lower()
    which = opener in ("which", "what")
    modifiers: list[str] = []
    # "which us tech firms"; "what" may open "what motivates hacking groups"; "the name of the doj official"
    allowed = 2 if opener == "which" else 1 if which else 4
    for word in re.finditer(r"\S+", match.group("phrase")):
        lowered = word.group().lower()
        if lowered in _NUMBER_WORDS or lowered.isdigit():
            continue
        if lowered in _AUXILIARIES or lowered in _DO:   # "what should countries prepare": "what" is the object
            return None, "", ""
        if lowered in NAMED_KINDS or lowered in NAMED_KIND:
            return lowered, question[match.start("phrase") + word.end():], " ".join(modifiers) if which else ""
        modifiers.append(lowered)
        if len(modifiers) > allowed:
            return None, "", ""
    return None, "", ""


#: Nationality words whose country is not spelt like them (most are: "chinese" and "China's" share "chin").
_SAME_PLACE = {"american": ("us", "united states"), "us": ("american", "united states"),
               "british": ("uk", "united kingdom"), "uk": ("british", "britain"), "french": ("france",),
               "dutch": ("netherlands", "holland"), "spanish": ("spain",), "swiss": ("switzerland",),
               "european": ("eu", "europe"), "eu": ("european", "europe")}


def _mentions(word: str, answer: str) -> bool:
    """Whether ``answer`` mentions the modifier ``word`` of a which-question: a word with its first four letters
    ("chinese" by "China’s", "american" by "America"), or a short one as a word, dotted or as the initials of
    a name ("us" by "U.S." or "United States"); a nationality spelt unlike its country by the country
    ("american" by "U.S.", "french" by "France")."""
    lowered = answer.lower()
    return any(other in lowered if " " in other else _said(other, answer) for other in _SAME_PLACE.get(word, ())) \
        or _said(word, answer)   # "american" by "U.S." or "United States"


def _said(word: str, answer: str) -> bool:
    """:func:`_mentions` without other names for the same place."""
    if len(word) >= 4:
        return any(w.startswith(word[:4]) for w in re.findall(r"[\w’'-]+", answer.lower()))
    plain = answer.replace(".", "")
    initials = {"".join(w[0] for w in run.split()).lower()
                for run in re.findall(r"[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)+", answer)}
    return word in re.findall(r"[\w’'-]+", plain.lower()) or word in initials


# Past participles that do not end in -ed or -en: after "is/was/were" they are the predicate ("were hit").
_IRREGULAR_PARTICIPLES = frozenset("""hit met held made led sent set put cut run won lost built bought caught taught
brought thought told sold paid said found left kept struck shut spent hurt read let bound fed fought""".split())


def predicate(rest: str) -> tuple[str, ...]:
    """The verb(s) saying what the things a which/who question asks for did or had done to them, from the
    words after "who" or the kind ("represented" in "who represented china at the dialogue", "target" in
    "which companies did chinese hackers target", "hit" in "which banks were hit by ...", "continues" and
    "consolidate" in "who continues to consolidate power"); empty when there is none (a copula: "who is the
    head of ...").

    Example:
        >>> predicate("did chinese hackers target"), predicate("were hit by cyber attacks"), predicate("is the head")
        (('target',), ('hit',), ())
    """
    words = re.findall(r"[a-z’'-]+|\d+", rest.lower())
    if words and words[0] in _RELATIVE:   # "names of the people who attended ..."
        words = words[1:]
    if not words:
        return ()
    if words[0] in _DO:   # "did chinese hackers target": the last word of the subject-and-verb run
        run = []
        for word in words[1:]:
            if word in _RUN_END and run:
                break
            if word not in _RUN_END:   # "did the pla hack": a determiner may open the subject
                run.append(word)
        return (run[-1],) if len(run) >= 2 else ()
    i, passive = 0, False
    while i < len(words) and words[i] in _AUXILIARIES:
        passive = passive or words[i] in _BE
        i += 1
    if i >= len(words) or words[i] in _RUN_END:
        return ()
    verb = words[i]
    if passive and not (verb.endswith(("ed", "en", "ing")) or verb in _IRREGULAR_PARTICIPLES):
        return ()   # "who is captain adam greer", "which countries are largest"
    after = " ".join(words[i + 1:i + 3])
    follow = _CATENATIVE_NEXT.match(after)
    if follow and (after.startswith("to ") or follow.group("next").endswith("ing")) and follow.group("next") not in _RUN_END:
        return verb, follow.group("next")   # "continues to consolidate", "keeps consolidating"
    return (verb,)


def _kind_forms(kind: str) -> frozenset[str]:
    """A kind as an answer would write it: plural and singular, British and American ("organisations",
    "organization")."""
    singular = (kind[:-3] + "y" if kind.endswith("ies") else kind[:-2] if kind.endswith(("sses", "shes", "ches"))
                else kind[:-1] if kind.endswith("s") else kind)
    forms = {kind, singular}
    return frozenset(forms | {f.replace("isation", "ization") for f in forms}
                     | {f.replace("ization", "isation") for f in forms})


# A number or year standing alone ("in 2017", "2,000 hackers"), not part of a name ("G20").
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w.,]*\w)")
# A number as a name's first word: "the 2015 agreement", "the 2014 indictments".
_LABEL = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)\s+([a-z][\w’'-]*)", re.IGNORECASE)
_WHY = re.compile(r"^\W*(why|how come)\b", re.IGNORECASE)

# A question pinned to a time relative to now ("tomorrow", "next week", "last season"): only an answer that
# says a time answers it ("tomorow" typed too). "Today" and "now" are left out: they also mean "nowadays".
_PINNED_TIME = re.compile(
    r"\b(tomm?orr?ow|tonight|yesterday|(next|last|this)\s+(week|weekend|month|year|season|spring|summer|autumn|fall|"
    r"winter|quarter|monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b", re.IGNORECASE)


@dataclass(frozen=True)
class Focus:
    """What an answer must supply besides matching the question's words.

    ``speaker`` holds the stemmed content words of whoever the question asks to have said something
    ("What did the G20 meeting say?": ``("g20", "meet")``); empty when no one is named. ``future`` is
    True for a when-question about something still to come, which only a date answers. ``things``
    is the kind of named things a which/what question asks for ("which american firms lost
    data": ``"firms"``; see :data:`NAMED_KINDS`), or ``"who"`` for a who-question, ``others`` the
    stems of the question's other content words and ``predicate`` the words saying what those things did
    (:func:`predicate`). ``pinned`` is True when the question is pinned to a time relative to now
    ("tomorrow", "next week"). ``numbers`` are the numbers and years the question names, which the answer
    must name too ("what did the us and china sign in 2017"); a why-question has none: its answer gives
    reasons, and the article's own question may hold the year ("Why has the 2015 agreement fallen short?").
    ``directive`` is True when the speaker is asked what they recommended, suggested, proposed or urged.
    ``modifier`` holds the words narrowing a which-question's kind ("us" in "which us companies were hacked"),
    which the answer must all mention ("the two countries" does not answer "which european countries").
    ``labels`` are the question's numbers used as a name's first word ("the 2015 agreement"): when the
    document names the thing so, the number says which thing is meant, and the answer need not repeat it.
    """

    speaker: tuple[str, ...] = ()
    future: bool = False
    things: str | None = None
    others: tuple[str, ...] = ()
    predicate: tuple[str, ...] = ()
    pinned: bool = False
    numbers: tuple[str, ...] = ()
    directive: bool = False
    modifier: str = ""
    labels: tuple[str, ...] = ()


_NOTHING = Focus()


def question_focus(question: str, followup: bool = False) -> Focus:
    """The :class:`Focus` of ``question`` (an empty one for most questions); a ``followup`` (a question
    read with earlier ones, see :func:`qa.question.context_for`) asks no ``things``: its other words are in
    its history. Defaults to False.

    Example:
        >>> question_focus("what did the chinese government say about the indictments").speaker
        ('chines', 'govern')
        >>> focus = question_focus("which us companies did chinese hackers target")
        >>> focus.things, focus.predicate, question_focus("when is the next dialogue").future
        ('companies', ('target',), True)
    """
    speaker: tuple[str, ...] = ()
    directive = False
    match = _SPEAKER_QUESTION.search(question)
    if match:
        who = match.group("who") or match.group("owner") or ""
        words = set(re.findall(r"[\w’']+", who.lower().replace("’", "'")))
        if not words & _UNNAMED_SPEAKERS:
            speaker = tuple(dict.fromkeys(terms(who)))
            directive = bool(match.group("verb") and _DIRECTIVE_VERBS.fullmatch(match.group("verb")))
    things, rest, modifier = (None, "", "")
    if not followup:
        things, rest, modifier = _named_kind(question)
        who = _WHO.match(question) if things is None else None
        if who:
            things, rest = "who", question[who.end():]
    stems = set(terms(things)) if things and things != "who" else set()
    # "which two leaders", "which 2 nations": a count of the things asked for says how many, not what the answer
    # is about, so the answer need not hold it
    counted = ({m.group(1) for m in re.finditer(r"(\d+)\s+(?:[\w’'-]+\s+){0,2}" + re.escape(things) + r"\b", question,
                                                re.IGNORECASE)} if things and things != "who" else set())
    others = (tuple(dict.fromkeys(t for t in terms(question) if t not in stems and t not in _FILLER
                                  and t not in _NUMBER_WORDS and t not in counted)) if things else ())
    numbers = () if _WHY.match(question) else tuple(n for n in dict.fromkeys(_NUMBER.findall(question))
                                                     if n not in counted)
    labels = tuple(f"{m.group(1)} {m.group(2)}".lower() for m in _LABEL.finditer(question)
                   if m.group(1) in numbers and terms(m.group(2)))
    return Focus(speaker, bool(_FUTURE_TIME_QUESTION.search(question)), things, others,
                 predicate(rest) if things else (), bool(_PINNED_TIME.search(question)), numbers, directive,
                 modifier, labels)


def _supported(verbs: tuple[str, ...], answer: str, said: set[str]) -> bool:
    """Whether ``answer`` (its stems ``said``) says one of ``verbs``: the same word in any form, or, for a
    verb of saying or urging, any report of speech ("urged" by "called upon")."""
    if not verbs or any(stem in said for verb in verbs for stem in terms(verb)):
        return True
    if not any(terms(verb) for verb in verbs):   # only stop words ("do", "be"): nothing to check
        return True
    return bool(any(_REPORTED.fullmatch(verb) or re.fullmatch(_SPEECH_VERBS, verb) for verb in verbs)
                and _REPORTED.search(answer))


def missing(focus: Focus, answer: str, document: str = "") -> str | None:
    """What ``answer`` fails to supply of ``focus``, as a short reason for the log; None when nothing.

    A question about what someone said needs an answer that names every word of the speaker and
    reports speech (a quotation, "warned", "argued", "called on" ...): "What did the FBI say?" is not
    answered by a sentence about the 2014 indictments. A question about a time to come needs a
    specific date said of the future ("next month", "will meet in March"; not "held in March"), and one
    pinned to a time relative to now ("tomorrow", "next week") an answer that says a time. A number or
    year the question names must be in the answer ("what did they sign in 2017" is not answered by a
    sentence about 2015), unless it names a thing the ``document`` (the answer's, when given) names the same way
    ("why did the 2015 agreement fall short"; see :class:`Focus`). A question
    asking which things (or who) did something is not answered by a sentence that names no such things
    (the kind's own word, singular or plural: "banking" does not name banks) when the sentence holds
    fewer than half (:data:`MIN_OTHER_WORDS`) of the question's other content words ("which american
    firms lost data to chinese hackers", "who is the current chinese ambassador to the united states"),
    or does not say what they did (the question's :func:`predicate`: "who represented china at the
    dialogue" against "the United States and China met"): it is about something else that shares
    the topic.

    Example:
        >>> missing(question_focus("what did the g20 say"), "The G20 meeting warned that attacks could spread.")
        >>> missing(question_focus("what did obama say"), "The Obama-Xi agreement fell short.")
        'the speaker obama is not reported as saying anything'
        >>> missing(question_focus("who represented china at the talks"), "The United States and China met for talks.")
        'the question asks who represented, and the answer names none of them nor says represented'
    """
    if focus == _NOTHING:   # most questions: nothing to stem
        return None
    said = set(terms(answer))
    if focus.speaker:
        absent = [word for word in focus.speaker if word not in said]
        if absent:
            return f"the answer never names {' '.join(absent)}"
        if not _REPORTED.search(answer):
            return f"the speaker {' '.join(focus.speaker)} is not reported as saying anything"
        if focus.directive and not _DIRECTIVE.search(answer):
            return f"the speaker {' '.join(focus.speaker)} is not reported as recommending anything"
    if focus.future and not (_SPECIFIC_TIME.search(answer) and _FUTURE_CONTEXT.search(answer)):
        return "a question about when something will happen, and the answer gives no date to come"
    absent = [number for number in focus.numbers if not re.search(rf"(?<![\w.,]){re.escape(number)}(?![\w])", answer)]
    if absent and focus.labels:   # "the 2015 agreement", named so by the document: the number says which thing
        named = document.lower()
        absent = [number for number in absent if not any(label.split()[0] == number and label in named
                                                         for label in focus.labels)]
    if absent:
        return f"the question names {', '.join(absent)}, and the answer does not"
    if focus.pinned and not _SPECIFIC_TIME.search(answer):
        return "a question pinned to a time (tomorrow, next week ...), and the answer says no time"
    if focus.things and focus.others:
        words = set(re.findall(r"[\w’'-]+", answer.lower()))
        # "which firms": the kind's own word; "who benefits": any kind of named things the question does not
        # mention, in the plural ("especially to firms attempting to compete")
        named = (any(not set(terms(word)) & set(focus.others) for word in words & NAMED_KINDS)
                 if focus.things == "who" else bool(_kind_forms(focus.things) & words))
        held = sum(word in said for word in focus.others)
        asked = "who" if focus.things == "who" else f"which {focus.things}"
        if not named and held < MIN_OTHER_WORDS * len(focus.others):
            return (f"the question asks {asked}, the answer names none and holds {held} of its "
                    f"{len(focus.others)} other content words")
        if focus.modifier and not all(_mentions(word, answer) for word in focus.modifier.split()):
            return f"the question asks {asked} of {focus.modifier}, and the answer does not mention {focus.modifier}"
        if not named and not _supported(focus.predicate, answer, said):
            return (f"the question asks {asked} {' '.join(focus.predicate)}, and the answer names none of "
                    f"them nor says {' '.join(focus.predicate)}")
    return None
