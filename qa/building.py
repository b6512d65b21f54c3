"""Index builds: split and embed only the documents that changed, reuse the rest, show progress."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .chunking import Sentence, make_chunks, split_document
from .config import ChunkSettings
from .corpus import Document
from .embedding import Embedder, IndexVectors
from .index import FORMAT_VERSION, IndexData, make_faiss_index
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
    return IndexVectors(np.asarray(vectors.vectors[first:end]), np.asarray(vectors.tokens[t0:t1]),
                        np.asarray(vectors.token_offsets[first : end + 1]) - t0,
                        np.asarray(vectors.windows[w0:w1]), np.asarray(vectors.window_offsets[first : end + 1]) - w0)


def _concat(parts: list[IndexVectors], dimension: int) -> IndexVectors:
    if not parts:
        return IndexVectors.empty(dimension)
    def offsets(name):
        out, base = [np.zeros(1, np.int64)], 0
        for part in parts:
            values = getattr(part, name)
            out.append(values[1:] + base)
            base += int(values[-1])
        return np.concatenate(out)
    return IndexVectors(np.concatenate([p.vectors for p in parts]).astype(np.float32),
                        np.concatenate([p.tokens for p in parts]).astype(np.float16), offsets("token_offsets"),
                        np.concatenate([p.windows for p in parts]).astype(np.float16), offsets("window_offsets"))


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
    sentences: list[Sentence] = []
    pieces: list[tuple[str, object]] = []          # per document: ("old", (a, b)) or ("new", start row in `fresh`)
    fresh: list[Sentence] = []
    for doc in docs:
        if doc.id in reuse:
            a, b = reuse[doc.id]
            base = len(sentences) - a
            sentences += [Sentence(s.id + base, s.doc, s.paragraph, s.index, s.start, s.end, s.text)
                          for s in previous.sentences[a:b]]
            pieces.append(("old", (a, b)))
        else:
            own = split_document(doc, first_id=len(sentences))
            sentences += own
            pieces.append(("new", (len(fresh), len(fresh) + len(own))))
            fresh += own
            report.embedded_documents += 1
    report.embedded_sentences = len(fresh)
    embedded = _embed(embedder, [s.text for s in fresh], progress, report.embedded_documents, chunking.windows)
    parts = [_slice(previous.vectors, *where) if kind == "old" else _slice(embedded, *where) for kind, where in pieces]
    vectors = _concat(parts, embedder.dimension)
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
                     manifest, sources=dict(sources), profiles=profiles)
    report.seconds = time.perf_counter() - started
    return data, report


def _embed(embedder: Embedder, texts: list[str], progress: bool, documents: int, windows: str) -> IndexVectors:
    """Embed ``texts`` in groups of :data:`EMBED_GROUP`, with a progress bar when asked."""
    if not texts:
        return IndexVectors.empty(embedder.dimension)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), unit="sentence", desc=f"embedding {documents:,} document(s)", smoothing=0.1)
    parts = []
    try:
        for first in range(0, len(texts), EMBED_GROUP):
            group = texts[first : first + EMBED_GROUP]
            parts.append(embedder.encode_for_index(group, windows))
            if bar is not None:
                bar.update(len(group))
    finally:
        if bar is not None:
            bar.close()
    return _concat(parts, embedder.dimension)
