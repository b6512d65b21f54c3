"""Page structure: which sentences are an article's deck, byline, bios, conclusion and own questions."""
from __future__ import annotations

import re
from collections.abc import Sequence

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

#: Longest first paragraph, in words, still read as a deck rather than a lede.
DECK_MAX_WORDS = 40

# "Captain Adam Greer is an instructor pilot", "Dr. Jane Roe was a fellow ...".
_BIO = re.compile(
    r"^(?:(?:Dr|Prof|Professor|Captain|Capt|Col|Colonel|Maj|Major|Lt|Gen|General|Mr|Ms|Mrs|Sir)\.?\s+)?"
    r"(?:[A-Z][\w’'.-]*\s+){1,4}(?:is|was|are|were)\s+(?:a|an|the|currently|now|former|formerly)\b")
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


def sentence_roles(sentences: Sequence[Sentence]) -> dict[str, np.ndarray]:
    """Which sentences are each document's deck, conclusion, byline, author bios and its own questions.

    The deck is a document's first paragraph when it is one sentence of at most
    :data:`DECK_MAX_WORDS` words and more paragraphs follow. The byline is the last
    paragraph when its first sentence introduces a person ("Jane Roe is a fellow at
    ...") or it says whose views these are; its person-introducing sentences are bios.
    The conclusion is the last paragraph before the byline (or the last, without one).

    Returns:
        ``{role: mask}`` for every role in :data:`ROLES`; each mask is a float32 array of
        shape ``(len(sentences),)`` holding 1.0 where the sentence has the role.
    """
    masks = {role: np.zeros(len(sentences), dtype=np.float32) for role in ROLES}
    masks["asked"][:] = [is_question_sentence(sentence.text) for sentence in sentences]
    paragraphs: dict[tuple[str, int], list[Sentence]] = {}
    for sentence in sentences:
        paragraphs.setdefault((sentence.doc, sentence.paragraph), []).append(sentence)
    last = {}
    for doc, number in paragraphs:
        last[doc] = max(last.get(doc, 0), number)
    for (doc, number), members in paragraphs.items():
        if number == 1 and last[doc] > 2 and len(members) == 1 and len(members[0].text.split()) <= DECK_MAX_WORDS:
            masks["deck"][members[0].id] = 1.0
        if number == last[doc] > 1 and (_BIO.match(members[0].text) or _VIEWS.search(members[0].text)):
            for sentence in members:
                masks["byline"][sentence.id] = 1.0
                if _BIO.match(sentence.text):
                    masks["bio"][sentence.id] = 1.0
    for doc, final in last.items():
        body_end = final - 1 if masks["byline"][paragraphs[(doc, final)][0].id] else final
        for sentence in paragraphs.get((doc, body_end), []) if body_end > 1 else []:
            masks["conclusion"][sentence.id] = 1.0
    return masks


def title_span(doc: Document) -> Span | None:
    """Where ``doc``'s title first appears in its text (the page's headline), or None."""
    start = doc.text.find(doc.title) if doc.title else -1
    return Span(start, start + len(doc.title)) if start >= 0 else None
