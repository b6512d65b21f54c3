"""Question analysis: everything read from the user's text, once per question, as one :class:`QuestionInfo`."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Iterable

from .abbreviations import Abbreviations
from .focus import Focus, question_focus
from .lexical import terms
from .question import clean_question, context_for, pronoun_one, read_question, retrieval_text, QuestionError
from .specifics import specific_words
from .spelling import Speller
from .structure import asks

# -- what a question asks about besides the subject ---------------------------------------------

# "Who wrote this?", but not "Who wrote Pride and Prejudice?".
_AUTHORS = (r"\bwho (wrote|writes|authored|penned|is behind|are behind)( (it|this|that))?\W*$|"
            r"\bwho (wrote|writes|authored|penned|is behind|are behind) (this|the|that) "
            r"(article|piece|story|text|essay|analysis|commentary|op-ed|page|document)\b|^\W*(the )?(authors?|writers?)\W*$|"
            r"\b(was|is) (it|this|that|the "
            r"(article|piece|story|text|essay|analysis|commentary|page|document)) written by\b|\bby-?line\b|"
            r"\bwho (is|are|were) the (authors?|writers?)\b|\bpeople who wrote\b|"
            r"\b(authors?|writers?) of (this|the) (article|piece|story|text|essay|analysis|commentary|page|document)\b|"
            r"\b(name|names) of the (authors?|writers?)\b|\b(about|on) the (authors?|writers?)\b|"
            r"\b(authors?|writers?)[’']?s?[’']? (backgrounds?|credentials|jobs?|roles?|positions?|affiliations?|"
            r"employers?|titles?|professions?|occupations?)\b|\bwhere do (the )?(authors?|writers?) work\b|"
            r"\bwhich(\s+(two|three|\d+))?\s+(authors?|writers?)\b|"
            r"\bwhat(\s+(two|three|\d+))?\s+(authors?|writers?)\s+(wrote|write|penned|authored)\b|"
            r"\b(name|list|identify)\s+the\s+((two|three|\d+)\s+)?(authors?|writers?)\b")
# Openings and adverbs that change nothing asked: "so what do the writers actually propose", "can you tell me what
# the authors recommend".
_OPENING = r"((so|and|ok|okay|then|well|hi|hey)\s+)?(((can|could|would)\s+(you|u)\s+)?(tell|show)\s+me\s+|please\s+)?"
_FILLER_ADVERB = r"((actually|really|exactly|basically|ultimately|mainly)\s+)?"
_QUESTION_TOPICS = {
    "deck": re.compile(
        r"\b(sub-?\s?headlines?|sub-?\s?titles?|sub-?\s?heads?|sub-?\s?headings?|taglines?|tag line|deck|"
        r"standfirst|strap-?\s?lines?|teaser|blurb|summary line|dek)\b|"
        r"\b(text|line|sentence|words?) (under|below|beneath) the (title|headline|heading)\b|"
        # the deck is the article's summary: "What is the main argument?", "Sum it up"
        r"\b(main|central|key|overall|core|big) (argument|point|thesis|message|idea|claim|takeaway)s?\b|"
        r"\b(summary|gist|summari[sz]e|sum (it|this|up)|in a nutshell|tl;?dr)\b|"
        r"\bwhat(’s|'s| is) (this|the) (article|piece|story|text|essay|analysis|commentary|page|document) (about|arguing)\b|"
        # "what are the authors arguing", "what does the article say": nothing asked but the piece's argument
        r"^\W*" + _OPENING + r"what\s+(do|does|did|are|is)\s+(the\s+)?(authors?|writers?|article|piece|essay|op-?ed)\s+"
        + _FILLER_ADVERB + r"(argue|arguing|say|saying|claim|claiming|contend|contending)\W*$",
        re.IGNORECASE),
    "conclusion": re.compile(
        r"\b(conclude[sd]?|conclusions?|concluding|bottom line|final (paragraph|thoughts?|points?|words?)|"
        r"closing (paragraph|thoughts?|argument)|end of the (article|piece))\b|"
        # "what do the authors recommend", "did the article suggest anything": what the piece recommends, with
        # nothing else asked, is said where it concludes (the framing stripped, nothing would be left to embed)
        r"^\W*" + _OPENING + r"(what|did|do|does)\s+((do|does|did)\s+)?(the\s+)?(authors?|writers?|article|piece|essay|"
        r"op-?ed)\s+" + _FILLER_ADVERB + r"(recommend|suggest|propose|advise|advocate|urge|call for|want)"
        r"(\s+(anything|doing|overall|then))?\W*$|"
        # "what is the authors' main recommendation", "give me the authors' final recommendation", "authors advice"
        r"^\W*((what(['’]?s| is| are| were| was)|(give|tell|show)\s+me|list)\s+)?(the\s+)?(authors?|writers?|article|"
        r"piece|essay)['’]?s?\s+(main\s+|key\s+|final\s+)?(recommendations?|suggestions?|proposals?|advice)\W*$",
        re.IGNORECASE),
    "byline": re.compile(_AUTHORS + r"|\bwhose (views|opinions?)\b", re.IGNORECASE),
    "bio": re.compile(_AUTHORS, re.IGNORECASE),
    "asked": re.compile(
        r"\b(what|which) questions?\b|\bquestions? (do|does|did|is|are|was) (the )?(authors?|article|writers?|piece)"
        r" (pose|raise|ask|posing|raising|asking)|\b(pose|poses|posed|raise|raises|raised|asks?|asked) (a|the)"
        r" (central |key |main )?question\b|\brhetorical\b", re.IGNORECASE),
    # "title" alone may be a person's ("What title does she hold?"): only the article's counts.
    "title": re.compile(
        # "the line under the headline" is the deck, not the headline
        r"(?<!sub-)(?<!sub )(?<!(under|below) the )(?<!beneath the )\bhead-?lines?\b|\b(title|heading) of (the|this) (article|piece|story|page|text|essay)\b|"
        r"\b(article|piece|story|page)[’']?s? (title|heading)\b|"
        # "what's the title", but not "what's the title of the 2017 report": that names another work
        r"\bwhat(’s|'s| is) the title\b(?! of (?!(the|this) (article|piece|story|page|text|essay)\b))|"
        r"\bwhat(’s|'s| is) (the|this) (article|piece|story|essay) (called|named|titled)\b", re.IGNORECASE),
}


# Another work a question may name: then "who wrote it" asks about that work, not the page.
_OTHER_WORK = re.compile(r"\b(report|study|book|paper|letter|survey|speech|memo|statement|book|novel|poem|song|film|"
                         r"law|bill|treaty|blog|post|tweet|thesis|review|column|editorial)s?\b", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(it|that|its)\b", re.IGNORECASE)
_THIS_WORK = re.compile(r"\b(this|the) (article|piece|story|text|essay|analysis|commentary|op-ed|page|document)\b",
                        re.IGNORECASE)


def question_topics(question: str, context: tuple[str, ...] = ()) -> frozenset[str]:
    """What ``question`` asks about besides the subject: a subset of :data:`qa.structure.TOPICS`; for a
    follow-up, its ``context`` (the earlier questions, oldest first; defaults to none) says what "it" is:
    "who wrote it" after "what was the mit report about" asks about the report, not the page.

    Example:
        >>> sorted(question_topics("Who wrote this article?"))
        ['bio', 'byline']
        >>> sorted(question_topics("What does the tagline say?"))
        ['deck']
        >>> sorted(question_topics("what is the title of the 2017 report and who wrote it"))
        []
        >>> sorted(question_topics("who wrote it", ("what was the 2017 report about?",)))
        []
    """
    found = frozenset(topic for topic, pattern in _QUESTION_TOPICS.items() if pattern.search(question))
    if found & {"byline", "bio"} and not _THIS_WORK.search(question) and (
            _OTHER_WORK.search(question) or (context and _PRONOUN.search(question) and _OTHER_WORK.search(context[-1])
                                             and not _THIS_WORK.search(context[-1]))):
        found -= {"byline", "bio"}   # "what's the title of the 2017 report and who wrote it": the report's author
    return found


# -- the type of answer a question expects ------------------------------------------------------

# A "when" question needs a time in its answer, a "how many" question a quantity, a "who" question a name.
_ASKS_TIME = re.compile(r"^\s*(when\b|(in |during |at )?(what|which) (year|month|day|date|decade|time|hour)\b|"
                        r"what(['’]?s| is) the (time|date)\b)", re.IGNORECASE)
# "What is the population of Beijing?" asks for a quantity as much as "how many people live in Beijing?".
_ASKS_COUNT = re.compile(r"^\s*(how (many|much|long|old)\b|what(['’]?s| is| was| are| were) the (total )?(population|number|"
                         r"amount|percentage|proportion|budget|cost|price|size|value|age|salary|revenue) of\b|"
                         r"what(['’]?s| is| was| are| were) .{1,60}? (annual |total |yearly )?(population|budget|"
                         r"cost|price|size|age|salary|revenue)\W*$)", re.IGNORECASE)
# "how much is the stolen data worth", "how much does it matter": a value or a degree, which a magnitude answers
# ("can be astronomical") as well as a figure, unless a unit or a period is asked for ("in dollars", "each year").
_ASKS_VALUE = re.compile(r"^\s*how much\b.*\b(worth|value[sd]?|matters?|mattered)\b", re.IGNORECASE)
_UNIT = re.compile(r"\b(dollars?|euros?|pounds?|yuan|money|cash|\$|€|£|percent|per|each|every|a year|annual(ly)?|"
                   r"exactly|precisely|figure|numbers?|sum|total|millions?|billions?|cost|costs|(1[5-9]|20)\d\d)\b|[$€£%]",
                   re.IGNORECASE)
_ASKS_NAME = re.compile(r"^\s*(who|whom|whose)\b", re.IGNORECASE)
# "by what percentage did theft fall", "what share of ...": a quantity, wherever it is asked.
_ASKS_SHARE = re.compile(r"\b((by|to|in) (what|which|how much) (percentage|percent|proportion|share|fraction|margin|"
                         r"amount)|(what|which) (percentage|percent|proportion|share|fraction) of)\b", re.IGNORECASE)
# "the exact date of", "on what day": the day, which "in March" is not; "the date of", "what date": a calendar
# date, which "earlier this month" is not.
_ASKS_DAY = re.compile(r"\b((exact|precise|specific|actual) (date|day)|(on )?(what|which) day\b(?! of the week))",
                       re.IGNORECASE)
_ASKS_DATE = re.compile(r"\b((the )?dates? (of|when|on which)|(on )?(what|which) date)\b", re.IGNORECASE)
# "what is the name of the forum", "names of the hackers", "what is the report called": a name or title.
_ASKS_TITLE = re.compile(r"^\W*((what|which)(['’]?s| is| was| are| were) the (exact |full |official )?"
                         r"(names?|titles?) of|(the )?(exact |full |official )?(names?|titles?) of)\b|"
                         r"^\W*(please |can you |could you )?name (the|all|every|each)\b|"
                         r"^\W*what(['’]?s| is| was| are| were) .{1,60}? called\W*$|"
                         r"^\W*what(['’]?s| is| was| are| were) (the |this |that )?(?!(article|piece|story|page|text|"
                         r"essay)['’])[\w -]{1,60}['’]s? (name|title)\W*$", re.IGNORECASE)
_ASKS_PLACE = re.compile(r"^\s*(where|in what (city|country|place)|in which (city|country|place)|"
                         r"what(['’]?s| is| was) the capital( city)? of)\b", re.IGNORECASE)   # a city
_NAME_WORD = re.compile(r"[\w’'-]+")


def expected_answer_type(question: str) -> str | None:
    """``"day"`` for a question asking the day ("the exact date of", "on what day"), ``"date"`` for one asking
    a calendar date ("what date", "the date of"), ``"time"`` for
    when-questions ("what time", "what year"), ``"amount"`` for a value or degree asked without a unit ("how
    much is it worth", not "... worth in dollars"), ``"count"`` for how many/much/long/old, "what is the number
    (amount, population, percentage, proportion, budget, cost, price, size, value, age) of", "what is X's
    budget (cost, price, size, age ...)" and "by what percentage (share, proportion)", ``"title"`` for the
    name or title of something ("what is the name of the forum", "names of the hackers", "name the hackers",
    "what is the report called"), ``"name"`` for who/whose, ``"place"`` for where, else None.

    Example:
        >>> [expected_answer_type(q) for q in ("exact date of the talks", "by what percentage did theft fall",
        ...                                    "names of the hackers indicted", "who wrote it")]
        ['day', 'count', 'title', 'name']
    """
    if _ASKS_DAY.search(question):
        return "day"
    if _ASKS_DATE.search(question):
        return "date"
    if _ASKS_TIME.search(question):
        return "time"
    if _ASKS_VALUE.search(question) and not _UNIT.search(question):
        return "amount"
    if _ASKS_COUNT.search(question) or _ASKS_SHARE.search(question):
        return "count"
    if _ASKS_TITLE.search(question):
        return "title"
    if _ASKS_NAME.search(question):
        return "name"
    if _ASKS_PLACE.search(question):
        return "place"
    return None


def name_words(text: str) -> frozenset[str]:
    """The lower-cased words of ``text`` as names are compared: possessive "'s" dropped, hyphenated parts too."""
    out = set()
    for word in _NAME_WORD.findall(text.lower().replace("’", "'")):
        word = word.removesuffix("'s")
        out.update([word, *word.split("-")])
    return frozenset(out)


# -- the records ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Interpretation:
    """One way of reading the question's words, and what follows from it.

    ``text`` is the question as read (preamble dropped, contractions, abbreviations and, unless this is
    the uncorrected reading, spelling rewritten); ``embed_text`` what is embedded (``text``
    without framing such as "according to the authors", then the follow-up context: the question
    leads, and is never what the model's 256-piece limit cuts); ``terms`` its stemmed
    content words; ``kind`` its interrogative ("why", "what", ...; see :func:`qa.structure.asks`);
    ``answer_type`` what the answer must hold (:func:`expected_answer_type`); ``unknown_names`` the
    words naming something the corpus never mentions; ``asked_words`` its words as names are compared
    (a who-answer must name something else); ``notes`` the rewrites that hold only for this reading;
    ``focus`` what else the answer must supply (a speaker who said something, a date to come; see
    :func:`qa.focus.question_focus`).
    """

    text: str
    embed_text: str
    terms: tuple[str, ...]
    kind: str | None
    answer_type: str | None
    unknown_names: tuple[str, ...]
    asked_words: frozenset[str]
    notes: tuple[str, ...] = ()
    focus: Focus = Focus()


@dataclass(frozen=True)
class QuestionInfo:
    """Everything read from one question, computed once by :meth:`QuestionReader.analyze`.

    ``question`` is the question as typed, cleaned (the answer's ``question``); ``notes`` what cleaning
    and reading changed (cut, preamble dropped, abbreviations expanded); ``context`` the earlier
    questions a follow-up leans on (and a dropped preamble), oldest first; ``context_terms`` their
    stemmed words; ``topics`` the page parts asked about (:func:`question_topics`); ``reading`` the
    :class:`Interpretation` in use; ``alternatives`` other readings worth embedding (the question
    without spelling corrections), of which the engine keeps the one closer to the corpus
    (:meth:`choose`); ``earlier_answer`` where a follow-up's earlier answer is, as ``(doc, start)`` of each of
    its sentences (set by the engine; empty for other questions).
    """

    question: str
    notes: tuple[str, ...]
    context: tuple[str, ...]
    context_terms: tuple[str, ...]
    topics: frozenset[str]
    reading: Interpretation
    alternatives: tuple[Interpretation, ...] = field(default=())
    earlier_answer: tuple[tuple[str, int], ...] = ()

    @property
    def text(self) -> str:
        """The question as read (see :class:`Interpretation`)."""
        return self.reading.text

    @property
    def kind(self) -> str | None:
        return self.reading.kind

    @property
    def answer_type(self) -> str | None:
        return self.reading.answer_type

    @property
    def unknown_names(self) -> tuple[str, ...]:
        return self.reading.unknown_names

    @property
    def all_notes(self) -> list[str]:
        """Every note for the answer: cleaning and reading notes, then the reading's own."""
        return [*self.notes, *self.reading.notes]

    def choose(self, reading: Interpretation) -> "QuestionInfo":
        """This question read as ``reading`` (one of :attr:`alternatives`), with no alternatives left."""
        return QuestionInfo(self.question, self.notes, self.context, self.context_terms, self.topics, reading,
                            earlier_answer=self.earlier_answer)


class Vocabulary:
    """The corpus's words, to tell which names of a question it never mentions."""

    def __init__(self, texts: Iterable[str], known_terms: Iterable[str] | None = None) -> None:
        texts = list(texts)
        self._lower_text = " ".join(t.lower() for t in texts)
        self._terms = frozenset(known_terms) if known_terms is not None else frozenset(
            t for text in texts for t in terms(text))

    def mentions(self, word: str) -> bool:
        """Whether the corpus uses ``word``: verbatim, as a dotted acronym ("US" as "U.S."), or by stem."""
        lowered = word.lower().removesuffix("’s").removesuffix("'s")
        if lowered in self._lower_text or (word.isupper() and ".".join(lowered) + "." in self._lower_text):
            return True
        return any(t in self._terms for t in terms(lowered))

    def unknown_names(self, question: str) -> list[str]:
        """Words of ``question`` naming something specific (see :func:`qa.specifics.looks_specific`:
        numbers, acronyms, names in any case) that the corpus never uses ("Huawei", "2019")."""
        return [w for w in specific_words(question) if not self.mentions(w)]


#: Stems of nouns that stand in for a thing the asker does not name ("the no first use thing", "that stuff"):
#: no sentence is expected to hold them.
_PLACEHOLDERS = frozenset({"thing", "stuff", "whatev"})


class QuestionReader:
    """Reads questions against one corpus: owns its speller, abbreviations and vocabulary.

    Build it once from the indexed sentences (about 0.4 s); :meth:`analyze` then takes 0.1-0.2 ms.

    Usage example:
        >>> reader = QuestionReader(["The 2015 agreement barred state-sanctioned cyber theft."])
        >>> info = reader.analyze("why did the 2015 agreemnt fail", [])
        >>> info.text, info.kind
        ('why did the 2015 agreement fail?', 'why')

    Args:
        texts: the corpus's sentences.
        speller: a :class:`Speller`. Defaults to one built from ``texts``.
        abbreviations: an :class:`Abbreviations`. Defaults to one built from ``texts``.
        known_terms: the stemmed terms of ``texts`` (:func:`qa.lexical.terms`), e.g. a saved BM25's
            vocabulary. Defaults to stemming ``texts`` (seconds for a large corpus).
    """

    def __init__(self, texts: Iterable[str], speller: Speller | None = None,
                 abbreviations: Abbreviations | None = None, known_terms: Iterable[str] | None = None) -> None:
        texts = list(texts)
        self.speller = speller or Speller(texts)
        self.abbreviations = abbreviations or Abbreviations(texts)
        self.vocabulary = Vocabulary(texts, known_terms)

    def analyze(self, question: str, history: list[str] | None = None) -> QuestionInfo:
        """Read ``question`` (and the ``history`` it may lean on, oldest first) once, for retrieval and answer.

        Raises:
            QuestionError: the question is not text or empty once cleaned.
        """
        text, notes = clean_question(question)
        earlier = []
        for item in history or []:
            try:
                earlier.append(read_question(clean_question(item)[0], self.speller, self.abbreviations).text)
            except QuestionError:
                continue
        read = read_question(text, self.speller, self.abbreviations)
        if read.preamble:   # "I read about the G20 meeting. When was it held?": the lead-in is context
            earlier = [*earlier, read.preamble]
        context = tuple(context_for(read.text, earlier))
        thing = pronoun_one(read.text, context[-1]) if context else None
        if thing:   # "has the us made one" after "... a no first use pledge": made a no first use pledge
            read = replace(read, text=_replace_one(read.text, thing), uncorrected=_replace_one(read.uncorrected, thing),
                           notes=(*read.notes, f"read 'one' as '{thing}'"))
        reading = self._interpret(read.text, context, read.spelling_notes)
        alternatives = ((self._interpret(read.uncorrected, context, ()),)
                        if read.uncorrected != read.text else ())
        return QuestionInfo(text, (*notes, *read.notes), context, tuple(terms(" ".join(context))),
                            question_topics(read.text, context), reading, alternatives)

    def _interpret(self, text: str, context: tuple[str, ...], notes: tuple[str, ...]) -> Interpretation:
        stripped = retrieval_text(text)
        return Interpretation(text, " ".join([stripped, *context]),
                              tuple(t for t in terms(stripped) if t not in _PLACEHOLDERS), asks(text),
                              expected_answer_type(text), tuple(self.vocabulary.unknown_names(text)),
                              name_words(text), notes, question_focus(stripped, bool(context)))


def _replace_one(question: str, thing: str) -> str:
    """``question`` with its closing pronoun "one" read as ``thing``."""
    return re.sub(r"\bone(?=(\s+(too|yet|again|already|as well))?\s*\??\s*$)", thing.replace("\\", r"\\"), question,
                  count=1, flags=re.IGNORECASE)


def analyze(question: str, history: list[str] | None = None, reader: QuestionReader | None = None) -> QuestionInfo:
    """Read ``question`` once (see :meth:`QuestionReader.analyze`); without a ``reader``, no corpus is
    known: nothing is spelling-corrected or expanded and every name counts as unknown. Defaults to None."""
    return (reader or QuestionReader([])).analyze(question, history)
