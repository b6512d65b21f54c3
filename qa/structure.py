"""Page structure: each document's deck, byline, bios, conclusion and own questions (its PageProfile)."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .chunking import Sentence
from .corpus import Document, Span

#: Roles a sentence can have besides body text.
#: ``deck``: the one-sentence summary under the headline; ``conclusion``: the last
#: paragraph of the body; ``byline``: the closing paragraph about the authors;
#: ``bio``: a byline sentence introducing a person; ``asked``: a question the article asks.
ROLES = ("deck", "conclusion", "byline", "bio", "asked")
#: What a question can be about besides the subject: the roles above, or the page's headline (``title``).
TOPICS = (*ROLES, "title")



@dataclass(frozen=True)
class TopicRule:
    """How retrieval treats a question about a page topic: sentences with ``role`` gain ``boost``
    (in the document in focus only); when ``answers_directly`` such a sentence answers the question
    whatever its similarity (``Hit.on_topic``); when ``all_best`` every such sentence scores as the
    row's best ("Who wrote this?" names every author)."""

    role: str
    boost: float
    answers_directly: bool = True
    all_best: bool = False


#: What each page topic of a question (see :func:`qa.analysis.question_topics`) does in retrieval;
#: "title" ("What is the headline?") cites the deck under it, and the composer quotes the title.
TOPIC_RULES = {
    "deck": TopicRule("deck", 0.3),
    "conclusion": TopicRule("conclusion", 0.3),
    "byline": TopicRule("byline", 0.3),
    "bio": TopicRule("bio", 0.3, all_best=True),
    "asked": TopicRule("asked", 0.3),
    "title": TopicRule("deck", 0.3),
}

#: Longest first paragraph, in words, still read as a deck rather than a lede.
DECK_MAX_WORDS = 40

# "Captain Adam Greer is an instructor pilot", "Dr. Jane Roe was a fellow ...",
# "Jane Roe and John Doe are researchers at ...".
_NAMES = r"(?:[A-Z][\w’'.-]*\s+){1,4}"
_BIO = re.compile(
    r"^(?:(?:Dr|Prof|Professor|Captain|Capt|Col|Colonel|Maj|Major|Lt|Gen|General|Mr|Ms|Mrs|Sir)\.?\s+)?" + _NAMES
    + r"(?:(?:is|was|are|were)\s+(?:a|an|the|currently|now|former|formerly)\b|and\s+" + _NAMES
    + r"(?:are|were)\s+(?:a|an|the|currently|now|former|formerly\b|(?:[\w-]+\s+){1,3}(?:at|of|with|for|in)\b))")
_VIEWS = re.compile(r"\b(views|opinions)\b.*\b(authors?|writers?)\b", re.IGNORECASE)

_WH = re.compile(r"\b(why|what|who|whom|whose|when|where|which|how)\b", re.IGNORECASE)
_ASKS_REASON = re.compile(r"\b(reasons?|explanations?|explains?|causes?|caused|how come)\b", re.IGNORECASE)


def asks(question: str) -> str | None:
    """The kind of question: its first interrogative word ("why", "what", ...), lower-cased.

    Questions about reasons or explanations count as "why"; ``None`` when there is no
    interrogative word ("Did it work?").

    Example:
        >>> asks("So why did it fall short?"), asks("What explains the failure?")
        ('why', 'why')
    """
    if _ASKS_REASON.search(question):
        return "why"
    match = _WH.search(question)
    return match.group(1).lower() if match else None


def is_question_sentence(text: str) -> bool:
    """Whether ``text`` is itself a question (ends in "?", before closing quotes)."""
    return text.rstrip(" ”\"')’").endswith("?")


