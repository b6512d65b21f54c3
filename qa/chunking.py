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
    """Which Punkt model :func:`make_sentence_splitter` uses: ``"punkt_tab"`` or ``"punkt-trained-per-document"``."""
    return "punkt_tab" if _pretrained_available() else "punkt-trained-per-document"


#: Most characters of a document Punkt trains on (its start): training is slow on huge files, and
#: a few hundred kilobytes show every abbreviation habit a document has.
TRAIN_CHARS = 300_000


def make_sentence_splitter(doc: Document | None = None):
    """A Punkt tokenizer for ``doc``: NLTK's pretrained English model when installed, else one trained on
    the document itself (its first :data:`TRAIN_CHARS` characters of paragraphs).

    Training per document keeps a document's sentences the same whatever else is in the corpus.
    Either way the abbreviations in :data:`ABBREVIATIONS` (``U.S.`` and the like) are added, so they
    never end a sentence.

    Args:
        doc: the document to split. Defaults to None (only valid when the pretrained model is installed,
            else an untrained Punkt with :data:`ABBREVIATIONS` only).

    Returns:
        An object with ``span_tokenize(text) -> Iterator[(start, end)]``.
    """
    import nltk
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer, PunktTrainer

    if _pretrained_available():
        tokenizer = nltk.tokenize.PunktTokenizer("english")
        params = tokenizer._params
    elif doc is not None:
        trainer = PunktTrainer()
        trainer.INCLUDE_ALL_COLLOCS = True
        text, size = [], 0
        for number in range(1, len(doc.paragraphs) + 1):
            part = doc.paragraph_text(number)
            text.append(part)
            size += len(part)
            if size >= TRAIN_CHARS:
                break
        trainer.train("\n\n".join(text)[:TRAIN_CHARS], finalize=True)
        params = trainer.get_params()
        tokenizer = PunktSentenceTokenizer(params)
    else:
        params = PunktParameters()
        tokenizer = PunktSentenceTokenizer(params)
    params.abbrev_types.update(ABBREVIATIONS)
    return tokenizer


def split_document(doc: Document, splitter=None, first_id: int = 0) -> list[Sentence]:
    """Every sentence of every paragraph of ``doc``, in reading order, with exact offsets.

    Args:
        doc: the document.
        splitter: a Punkt tokenizer. Defaults to :func:`make_sentence_splitter` for ``doc``.
        first_id: the id of the first sentence. Defaults to 0.

    Returns:
        Sentences numbered from ``first_id``; none crosses a paragraph.
    """
    splitter = splitter or make_sentence_splitter(doc)
    sentences: list[Sentence] = []
    for number, para in enumerate(doc.paragraphs, start=1):
        text = doc.text[para.start : para.end]
        for index, (s, e) in enumerate(splitter.span_tokenize(text), start=1):
            start, end = para.start + s, para.start + e
            sentences.append(Sentence(first_id + len(sentences), doc.id, number, index, start, end,
                                      doc.text[start:end]))
    return sentences


def split_sentences(docs: list[Document]) -> list[Sentence]:
    """The sentences of every document (see :func:`split_document`), numbered ``0..n-1`` in corpus order."""
    sentences: list[Sentence] = []
    for doc in docs:
        sentences += split_document(doc, first_id=len(sentences))
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
