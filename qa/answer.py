"""Answer composition: the one Answer/Citation shape, picking answer sentences, and deciding "not in the article"."""
from __future__ import annotations

import math

import re
from dataclasses import dataclass, field, fields, is_dataclass, replace

import hashlib
import logging

from .analysis import QuestionInfo, name_words
from .chunking import Chunk, Sentence
from .corpus import Document
from .focus import missing
from .retrieval import Hit
from .structure import title_span

logger = logging.getLogger(__name__)

NOT_COVERED = "The article does not cover this question."
#: Answer types that many sentences hold by chance (any name, "in" before a capital, "several", "earlier"): a
#: passage below the best that holds one is no evidence it answers ("what is the capital of china" by "those in
#: the People's ...", "when did the hacking start" by "the 2014 effort to indict ...").
LOOSE_TYPES = frozenset({"name", "place", "count", "time", "amount"})
#: A query of at most this many words with no question word or "?" is a keyword query ("obama xi deal").
KEYWORD_WORDS = 5

# An answer to a "when" question holds a time, to a "how many" question a quantity. "May" is the month only
# after "in", "of", "since", "until" or before a day ("in May", "May 5"), never the verb ("may act").
_TIME = re.compile(
    r"\b(1[5-9]\d\d|20\d\d|january|february|march|april|(?<=in )may|(?<=of )may|(?<=since )may|(?<=until )may|"
    r"may(?= \d)|june|july|august|september|october|"
    r"november|december|spring|summer|autumn|fall|winter|year|years|month|months|week|weeks|day|days|"
    r"decade|century|today|yesterday|tomorrow|recently|earlier|later|ago|now|currently|onset|since|"
    r"before|after|until|during)\b", re.IGNORECASE)
# A year ("a 2017 report") or a name ("G20") is not a quantity.
_COUNT = re.compile(
    r"\b(?!(?:1[5-9]|20)\d\d\b)\d+(?:[.,]\d+)*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|trillions?|several|percent|half)\b",
    re.IGNORECASE)
# A magnitude said in words answers "how much is it worth" (an "amount" question) as a figure does.
_MAGNITUDE = re.compile(r"\b(astronomical|enormous|huge|vast|immense|massive|tremendous|considerable|substantial|"
                        r"staggering|negligible|incalculable|invaluable|priceless|worthless|significant|minimal|"
                        r"sizable|sizeable|modest)\b", re.IGNORECASE)
# A yes/no question: "has the agreement cut down on hacking", "were they ready from day one".
_YES_NO = re.compile(r"^\W*(has|have|had|is|are|was|were|did|does|do|can|could|will|would|should)\b", re.IGNORECASE)
_NAME_WORD = re.compile(r"[\w’'-]+")
# An answer to a "where" question says where: "in Beijing", "at the Air Force Academy", "from the United States".
_PLACE = re.compile(r"\b(in|at|from|near|inside|outside|across|throughout)\s+(the\s+)?(?!(January|February|March|April|"
                    r"May|June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|"
                    r"Friday|Saturday|Sunday)\b)[A-Z]")   # "in March" says when
_CONNECTORS = frozenset({"of", "for", "and", "the", "de"})
_INITIALS = frozenset("abcdefghijklmnopqrstuvwxyz")
# A calendar date: a month (not the modal "may"), a weekday, or a day written in figures ("5/3/2017").
_DATE = re.compile(r"\b(january|february|march|april|june|july|august|september|october|november|december|"
                   r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|(?<=in )may|(?<=of )may|may(?= \d))\b|"
                   r"\b\d{1,2}/\d{1,2}(/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b", re.IGNORECASE)
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december)"
# A day: a weekday, a month with its day ("March 3", "3 March", "3rd of March"), or a date in figures.
_DAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
                  rf"\b{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?\b|\b\d{{1,2}}(st|nd|rd|th)?\s+(of\s+)?{_MONTH}\b|"
                  r"\b\d{1,2}/\d{1,2}(/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b", re.IGNORECASE)


