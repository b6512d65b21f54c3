"""Follow-ups that point into an earlier answer: "the second one" it named, or the passage after it.

"Where is the second one based" after "who wrote this piece" names the second author; "what do they suggest
instead" or "why that area" asks about the sentences after the earlier answer. The engine answers the earlier
question again (a history holds questions only), then these rules read its answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .question import REFERENCE as _REFERENCE
from .retrieval import Hit

_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
             "fifth": 4, "5th": 4, "former": 0, "latter": -1, "last": -1}
# A follow-up about what comes after the earlier answer: an alternative, a next step, a reason for it.
_NEXT = re.compile(r"\b(instead|else|alternatives?|rather|otherwise|next|then what|what then|"
                   r"which (one|of (them|those|these)))\b", re.IGNORECASE)
# A follow-up asking how the thing an earlier answer described turned out ("did it actually work", "was it a
# success", "how did that go"): a text tells the outcome after it describes the thing, so it is read as "next".
_OUTCOME = re.compile(r"^\W*((and|so|but|ok)\s+)?((did|does|has|have)\s+(it|that|this|they)\s+((actually|really|ever)\s+)?"
                      r"(work|worked|succeed|succeeded|help|helped|pay off|paid off|fail|failed|achieve|make a difference)\b|"
                      r"(was|is|has been)\s+(it|that|this)\s+((actually|really)\s+)?(a\s+)?(success|successful|effective|"
                      r"working|a failure)\b|how did (it|that|this) (go|turn out|work out|end)\b|"
                      r"what happened (next|after|then|since))", re.IGNORECASE)
_REASON = re.compile(r"\b(why|how come|reasons?|explanations?|because)\b", re.IGNORECASE)
# A capitalised run: a name ("Nathan Montierth", "Carnegie Endowment for International Peace").
_NAME = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:(?:of|for|the|de)\s+)?[A-Z][\w’'.-]*)*")
_SENTENCE = re.compile(r"(?<![A-Z]\.[A-Z]\.)(?<=[.!?”\"])\s+(?=[A-Z“\"])")   # not after "U.S."
#: A capitalised first word of a sentence this common in English ("Although", "The") is not part of a name ...
COMMON_START_ZIPF = 5.0
#: ... nor, alone, one this common ("Accordingly", "Yet").
LONE_START_ZIPF = 4.0


@dataclass(frozen=True)
class Reference:
    """A phrase of a follow-up pointing into the things an earlier answer named: ``text`` as typed,
    ``position`` the index of the thing (0 first, -1 last) or None for "the other"."""

    text: str
    position: int | None


def reference(question: str) -> Reference | None:
    """The phrase of ``question`` that points at one of the things an earlier answer named, if any.

    Example:
        >>> reference("where is the second one based")
        Reference(text='the second one', position=1)
        >>> reference("where does the other author work").position is None, reference("what was the first dialogue")
        (True, None)
    """
    match = _REFERENCE.search(question)
    if not match:
        return None
    which = (match.group("which") or match.group("pair")).lower()
    return Reference(match.group().strip(), None if which == "other" else _ORDINALS[which])


def wants_neighbourhood(question: str) -> str | None:
    """What a follow-up asks of the passage after its earlier answer: ``"next"`` for an alternative, a next
    step, one of the things listed or how it turned out ("what do they suggest instead", "which one matters most",
    "did it actually work"), ``"reason"``
    for the reasons ("why that area", "and why did that fail"), None when neither.

    Example:
        >>> wants_neighbourhood("so what do they suggest instead"), wants_neighbourhood("why that area")
        ('next', 'reason')
        >>> wants_neighbourhood("when was it held") is None
        True
    """
    if _NEXT.search(question) or _OUTCOME.search(question):
        return "next"
    if _REASON.search(question):
        return "reason"
    return None


def _names(text: str) -> list[str]:
    """The capitalised runs of ``text`` that name something, in order (a sentence's first word only when it is
    not a common word: "Although Xi Jinping" names "Xi Jinping", "Accordingly" nothing)."""
    from .spelling import zipf

    found = []
    for match in _NAME.finditer(text):
        name = match.group().rstrip(".")
        if match.start() == 0 or text[:match.start()].rstrip()[-1:] in ".!?“\"":
            first, _, rest = name.partition(" ")
            if zipf(first.lower()) >= (COMMON_START_ZIPF if rest else LONE_START_ZIPF):
                name = rest
        if name:
            found.append(name)
    return found


def named_things(answer: str) -> list[str]:
    """The things an answer names, in order: the subject of each sentence when it has several sentences
    naming someone first ("Captain Adam Greer is ... Nathan Montierth is ..."), else every name it holds.

    Example:
        >>> named_things("Captain Adam Greer is a U.S. pilot. Nathan Montierth is a fellow in Beijing.")
        ['Captain Adam Greer', 'Nathan Montierth']
    """
    sentences = [s for s in _SENTENCE.split(answer.strip()) if s]
    subjects = [names[0] for names in (_names(s) for s in sentences) if names]
    if len(subjects) >= 2:
        return list(dict.fromkeys(subjects))
    return list(dict.fromkeys(_names(answer)))


def resolve(ref: Reference, answers: list[str], later: list[str]) -> str | None:
    """The thing ``ref`` points at, from the earlier ``answers`` (latest first): the first answer naming enough
    things; for "the other", the one thing that none of the ``later`` questions (asked after that answer, and
    the follow-up itself) names, else, of an answer naming two things, the second. None when no answer
    names enough."""
    listed = [named_things(answer) for answer in answers]
    if ref.position is not None:
        for things in listed:
            if len(things) > ref.position if ref.position >= 0 else things:
                return things[ref.position]
        return None
    for n, things in enumerate(listed):
        if len(things) < 2:
            continue
        asked = " ".join(later[len(later) - n - 1:] if n < len(later) else later).lower()
        rest = [t for t in things if not any(w.lower() in asked for w in re.findall(r"[\w’'-]{3,}", t))]
        if rest and len(rest) < len(things):
            return rest[0]
    # "and the other author?" right after "who are the authors": of two things, neither named, the second
    return next((things[1] for things in listed if len(things) == 2), None)


def near(hits: list[Hit], sentences: list, chunks: list, previous: set[int], how: str, window: int,
         bonus: float, pair_weight: float) -> list[Hit]:
    """``hits`` re-ranked for a follow-up about the passage after its earlier answer (sentence ids
    ``previous``; ``how`` as :func:`wants_neighbourhood` says): the ``window`` sentences after it, in the same
    document, gain ``bonus``: for ``"next"`` the next sentence all of it and the one ``d`` sentences on
    ``bonus / d`` (what comes instead is said next: "Rather than ..."), for ``"reason"`` each the same
    (reasons may take a few sentences to come). Each chunk's best sentence and score are recomputed (its
    ``dense`` and ``matched``, the evidence that the passage answers at all, stay those of its best sentence
    before the bonus), and a chunk whose best sentence a better chunk holds is dropped."""
    if not previous:
        return hits
    last = max(previous)
    doc = sentences[last].doc
    after = {sid: bonus / (sid - last) if how == "next" else bonus
             for sid in range(last + 1, min(last + 1 + window, len(sentences))) if sentences[sid].doc == doc}
    rescored = []
    for hit in hits:
        ids = chunks[hit.chunk_id].sentence_ids
        scores = tuple(s + after.get(sid, 0.0) for sid, s in zip(ids, hit.sentence_scores))
        best = max(range(len(ids)), key=lambda i: scores[i])
        others = [s for i, s in enumerate(scores) if i != best]
        score = scores[best] + (pair_weight * sum(others) / len(others) if others else 0.0)
        rescored.append(replace(hit, score=round(score, 6), best_sentence=ids[best], sentence_scores=scores))
    rescored.sort(key=lambda h: (-h.score, h.chunk_id))
    kept, covered = [], set()
    for hit in rescored:
        if hit.best_sentence in covered:
            continue
        covered.update(chunks[hit.chunk_id].sentence_ids)
        kept.append(hit)
    return kept