@dataclass(frozen=True)
class PageProfile:
    """The parts of one document's page, found once when the index is built.

    Each role holds the ids (into the index's sentences) of the document's sentences that have it:
    ``deck`` the one-sentence summary under the headline, ``conclusion`` the last paragraph of the
    body, ``byline`` the closing paragraph about the authors, ``bio`` its sentences introducing a
    person, ``asked`` the questions the article asks. ``title`` is where the title (the headline)
    is in the document's text, as ``[start, end]``, or None.
    """

    doc: str
    deck: tuple[int, ...] = ()
    conclusion: tuple[int, ...] = ()
    byline: tuple[int, ...] = ()
    bio: tuple[int, ...] = ()
    asked: tuple[int, ...] = ()
    title: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        """Plain JSON: ``{"doc", "deck", "conclusion", "byline", "bio", "asked", "title"}``."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, raw: dict) -> "PageProfile":
        """The profile :meth:`to_dict` wrote (raises KeyError/TypeError/ValueError when malformed)."""
        title = raw.get("title")
        return cls(str(raw["doc"]), *(tuple(int(i) for i in raw[role]) for role in ROLES),
                   title=(int(title[0]), int(title[1])) if title is not None else None)


def page_profiles(sentences: Sequence[Sentence], docs: Sequence[Document] = ()) -> list[PageProfile]:
    """One :class:`PageProfile` per document of ``sentences`` (in order of first sentence).

    The deck is a document's first paragraph when it is one sentence of at most
    :data:`DECK_MAX_WORDS` words and more paragraphs follow. The byline is the last
    paragraph when its first sentence introduces a person ("Jane Roe is a fellow at
    ...", "Jane Roe and John Doe are ...") or it says whose views these are; its
    person-introducing sentences are bios. The conclusion is the last paragraph before
    the byline (or the last, without one). The title's place comes from ``docs``
    (defaults to none: no title).
    """
    paragraphs: dict[str, dict[int, list[Sentence]]] = {}
    for sentence in sentences:
        paragraphs.setdefault(sentence.doc, {}).setdefault(sentence.paragraph, []).append(sentence)
    by_id = {doc.id: doc for doc in docs}
    profiles = []
    for doc, paras in paragraphs.items():
        last = max(paras)
        roles: dict[str, list[int]] = {role: [] for role in ROLES}
        roles["asked"] = [s.id for members in paras.values() for s in members if is_question_sentence(s.text)]
        first = paras.get(1, [])
        if 1 in paras and last > 2 and len(first) == 1 and len(first[0].text.split()) <= DECK_MAX_WORDS:
            roles["deck"].append(first[0].id)
        closing = paras[last]
        if last > 1 and (_BIO.match(closing[0].text) or _VIEWS.search(closing[0].text)):
            roles["byline"] = [s.id for s in closing]
            roles["bio"] = [s.id for s in closing if _BIO.match(s.text)]
        body_end = last - 1 if roles["byline"] else last
        if body_end > 1:
            roles["conclusion"] = [s.id for s in paras.get(body_end, [])]
        span = title_span(by_id[doc]) if doc in by_id else None
        profiles.append(PageProfile(doc, *(tuple(sorted(roles[role])) for role in ROLES),
                                    title=(span.start, span.end) if span else None))
    return profiles


def role_masks(profiles: Sequence[PageProfile], n_sentences: int) -> dict[str, np.ndarray]:
    """``{role: mask}`` for every role in :data:`ROLES`: float32 arrays of shape ``(n_sentences,)``
    holding 1.0 where a sentence has the role in its document's profile."""
    masks = {role: np.zeros(n_sentences, dtype=np.float32) for role in ROLES}
    for profile in profiles:
        for role in ROLES:
            masks[role][list(getattr(profile, role))] = 1.0
    return masks


def sentence_roles(sentences: Sequence[Sentence]) -> dict[str, np.ndarray]:
    """Which sentences are each document's deck, conclusion, byline, author bios and its own questions
    (see :func:`page_profiles`), as :func:`role_masks`."""
    return role_masks(page_profiles(sentences), len(sentences))


def title_span(doc: Document) -> Span | None:
    """Where ``doc``'s title first appears in its text (the page's headline), or None."""
    start = doc.text.find(doc.title) if doc.title else -1
    return Span(start, start + len(doc.title)) if start >= 0 else None
