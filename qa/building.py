"""Index builds: split and embed only the documents that changed, reuse the rest, show progress."""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

import numpy as np

from .chunking import Sentence, make_chunks, split_document
from .config import ChunkSettings
from .corpus import Document
from .embedding import BASIS_SENTENCES, Embedder, IndexVectors, TokenBasis
from .index import FORMAT_VERSION, CompactRows, IndexData, compact_rows, make_faiss_index
from .lexical import BM25, terms
from .structure import page_profiles

logger = logging.getLogger(__name__)

#: Sentences embedded per model call: large, so the model sorts them by length and pads little.
EMBED_GROUP = 2048


@dataclass
class BuildReport:
    """What a build did: counts, seconds, and the files it skipped (:class:`qa.corpus.SkippedFile`)."""

    documents: int = 0
    sentences: int = 0
    embedded_documents: int = 0
    embedded_sentences: int = 0
    removed_documents: int = 0
    seconds: float = 0.0
    skipped: list = field(default_factory=list)

    def summary(self) -> str:
        """One line, e.g. ``"indexed 12 documents (1,204 sentences) in 8.1 s: 2 embedded, 10 unchanged"``."""
        line = (f"indexed {self.documents:,} documents ({self.sentences:,} sentences) in {self.seconds:.1f} s: "
                f"{self.embedded_documents:,} embedded ({self.embedded_sentences:,} sentences), "
                f"{self.documents - self.embedded_documents:,} unchanged, {self.removed_documents:,} removed")
        if self.skipped:
            line += f"; skipped {len(self.skipped)} file(s): " + "; ".join(
                f"{item.path} ({item.reason})" for item in self.skipped[:5]) + (" ..." if len(self.skipped) > 5 else "")
        return line


def _reusable(previous: IndexData | None, sources: dict) -> dict[str, tuple[int, int]]:
    """``{doc_id: (first, end)}`` sentence ranges of ``previous`` whose document content is unchanged."""
    if previous is None:
        return {}
    ranges: dict[str, list[int]] = {}
    for sentence in previous.sentences:
        span = ranges.setdefault(sentence.doc, [sentence.id, sentence.id + 1])
        span[1] = sentence.id + 1
    old = previous.sources
    return {doc: (a, b) for doc, (a, b) in ranges.items()
            if doc in sources and doc in old and old[doc].get("sha256") == sources[doc].get("sha256")}


def _slice(vectors: IndexVectors, first: int, end: int) -> IndexVectors:
    """The rows of sentences ``first..end-1`` (offsets rebased to 0)."""
    t0, t1 = int(vectors.token_offsets[first]), int(vectors.token_offsets[end])
    w0, w1 = int(vectors.window_offsets[first]), int(vectors.window_offsets[end])
    return IndexVectors(np.asarray(vectors.vectors[first:end], dtype=np.float32), np.asarray(vectors.tokens[t0:t1]),
                        np.asarray(vectors.token_offsets[first : end + 1]) - t0,
                        np.asarray(vectors.windows[w0:w1], dtype=np.float16),
                        np.asarray(vectors.window_offsets[first : end + 1]) - w0)


def _concat(parts: list[IndexVectors], dimension: int, basis: TokenBasis | None = None) -> IndexVectors:
    """One :class:`IndexVectors` of ``parts`` in order (token rows compact in ``basis`` when given)."""
    if not parts:
        empty = IndexVectors.empty(dimension)
        if basis is not None:
            empty.tokens = np.zeros((0, len(basis.components)), np.int8)
        return empty
    def offsets(name):
        out, base = [np.zeros(1, np.int64)], 0
        for part in parts:
            values = getattr(part, name)
            out.append(values[1:] + base)
            base += int(values[-1])
        return np.concatenate(out)
    return IndexVectors(np.concatenate([p.vectors for p in parts]).astype(np.float32),
                        np.concatenate([p.tokens for p in parts]), offsets("token_offsets"),
                        np.concatenate([np.asarray(p.windows[:len(p.windows)], dtype=np.float16) for p in parts]),
                        offsets("window_offsets"))