def names(text: str) -> list[set[str]]:
    """The names in ``text``, each as its set of lower-cased words: runs of words capitalised past a sentence
    start, or with two capitals or a digit ("MIT", "G20"), joined by "of", "for", "and", "the"
    ("Carnegie Endowment for International Peace" is one name)."""
    found: list[set[str]] = []
    current: set[str] = set()
    pending = 0   # connectors seen since the last capitalised word
    previous_end = None
    for match in _NAME_WORD.finditer(text):
        word = match.group()
        gap = "" if previous_end is None else text[previous_end:match.start()]
        start = previous_end is None or gap.strip()[-1:] in (".", "!", "?")
        previous_end = match.end()
        capitals = sum(ch.isupper() for ch in word)
        is_name = (word[0].isupper() and not start) or capitals >= 2 or (capitals and any(c.isdigit() for c in word))
        if is_name and (not current or not gap.strip(" ")):
            current |= name_words(word)
            pending = 0
        elif is_name:
            if current:
                found.append(current)
            current, pending = name_words(word), 0
        elif current and word.lower() in _CONNECTORS and pending < 2 and not gap.strip(" "):
            pending += 1
        else:
            if current:
                found.append(current)
            current, pending = set(), 0
    if current:
        found.append(current)
    return found


def has_answer_type(text: str, kind: str | None, asked_words: frozenset[str] = frozenset()) -> bool:
    """Whether ``text`` holds an expression of ``kind`` (always True for None).

    A ``"name"`` answer must name someone or something the question (its ``asked_words``, see
    :func:`qa.analysis.name_words`; defaults to none) does not already name: "Who is the head of the
    Carnegie Endowment?" is not answered by a sentence about the Endowment. A ``"place"`` answer says
    where: "in", "at", "from" ... before a name ("at the Air Force Academy"); an ``"amount"`` answer a figure
    or a magnitude in words ("can be astronomical"). A ``"date"`` answer names a
    month, a weekday or a date in figures ("earlier this month" is not a date), a ``"day"`` answer a weekday
    or a month with its day ("in March" is not one); a ``"title"`` answer holds a
    name of two words or more, one of which the question does not use ("the first Law Enforcement and
    Cybersecurity Dialogue" for "what is the name of the dialogue").
    """
    if kind == "time":
        return bool(_TIME.search(text))
    if kind == "date":
        return bool(_DATE.search(text))
    if kind == "day":
        return bool(_DAY.search(text))
    if kind == "title":   # a name with a word of its own: "the Dialogue" does not name the dialogue asked about
        return any(len(name - _CONNECTORS - _INITIALS) >= 2 and name - asked_words - _CONNECTORS - _INITIALS
                   for name in names(text))
    if kind == "count":
        return bool(_COUNT.search(text))
    if kind == "amount":
        return bool(_COUNT.search(text) or _MAGNITUDE.search(text))
    if kind == "name":
        return any(not (name & asked_words) for name in names(text))
    if kind == "place":
        return bool(_PLACE.search(text))
    return True


def avoids_repeating(info: QuestionInfo) -> bool:
    """Whether a follow-up ``info`` asks something new, so that its answer should not repeat the earlier one
    (:attr:`Composer.repeat_margin`): not when it asks for a type (who, when ...), since a detail of the earlier
    answer is asked, nor a yes/no question ("has china made one"), often answered where its thing was described."""
    return bool(info.context) and info.answer_type is None and not _YES_NO.match(info.text)


def _close_behind(hits: list[Hit], margin: float):
    """``(n, hit)`` for each hit after the first, in order, while it scores at most ``margin`` below the first."""
    for n, hit in enumerate(hits[1:], start=1):
        if hit.score < hits[0].score - margin:
            return
        yield n, hit


def not_covered(unknown_names: list[str] = ()) -> str:
    """The plain "not in the article" answer, naming what the article never mentions, if known."""
    if not unknown_names:
        return NOT_COVERED
    return f"{NOT_COVERED[:-1]}: it never mentions {', '.join(dict.fromkeys(unknown_names))}."


#: ``Citation.paragraph`` of a document's headline (its title, quoted where the text first has it): a heading is
#: not a paragraph, so paragraphs count from 1 below it.
HEADLINE_PARAGRAPH = 0


