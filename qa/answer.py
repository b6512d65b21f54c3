"""Answer composition: the one Answer/Citation shape, picking answer sentences, and deciding "not in the article"."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, is_dataclass, replace

from .chunking import Chunk, Sentence
from .retrieval import Hit

NOT_COVERED = "The article does not cover this question."

# Expected answer types: a "when" question needs a time in its answer, a "how many"
# question a quantity. An answer sentence without one does not answer it.
_ASKS_TIME = re.compile(r"^\s*(when\b|(in |during )?(what|which) (year|month|day|date|decade)\b)", re.IGNORECASE)
_ASKS_COUNT = re.compile(r"^\s*how (many|much)\b", re.IGNORECASE)
_TIME = re.compile(
    r"\b(1[5-9]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|spring|summer|autumn|fall|winter|year|years|month|months|week|weeks|day|days|"
    r"decade|century|today|yesterday|tomorrow|recently|earlier|later|ago|now|currently|onset|since|"
    r"before|after|until|during)\b", re.IGNORECASE)
# A year ("a 2017 report") or a name ("G20") is not a quantity.
_COUNT = re.compile(
    r"\b(?!(?:1[5-9]|20)\d\d\b)\d+(?:[.,]\d+)*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|trillions?|several|percent|half)\b",
    re.IGNORECASE)


_ASKS_NAME = re.compile(r"^\s*(who|whom|whose)\b", re.IGNORECASE)
_NAME_WORD = re.compile(r"[\w’'-]+")
_CONNECTORS = frozenset({"of", "for", "and", "the", "de"})


def expected_answer_type(question: str) -> str | None:
    """``"time"`` for when-questions, ``"count"`` for how-many/how-much, ``"name"`` for who/whose, else None."""
    if _ASKS_TIME.search(question):
        return "time"
    if _ASKS_COUNT.search(question):
        return "count"
    if _ASKS_NAME.search(question):
        return "name"
    return None


def _words(text: str) -> set[str]:
    out = set()
    for word in _NAME_WORD.findall(text.lower().replace("’", "'")):
        word = word.removesuffix("'s")
        out.update([word, *word.split("-")])
    return out


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
            current |= _words(word)
            pending = 0
        elif is_name:
            if current:
                found.append(current)
            current, pending = _words(word), 0
        elif current and word.lower() in _CONNECTORS and pending < 2 and not gap.strip(" "):
            pending += 1
        else:
            if current:
                found.append(current)
            current, pending = set(), 0
    if current:
        found.append(current)
    return found


def has_answer_type(text: str, kind: str | None, question: str = "") -> bool:
    """Whether ``text`` holds an expression of ``kind`` (always True for None).

    A ``"name"`` answer must name someone or something the ``question`` does not already name:
    "Who is the head of the Carnegie Endowment?" is not answered by a sentence about the Endowment.
    """
    if kind == "time":
        return bool(_TIME.search(text))
    if kind == "count":
        return bool(_COUNT.search(text))
    if kind == "name":
        asked = _words(question)
        return any(not (name & asked) for name in names(text))
    return True


def not_covered(unknown_names: list[str] = ()) -> str:
    """The plain "not in the article" answer, naming what the article never mentions, if known."""
    if not unknown_names:
        return NOT_COVERED
    return f"{NOT_COVERED[:-1]}: it never mentions {', '.join(dict.fromkeys(unknown_names))}."


@dataclass(frozen=True)
class Citation:
    """A quoted passage: ``document.text[start:end] == text``.

    ``paragraph`` is 1-based as a reader counts them; ``sentence`` is the 1-based
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
class Composer:
    """Picks the answer sentence(s) from the retrieved chunks and decides whether to abstain.

    The answer is the best sentence of the top chunk; the chunk's other sentence
    joins it when it scores within ``pair_margin`` of the best ("the best-supported
    sentence or two"). A best sentence that is the part of the page the question asks
    about (``Hit.on_topic``: the deck for "the subtitle", a bio for "who wrote it")
    answers it. Otherwise the question counts as not covered when the best sentence's
    dense similarity is below ``min_similarity`` and it lacks some of the question's
    content words; when the question names something the corpus never mentions and
    the similarity is below ``name_similarity``; or when a when/how-many question
    gets an answer without a time/quantity in it, or a who-question one naming nobody new.

    Usage example:
        >>> composer = Composer()
        >>> composer.compose([], chunks=[], sentences=[], titles={})
        (False, [], [])

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
    """

    min_similarity: float = 0.4
    name_similarity: float = 0.7
    pair_margin: float = 0.05
    whole_match_terms: int = 2

    def compose(self, hits: list[Hit], chunks: list[Chunk], sentences: list[Sentence],
                titles: dict[str, str], unknown_names: list[str] = (),
                answer_type: str | None = None, question: str = "") -> tuple[bool, list[Sentence], list[Citation]]:
        """Choose the answer sentences and build the citations for one question.

        Returns:
            ``(answerable, answer_sentences, citations)``: citations follow ``hits`` (best
            first, numbered from 1); ``answer_sentences`` are in reading order, empty when
            not answerable.
        """
        citations = []
        for n, hit in enumerate(hits, start=1):
            chunk = chunks[hit.chunk_id]
            first, best = sentences[chunk.sentence_ids[0]], sentences[hit.best_sentence]
            citations.append(Citation(n, chunk.doc, titles.get(chunk.doc, chunk.doc), chunk.paragraph,
                                      first.index, chunk.start, chunk.end, chunk.text, round(hit.score, 4),
                                      best.index, best.start, best.end))
        if not hits or not self._supported(hits[0], bool(unknown_names)):
            return False, [], citations
        top = hits[0]
        ids = chunks[top.chunk_id].sentence_ids
        best_score = max(top.sentence_scores)
        chosen = [sentences[sid] for sid, score in zip(ids, top.sentence_scores)
                  if sid == top.best_sentence or score >= best_score - self.pair_margin]
        if not top.on_topic and not has_answer_type(" ".join(s.text for s in chosen), answer_type, question):
            return False, [], citations
        return True, chosen, [at_answer(c, chosen) for c in citations]

    def _supported(self, hit: Hit, names_unknown: bool) -> bool:
        """Whether ``hit`` is evidence enough to answer: the part of the page asked about, similar
        enough, or it holds every word asked."""
        if hit.on_topic:
            return True
        if names_unknown:
            return hit.dense >= self.name_similarity
        whole = hit.asked_terms >= self.whole_match_terms and hit.matched == hit.asked_terms
        return hit.dense >= self.min_similarity or whole
