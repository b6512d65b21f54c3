"""Sentence splitting with NLTK Punkt and chunking of sentences into citable passages inside paragraphs."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from .config import ChunkSettings
from .corpus import Document

logger = logging.getLogger(__name__)

#: Abbreviations that never end a sentence (Punkt stores them lower-case, without the last dot).
ABBREVIATIONS = frozenset({
    "u.s", "u.k", "u.n", "e.u", "u.s.a", "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr",
    "prof", "sen", "rep", "gen", "col", "capt", "lt", "st", "jr", "sr", "inc", "corp", "ltd",
    "co", "no", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``doc.text[start:end] == text``; ``paragraph`` is 1-based, ``index`` 1-based within it."""

    id: int
    doc: str
    paragraph: int
    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A citable passage: consecutive sentences ``sentence_ids`` of one paragraph."""

    id: int
    doc: str
    paragraph: int
    start: int
    end: int
    text: str
    sentence_ids: tuple[int, ...]


def _pretrained_available() -> bool:
    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
    except LookupError:
        return False
    return True


def splitter_kind() -> str:
    """Which Punkt model :func:`make_sentence_splitter` uses: ``"punkt_tab"`` or ``"punkt-trained-on-corpus"``."""
    return "punkt_tab" if _pretrained_available() else "punkt-trained-on-corpus"


def make_sentence_splitter(docs: list[Document]):
    """A Punkt tokenizer: NLTK's pretrained English model when installed, else one trained on ``docs``.

    Either way the abbreviations in :data:`ABBREVIATIONS` (``U.S.`` and the like)
    are added, so they never end a sentence.

    Returns:
        An object with ``span_tokenize(text) -> Iterator[(start, end)]``.
    """
    import nltk
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    if _pretrained_available():
        tokenizer = nltk.tokenize.PunktTokenizer("english")
        params = tokenizer._params
    else:
        trainer = PunktTrainer()
        trainer.INCLUDE_ALL_COLLOCS = True
        text = "\n\n".join(doc.paragraph_text(i + 1) for doc in docs for i in range(len(doc.paragraphs)))
        trainer.train(text, finalize=True)
        params = trainer.get_params()
        tokenizer = PunktSentenceTokenizer(params)
    params.abbrev_types.update(ABBREVIATIONS)
    logger.debug("sentence splitter: %s", splitter_kind())
    return tokenizer


def split_sentences(docs: list[Document], splitter=None) -> list[Sentence]:
    """Every sentence of every paragraph, in document order, with exact offsets.

    Args:
        docs: the documents.
        splitter: a Punkt tokenizer. Defaults to :func:`make_sentence_splitter` over ``docs``.

    Returns:
        Sentences numbered ``0..n-1`` in reading order; none crosses a paragraph.
    """
    splitter = splitter or make_sentence_splitter(docs)
    sentences: list[Sentence] = []
    for doc in docs:
        for number, para in enumerate(doc.paragraphs, start=1):
            text = doc.text[para.start : para.end]
            for index, (s, e) in enumerate(splitter.span_tokenize(text), start=1):
                start, end = para.start + s, para.start + e
                sentences.append(Sentence(len(sentences), doc.id, number, index, start, end,
                                          doc.text[start:end]))
    return sentences


def make_chunks(docs: list[Document], sentences: list[Sentence], settings: ChunkSettings) -> list[Chunk]:
    """Group sentences into chunks of ``settings.max_sentences`` inside each paragraph.

    Consecutive chunks of a paragraph share ``settings.overlap`` sentences; a
    paragraph shorter than a window is one chunk. The chunk text is the original
    text from its first sentence's start to its last sentence's end.

    Returns:
        Chunks numbered ``0..n-1`` in reading order.
    """
    texts = {doc.id: doc.text for doc in docs}
    by_paragraph: dict[tuple[str, int], list[Sentence]] = {}
    for sentence in sentences:
        by_paragraph.setdefault((sentence.doc, sentence.paragraph), []).append(sentence)
    step = settings.max_sentences - settings.overlap
    chunks: list[Chunk] = []
    for (doc_id, paragraph), group in by_paragraph.items():
        starts = range(0, max(len(group) - settings.overlap, 1), step)
        for first in starts:
            window = group[first : first + settings.max_sentences]
            start, end = window[0].start, window[-1].end
            chunks.append(Chunk(len(chunks), doc_id, paragraph, start, end,
                                texts[doc_id][start:end], tuple(s.id for s in window)))
    return chunks


#: Word windows (size, stride) embedded besides each whole sentence: a long sentence
#: often answers a question with one clause, which its whole-sentence vector blurs.
WINDOWS = ((8, 4), (16, 8))


def sentence_units(sentences: list[Sentence], windows=WINDOWS) -> list[tuple[int, str]]:
    """The texts embedded for retrieval: each sentence, plus overlapping word windows of long ones.

    Returns:
        ``(sentence_id, text)`` pairs; the whole sentence comes first for each sentence.
    """
    units = []
    for sentence in sentences:
        units.append((sentence.id, sentence.text))
        words = sentence.text.split()
        for size, stride in windows:
            if len(words) <= size:
                continue
            for first in range(0, len(words) - size + stride, stride):
                units.append((sentence.id, " ".join(words[first : first + size])))
                if first + size >= len(words):
                    break
    return units