@dataclass(frozen=True)
class Citation:
    """A quoted passage: ``document.text[start:end] == text``.

    ``paragraph`` is 1-based as a reader counts them (0, :data:`HEADLINE_PARAGRAPH`, for the headline, cited
    when it is the answer); ``sentence`` is the 1-based
    index, within that paragraph, of the passage's first sentence. ``answer_sentence``
    is the 1-based index, in the same paragraph, of the passage's sentence that answers
    (the first answer sentence the passage holds; else, e.g. for a related passage, its
    best-matching sentence), at ``document.text[answer_start:answer_end]``: links and
    highlights point there (the web page's anchor is ``p{paragraph}-s{answer_sentence}``),
    the passage gives the context. ``score`` is the fused retrieval score (0..1).
    """

    n: int
    doc: str
    title: str
    paragraph: int
    sentence: int
    start: int
    end: int
    text: str
    score: float
    answer_sentence: int
    answer_start: int
    answer_end: int


def place(citation: Citation) -> str:
    """Where ``citation`` is, as a reader says it: ``"paragraph 4"``, or ``"headline"`` for paragraph 0."""
    return "headline" if citation.paragraph == HEADLINE_PARAGRAPH else f"paragraph {citation.paragraph}"


@dataclass(frozen=True)
class AnswerSpan:
    """Where an answer sentence is: ``document.text[start:end]``."""

    doc: str
    start: int
    end: int


@dataclass
class Answer:
    """What every front end shows: the answer sentence(s) and the cited passages.

    ``answerable`` is False when the article does not cover the question; then
    ``answer`` says so, ``answer_spans`` is empty and ``citations`` are the closest
    (related) passages. ``notes`` says what was changed in the question, if anything.
    """

    id: str
    question: str
    answerable: bool
    answer: str
    answer_spans: list[AnswerSpan]
    citations: list[Citation]
    latency_ms: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON object documented in the README (plain dicts, lists, strings and numbers)."""
        return _plain(self)


def _plain(value):
    """Dataclasses and lists as plain dicts and lists, like ``dataclasses.asdict`` without its deep
    copies of every leaf (which cost 7% of a 1,000-question batch)."""
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def at_answer(citation: Citation, answer: list[Sentence]) -> Citation:
    """``citation`` pointing at the first of the ``answer`` sentences it holds (unchanged when it holds none)."""
    for sentence in answer:
        if sentence.doc == citation.doc and citation.start <= sentence.start < citation.end:
            return replace(citation, answer_sentence=sentence.index, answer_start=sentence.start,
                           answer_end=sentence.end)
    return citation


@dataclass(frozen=True)
class Passages:
    """What answers are quoted from: the documents by id, and the index's chunks and sentences."""

    documents: dict[str, Document]
    chunks: list[Chunk]
    sentences: list[Sentence]