def build(docs: list[Document], sources: dict, embedder: Embedder, chunking: ChunkSettings, build_key: dict,
          previous: IndexData | None = None, progress: bool = False) -> tuple[IndexData, BuildReport]:
    """Split, chunk and embed ``docs`` into an :class:`IndexData`, reusing ``previous`` for unchanged documents.

    A document is unchanged when ``previous`` has the same id with the same content hash
    (``sources[id]["sha256"]``) and was built with the same ``build_key``; its sentences, vectors,
    token and window vectors are copied, so only new and changed documents cost model time.

    Args:
        docs: the corpus, in order.
        sources: ``{doc_id: {"path", "size", "mtime_ns", "sha256"}}`` for each document.
        embedder: the model.
        chunking: sentences per chunk and overlap.
        build_key: model, chunking, splitter and format (stored, compared on load).
        previous: the index being replaced, if any. Defaults to None (embed everything).
        progress: show a progress bar (documents, sentences, time left) while embedding. Defaults to False.

    Returns:
        ``(data, report)``.
    """
    started = time.perf_counter()
    reuse = _reusable(previous if previous is not None and previous.build_key == build_key else None, sources)
    report = BuildReport(documents=len(docs))
    if previous is not None:
        report.removed_documents = len({s.doc for s in previous.sentences} - {d.id for d in docs})
    own_sentences: dict[str, list[Sentence]] = {}
    for doc in docs:                 # reused documents keep their sentences; the others are split anew
        if doc.id in reuse:
            a, b = reuse[doc.id]
            own_sentences[doc.id] = previous.sentences[a:b]
        else:
            own_sentences[doc.id] = split_document(doc)
    total = sum(len(own) for own in own_sentences.values())
    basis = previous.basis if reuse else None
    if basis is not None and basis.sentences < min(BASIS_SENTENCES, total // 2):
        # The token basis was fitted on a corpus too small to stand for this one: re-embed everything
        # (the old corpus was under BASIS_SENTENCES sentences, so this costs little).
        logger.info("the corpus outgrew its token basis (fitted on %d sentences); re-embedding all", basis.sentences)
        basis, reuse = None, {}
        own_sentences = {doc.id: split_document(doc) for doc in docs}
    sentences: list[Sentence] = []
    pieces: list[tuple[str, object]] = []          # per document: ("old", (a, b)) or ("new", (first, end) in `fresh`)
    fresh: list[Sentence] = []
    for doc in docs:
        base = len(sentences)
        own = [Sentence(base + i, s.doc, s.paragraph, s.index, s.start, s.end, s.text)
               for i, s in enumerate(own_sentences[doc.id])]
        sentences += own
        if doc.id in reuse:
            pieces.append(("old", reuse[doc.id]))
        else:
            pieces.append(("new", (len(fresh), len(fresh) + len(own))))
            fresh += own
            report.embedded_documents += 1
    report.embedded_sentences = len(fresh)
    texts = [s.text for s in fresh]
    if basis is None and len(texts) <= BASIS_SENTENCES:   # a small corpus: fit on its own tokens, one pass
        embedded = embedder.encode_for_index(texts, chunking.windows) if texts else None
        basis = TokenBasis.fit(embedded.tokens if texts else np.zeros((1, embedder.dimension), np.float32),
                               sentences=len(texts))
        if embedded is None:
            embedded = _concat([], embedder.dimension, basis)
        else:
            embedded.tokens = basis.compact(embedded.tokens)
    else:
        if basis is None:
            basis = _fit_basis(embedder, texts, chunking.windows)
        embedded = _embed(embedder, texts, progress, report.embedded_documents, chunking.windows, basis)
    parts = [_slice(previous.vectors, *where) if kind == "old" else _slice(embedded, *where) for kind, where in pieces]
    vectors = _concat(parts, embedder.dimension, basis)
    # Served exactly as stored, so a fresh build answers as the same index loaded later does.
    vectors.vectors = vectors.vectors.astype(np.float16).astype(np.float32)
    vectors.windows = CompactRows(*compact_rows(vectors.windows))
    chunks = make_chunks(docs, sentences, chunking)
    bm25 = BM25.build([terms(s.text) for s in sentences])
    profiles = page_profiles(sentences, docs)
    report.sentences = len(sentences)
    manifest = {"format": FORMAT_VERSION, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "counts": {"documents": len(docs), "sentences": len(sentences), "chunks": len(chunks),
                           "windows": int(len(vectors.windows)), "tokens": int(len(vectors.tokens))},
                "profiles": {p.doc: {"title": p.title is not None, "deck": len(p.deck), "byline": len(p.byline),
                                     "bios": len(p.bio), "conclusion": len(p.conclusion), "asked": len(p.asked)}
                             for p in profiles}}
    data = IndexData(build_key, list(docs), sentences, chunks, vectors, bm25, make_faiss_index(vectors.vectors),
                     manifest, sources=dict(sources), profiles=profiles, basis=basis)
    report.seconds = time.perf_counter() - started
    return data, report


def _fit_basis(embedder: Embedder, texts: list[str], windows: str) -> TokenBasis:
    """A token basis fitted on a seeded sample of :data:`BASIS_SENTENCES` of ``texts`` (all, when fewer)."""
    sample = texts if len(texts) <= BASIS_SENTENCES else random.Random(0).sample(texts, BASIS_SENTENCES)
    tokens = embedder.encode_for_index(sample, "pooled").tokens if sample else np.zeros((1, embedder.dimension))
    return TokenBasis.fit(tokens, sentences=len(sample))


def _embed(embedder: Embedder, texts: list[str], progress: bool, documents: int, windows: str,
           basis: TokenBasis) -> IndexVectors:
    """Embed ``texts`` in groups of :data:`EMBED_GROUP` (token vectors compacted in ``basis`` as each group is
    done, so memory stays bounded), with a progress bar when asked."""
    if not texts:
        return _concat([], embedder.dimension, basis)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), unit="sentence", desc=f"embedding {documents:,} document(s)", smoothing=0.1)
    parts = []
    try:
        for first in range(0, len(texts), EMBED_GROUP):
            group = texts[first : first + EMBED_GROUP]
            part = embedder.encode_for_index(group, windows)
            part.tokens = basis.compact(part.tokens)
            parts.append(part)
            if bar is not None:
                bar.update(len(group))
    finally:
        if bar is not None:
            bar.close()
    return _concat(parts, embedder.dimension, basis)