def answer_id(question: str, context: tuple[str, ...] | list[str] = ()) -> str:
    """The default answer id: a short hash of the question and the context it was read with."""
    return hashlib.sha1("\x1f".join([*context, question]).encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass(frozen=True)
class Composer:
    """Builds the :class:`Answer` from the retrieved chunks: picks the answer sentence(s) or abstains.

    The answer is the best sentence of the top chunk; the chunk's other sentence
    joins it when it scores within ``pair_margin`` of the best ("the best-supported
    sentence or two"). A best sentence that is the part of the page the question asks
    about (``Hit.on_topic``: the deck for "the subtitle", a bio for "who wrote it")
    answers it; a question about the headline is answered with the title of the best
    hit's document, quoted from its page. Otherwise the question counts as not covered
    when the best sentence's dense similarity is below ``min_similarity`` and it lacks
    some of the question's content words; when the question names something the corpus
    never mentions and the similarity is below ``name_similarity``; or when a
    when/how-many question gets an answer without a time/quantity in it, or a
    who-question one naming nobody new. Each abstention is logged at DEBUG with its rule
    and numbers.

    Which passage answers is not always the first: a keyword query is answered where the document
    first names the thing (``mention_margin``); a passage close to the best answers when the best lacks
    only a title, date or day asked for (``fallback_margin``), or when the best would repeat a follow-up's
    earlier answer (``repeat_margin``); the answering passage is then cited first.

    Usage example:
        >>> from qa.analysis import analyze
        >>> Composer().compose(analyze("What did it bar?"), [], Passages({}, [], [])).answerable
        False

    Args:
        min_similarity: abstain below this cosine similarity of the best sentence (or one
            of its word windows). Defaults to 0.4, calibrated on the evaluation set (README).
        name_similarity: the higher bar when the question names something the corpus never
            mentions (a year, a company): such questions are usually about something else.
            Defaults to 0.7.
        pair_margin: how close the second sentence must score to join the answer. Defaults to 0.05.
        whole_match_terms: a best sentence holding every content word of a question of at least this
            many content words answers it whatever the similarity (a short question's embedding is a
            poor match for a long sentence: "What could be a palatable step?" scores 0.24). Defaults to 2.
        similarity_per_decade: ``min_similarity`` rises by this much for each tenfold growth of the corpus
            past 1,000 sentences: among more sentences, an unrelated one comes closer by chance (at 104,000
            Python documentation sentences, off-topic questions' best similarity had a median of 0.43).
            Defaults to 0.05 (0.50 at 100,000 sentences).
        corpus_sentences: the number of sentences in the corpus. Defaults to 0 (a small corpus).
        fallback_margin: when the best passage lacks the answer type asked for and it is one few sentences hold
            by chance (a title, a date, a day; not :data:`LOOSE_TYPES`), a later passage scoring at most this much
            lower that holds it (and passes every other check) answers, cited first. Defaults to 0.1 (the
            evaluation sets score the same from 0.1 to 0.15).
        mention_margin: for a keyword query ("obama xi deal"), a passage scoring at most this much below the
            best that holds as many of its words and comes earlier in the same document is put first: a text
            introduces a thing where it first names it. Defaults to 0.05 (the sets score the same from 0.02
            to 0.15).
        yes_no_margin: ``pair_margin`` for a yes/no question ("has the agreement cut down on hacking", "did it
            reduce theft"): the claim asked about and the finding on it are often two sentences ("... the
            Obama-Xi cyber agreement, which barred ..." then "reports indicate the agreement has contributed to a
            quantitative decline"), so both are quoted. Defaults to 0.2 (two answers gained from 0.1 to 0.3,
            none lost).
        repeat_margin: a follow-up whose best passage would repeat its earlier answer
            (``QuestionInfo.earlier_answer``) is answered by the first later passage scoring at most this much
            lower that says something else and passes every check: it asks something new ("then what did it at
            least show"). Defaults to 0.1 (the sets gain two follow-ups from 0.05, three from 0.1 to 0.12, and
            lose two at 0.15).
    """

    min_similarity: float = 0.4
    name_similarity: float = 0.7
    pair_margin: float = 0.05
    whole_match_terms: int = 2
    similarity_per_decade: float = 0.05
    corpus_sentences: int = 0
    fallback_margin: float = 0.1
    mention_margin: float = 0.05
    repeat_margin: float = 0.1
    yes_no_margin: float = 0.2

    @property
    def similarity_bar(self) -> float:
        """``min_similarity`` for this corpus's size (see ``similarity_per_decade``)."""
        return self.min_similarity + self.similarity_per_decade * max(0.0, math.log10(max(self.corpus_sentences, 1) / 1000))

    def compose(self, info: QuestionInfo, hits: list[Hit], passages: Passages, top_k: int | None = None,
                id: str | None = None) -> Answer:
        """The answer to the question ``info`` from its ``hits`` (best first).

        Args:
            info: the analysed question.
            hits: the retrieved chunks, best first.
            passages: the documents, chunks and sentences the hits point into.
            top_k: citations kept. Defaults to all of ``hits``.
            id: the answer's id. Defaults to a hash of the question and its context.

        Returns:
            An :class:`Answer` with ``latency_ms`` 0 (the engine times the whole call); citations
            follow ``hits``, numbered from 1; ``answer_spans`` are in reading order.
        """
        hits = self._first_mention(info, hits, passages)
        answerable, spans, used = self._decide(info, hits, passages)
        if used:   # a later passage supplies what the best one lacks: it is cited first, as the answer's source
            hits = [hits[used], *hits[:used], *hits[used + 1:]]
        citations = self._citations(hits, passages)
        headline = self._headline(info, spans, hits, passages) if answerable else None
        if headline is not None:   # "what is the headline?": the quote is the title itself, cited first
            citations = [headline, *(replace(c, n=c.n + 1) for c in citations)]
        elif answerable:   # links and highlights point at the sentence that answers, not the passage's first
            answered = [s for s in (passages.sentences[i] for i in passages.chunks[hits[0].chunk_id].sentence_ids)
                        if AnswerSpan(s.doc, s.start, s.end) in spans]
            citations = [at_answer(c, answered) for c in citations]
        documents = passages.documents
        return Answer(
            id=id or answer_id(info.question, info.context),
            question=info.question,
            answerable=answerable,
            answer=(" ".join(documents[s.doc].text[s.start:s.end] for s in spans) if answerable
                    else not_covered(info.unknown_names)),
            answer_spans=spans if answerable else [],
            citations=citations[:top_k] if top_k else citations,
            latency_ms=0.0,
            notes=info.all_notes,
        )

    def _first_mention(self, info: QuestionInfo, hits: list[Hit], passages: Passages) -> list[Hit]:
        """``hits`` with, for a keyword query ("obama xi deal": no question word, a few words), the hit whose best
        sentence comes first in the same document put first when it scores within ``mention_margin`` of the best
        and holds as many of the query's words: a text introduces a thing where it first names it."""
        if (not hits or len(info.text.split()) > KEYWORD_WORDS or info.text.rstrip().endswith("?")
                or info.kind is not None or hits[0].on_topic or info.topics):
            return hits
        top = hits[0]
        first = passages.sentences[top.best_sentence]
        for n, hit in _close_behind(hits, self.mention_margin):
            sentence = passages.sentences[hit.best_sentence]
            if sentence.doc == first.doc and sentence.start < first.start and hit.matched >= top.matched:
                logger.debug("keyword query: passage %d names it first in the document (score %.3f)", n + 1,
                             hit.score)
                return [hit, *hits[:n], *hits[n + 1:]]
        return hits

    @staticmethod
    def _headline(info: QuestionInfo, spans: list[AnswerSpan], hits: list[Hit], passages: Passages
                  ) -> Citation | None:
        """The citation of a document's headline (paragraph 0, :data:`HEADLINE_PARAGRAPH`) when the answer is
        that headline ("what is the article called?"), else None. The title is in no passage (a heading is
        not a paragraph), so without it the answer would cite only passages that do not hold it."""
        if "title" not in info.topics or len(spans) != 1 or not hits:
            return None
        document = passages.documents.get(spans[0].doc)
        title = title_span(document) if document else None
        if title is None or (title.start, title.end) != (spans[0].start, spans[0].end):
            return None
        return Citation(1, document.id, document.title, HEADLINE_PARAGRAPH, 1, title.start, title.end,
                        document.text[title.start:title.end], round(hits[0].score, 4), 1, title.start, title.end)

    @staticmethod
    def _citations(hits: list[Hit], passages: Passages) -> list[Citation]:
        out = []
        for n, hit in enumerate(hits, start=1):
            chunk = passages.chunks[hit.chunk_id]
            first, best = passages.sentences[chunk.sentence_ids[0]], passages.sentences[hit.best_sentence]
            doc = passages.documents.get(chunk.doc)
            out.append(Citation(n, chunk.doc, doc.title if doc else chunk.doc, chunk.paragraph,
                                first.index, chunk.start, chunk.end, chunk.text, round(hit.score, 4),
                                best.index, best.start, best.end))
        return out

    def _decide(self, info: QuestionInfo, hits: list[Hit], passages: Passages
                ) -> tuple[bool, list[AnswerSpan], int]:
        """``(answerable, answer_spans, n)``: whether the question is answered, with which sentences, from
        ``hits[n]``. The best hit answers unless it lacks what the question asks for (its answer type or
        focus); then the first later hit scoring within ``fallback_margin`` of it that supplies it does."""
        if not hits:
            logger.debug("abstain: nothing retrieved")
            return False, [], 0
        if "title" in info.topics:   # "What is the headline?": the title of the document in focus
            document = passages.documents.get(passages.chunks[hits[0].chunk_id].doc)
            span = title_span(document) if document else None
            if span is not None:
                return True, [AnswerSpan(document.id, span.start, span.end)], 0
        top = hits[0]
        if not self._supported(top, info):
            return False, [], 0
        lacking = self._lacking(top, info, passages)
        if lacking is None:
            spans = self._spans(top, passages, info)
            if (info.earlier_answer and avoids_repeating(info)
                    and all((s.doc, s.start) in info.earlier_answer for s in spans)):
                for n, hit in _close_behind(hits, self.repeat_margin):   # a follow-up asks something new
                    other = self._spans(hit, passages, info)
                    if (not all((s.doc, s.start) in info.earlier_answer for s in other)
                            and self._supported(hit, info, quiet=True) and self._lacking(hit, info, passages) is None):
                        logger.debug("the best passage repeats the earlier answer; answered from passage %d "
                                     "(score %.3f)", n + 1, hit.score)
                        return True, other, n
            return True, spans, 0
        logger.debug("abstain: %s", lacking)
        if info.answer_type in LOOSE_TYPES or has_answer_type(
                " ".join(s.text for s in self._chosen(top, passages, info)), info.answer_type, info.reading.asked_words):
            # a focus the best passage lacks, or a type most passages hold by chance ("in the People's Liberation
            # Army" says a place): a lower passage holding it is no safer
            return False, [], 0
        for n, hit in _close_behind(hits, self.fallback_margin):
            if hit.on_topic or not self._supported(hit, info, quiet=True):
                continue
            later = self._lacking(hit, info, passages)
            if later is None:
                logger.debug("answered from passage %d (score %.3f, %.3f below the best), which supplies it",
                             n + 1, hit.score, top.score - hit.score)
                return True, self._spans(hit, passages, info), n
        return False, [], 0

    def _chosen(self, hit: Hit, passages: Passages, info: QuestionInfo) -> list[Sentence]:
        """The answer sentences of ``hit``: its best, and the chunk's other one when within ``pair_margin``."""
        ids = passages.chunks[hit.chunk_id].sentence_ids
        best_score = max(hit.sentence_scores)
        margin = self.yes_no_margin if _YES_NO.match(info.text) else self.pair_margin
        return [passages.sentences[sid] for sid, score in zip(ids, hit.sentence_scores)
                if sid == hit.best_sentence or score >= best_score - margin]

    def _spans(self, hit: Hit, passages: Passages, info: QuestionInfo) -> list[AnswerSpan]:
        return [AnswerSpan(s.doc, s.start, s.end) for s in self._chosen(hit, passages, info)]

    def _lacking(self, hit: Hit, info: QuestionInfo, passages: Passages) -> str | None:
        """What ``hit``'s answer sentences fail to supply of the question's answer type and focus, as a reason
        for the log; None when nothing (always None for the part of the page asked about)."""
        if hit.on_topic:
            return None
        chosen = self._chosen(hit, passages, info)
        text = " ".join(s.text for s in chosen)
        if not has_answer_type(text, info.answer_type, info.reading.asked_words):
            return (f"a {info.answer_type}-question, but the passage (paragraph {chosen[0].paragraph}) holds "
                    f"no {info.answer_type}")
        lacking = missing(info.reading.focus, text, passages.documents[chosen[0].doc].text)
        return f"{lacking} (paragraph {chosen[0].paragraph})" if lacking else None

    def _supported(self, hit: Hit, info: QuestionInfo, quiet: bool = False) -> bool:
        """Whether ``hit`` is evidence enough to answer: the part of the page asked about, similar
        enough, or it holds every word asked (why not is logged unless ``quiet``; defaults to False)."""
        if hit.on_topic:
            return True
        if info.unknown_names:
            if hit.dense < self.name_similarity:
                if quiet:
                    return False
                logger.debug("abstain: the question names %s, which the corpus never mentions, and the best "
                             "similarity %.3f is below name_similarity %.2f",
                             ", ".join(info.unknown_names), hit.dense, self.name_similarity)
                return False
            return True
        whole = hit.asked_terms >= self.whole_match_terms and hit.matched == hit.asked_terms
        if hit.dense >= self.similarity_bar or whole:
            return True
        if quiet:
            return False
        logger.debug("abstain: best similarity %.3f is below min_similarity %.2f (for %d sentences) and the best "
                     "sentence holds %d of the question's %d content words", hit.dense, self.similarity_bar,
                     self.corpus_sentences, hit.matched,
                     hit.asked_terms)
        return False
