"""Index builds: split and embed only the documents that changed, reuse the rest, show progress."""
from __future__ import annotations

import ctypes
import logging
import random
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from .chunking import Sentence, make_chunks, split_document
from .config import ChunkSettings
from .corpus import Document
from .embedding import BASIS_SENTENCES, Embedder, IndexVectors, TokenBasis, row_offsets, window_mode
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


class _Spool:
    """Rows appended group by group to a temporary file, read back into one array by :meth:`take`, so a
    build holds one copy of the corpus's rows, never the groups and their concatenation at once."""

    def __init__(self, width: int | None, dtype) -> None:
        self.shape, self.dtype, self.rows = (() if width is None else (width,)), np.dtype(dtype), 0
        self._file = tempfile.TemporaryFile(prefix="qa-build-")

    def append(self, rows: np.ndarray) -> None:
        """Add ``rows`` (cast to the spool's type) after the rows already added."""
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        self._file.write(rows.reshape(-1).view(np.uint8).data)
        self.rows += len(rows)

    def take(self) -> np.ndarray:
        """Every row added, as one array; the temporary file is closed (removed)."""
        out = np.empty((self.rows, *self.shape), self.dtype)
        view, done = memoryview(out.reshape(-1).view(np.uint8)), 0
        self._file.seek(0)
        while done < len(view):
            read = self._file.readinto(view[done:])
            if not read:
                raise OSError("a temporary build file came back short")
            done += read
        self._file.close()
        return out


def _row_parts(rows) -> tuple[np.ndarray, np.ndarray]:
    """``(int8 rows, float16 scales)`` of unit vectors (:class:`CompactRows`, or float rows compacted now from
    their float16 values)."""
    if isinstance(rows, CompactRows):
        return rows.rows, rows.scales
    return compact_rows(np.asarray(rows, dtype=np.float16))


def _assemble(pieces: list[tuple[IndexVectors, int, int]], dimension: int, token_width: int) -> IndexVectors:
    """One :class:`IndexVectors` of sentences ``first..end-1`` of each ``(vectors, first, end)`` piece, in order
    (vectors float16, token rows as given, windows compact), each output array allocated once."""
    spans = []
    for source, first, end in pieces:
        spans.append((int(source.token_offsets[first]), int(source.token_offsets[end]),
                      int(source.window_offsets[first]), int(source.window_offsets[end])))
    n = sum(end - first for _, first, end in pieces)
    vectors = np.empty((n, dimension), np.int8)
    vector_scales = np.empty(n, np.float16)
    tokens = np.empty((sum(t1 - t0 for t0, t1, _, _ in spans), token_width), np.int8)
    rows = np.empty((sum(w1 - w0 for _, _, w0, w1 in spans), dimension), np.int8)
    scales = np.empty(len(rows), np.float16)
    token_lengths, window_lengths = [], []
    compact = {id(source): (_row_parts(source.vectors), _row_parts(source.windows)) for source, _, _ in pieces}
    at = t_at = w_at = 0
    for (source, first, end), (t0, t1, w0, w1) in zip(pieces, spans):
        (source_vectors, source_vector_scales), (source_rows, source_scales) = compact[id(source)]
        vectors[at : at + end - first] = source_vectors[first:end]
        vector_scales[at : at + end - first] = source_vector_scales[first:end]
        tokens[t_at : t_at + t1 - t0] = source.tokens[t0:t1]
        rows[w_at : w_at + w1 - w0] = source_rows[w0:w1]
        scales[w_at : w_at + w1 - w0] = source_scales[w0:w1]
        token_lengths += np.diff(np.asarray(source.token_offsets[first : end + 1])).tolist()
        window_lengths += np.diff(np.asarray(source.window_offsets[first : end + 1])).tolist()
        at, t_at, w_at = at + end - first, t_at + t1 - t0, w_at + w1 - w0
    return IndexVectors(CompactRows(vectors, vector_scales), tokens, row_offsets(token_lengths), CompactRows(rows, scales),
                        row_offsets(window_lengths))


def _empty(dimension: int, basis: TokenBasis) -> IndexVectors:
    none = CompactRows(np.zeros((0, dimension), np.int8), np.zeros(0, np.float16))
    return IndexVectors(none, np.zeros((0, len(basis.components)), np.int8), np.zeros(1, np.int64), none,
                        np.zeros(1, np.int64))


def _compact(vectors: IndexVectors, basis: TokenBasis) -> IndexVectors:
    """``vectors`` as stored: sentence and window vectors int8 with a scale each, tokens int8 in ``basis``."""
    return IndexVectors(CompactRows(*_row_parts(vectors.vectors)), basis.compact(vectors.tokens),
                        vectors.token_offsets, CompactRows(*_row_parts(vectors.windows)), vectors.window_offsets)


def build(docs: list[Document], sources: dict, embedder: Embedder, chunking: ChunkSettings, build_key: dict,
          previous: IndexData | None = None, progress: bool = False,
          skipped: list | None = None) -> tuple[IndexData, BuildReport]:
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
        skipped: the corpus files that are not documents (:class:`qa.corpus.SkippedFile`), for the report and,
            those read and found to hold no text, the manifest. Defaults to none.

    Returns:
        ``(data, report)``.
    """
    started = time.perf_counter()
    reuse = _reusable(previous if previous is not None and previous.build_key == build_key else None, sources)
    report = BuildReport(documents=len(docs), skipped=list(skipped or []))
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
    mode = window_mode(chunking.windows, total)
    why = None
    if reuse and previous.manifest.get("windows") != mode:
        # The corpus crossed ENCODED_WINDOWS_MAX_SENTENCES (or the index predates the mode): the windows of
        # every document must be made the same way.
        why = f"window mode is now {mode} ({total} sentences)"
    elif reuse and previous.basis is not None and previous.basis.sentences < min(BASIS_SENTENCES, total // 2):
        # The token basis was fitted on a corpus too small to stand for this one (under BASIS_SENTENCES
        # sentences, so re-embedding it costs little).
        why = f"the corpus outgrew its token basis (fitted on {previous.basis.sentences} sentences)"
    if why:
        logger.info("%s; re-embedding all", why)
        reuse = {}
        own_sentences = {doc.id: split_document(doc) for doc in docs}
    basis = previous.basis if reuse else None
    sentences: list[Sentence] = []
    pieces: list[tuple[str, int, int]] = []        # per document: ("old", a, b) or ("new", first, end) in `fresh`
    fresh: list[Sentence] = []
    for doc in docs:
        base = len(sentences)
        own = [Sentence(base + i, s.doc, s.paragraph, s.index, s.start, s.end, s.text)
               for i, s in enumerate(own_sentences[doc.id])]
        sentences += own
        if doc.id in reuse:
            pieces.append(("old", *reuse[doc.id]))
        else:
            pieces.append(("new", len(fresh), len(fresh) + len(own)))
            fresh += own
            report.embedded_documents += 1
    report.embedded_sentences = len(fresh)
    del own_sentences
    texts = [s.text for s in fresh]
    del fresh
    if basis is None and len(texts) <= BASIS_SENTENCES:   # a small corpus: fit on its own tokens, one pass
        raw = embedder.encode_for_index(texts, mode) if texts else None
        basis = TokenBasis.fit(raw.tokens if texts else np.zeros((1, embedder.dimension), np.float32),
                               sentences=len(texts))
        embedded = _compact(raw, basis) if raw is not None else _empty(embedder.dimension, basis)
        del raw
    else:
        _map_large_allocations()
        if basis is None:
            basis = _fit_basis(embedder, texts)
        embedded = _embed(embedder, texts, progress, report.embedded_documents, mode, basis)
    del texts
    if all(kind == "new" for kind, _, _ in pieces):   # nothing reused: the fresh rows are the index, in order
        vectors = embedded
    else:
        vectors = _assemble([(previous.vectors if kind == "old" else embedded, a, b) for kind, a, b in pieces],
                            embedder.dimension, len(basis.components))
        del embedded
    chunks = make_chunks(docs, sentences, chunking)
    bm25 = BM25.build([terms(s.text) for s in sentences])
    profiles = page_profiles(sentences, docs)
    report.sentences = len(sentences)
    manifest = {"format": FORMAT_VERSION, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "windows": mode,
                "counts": {"documents": len(docs), "sentences": len(sentences), "chunks": len(chunks),
                           "windows": int(len(vectors.windows)), "tokens": int(len(vectors.tokens))},
                "profiles": {p.doc: {"title": p.title is not None, "deck": len(p.deck), "byline": len(p.byline),
                                     "bios": len(p.bio), "conclusion": len(p.conclusion), "asked": len(p.asked)}
                             for p in profiles},
                "skipped": {item.path: item.record() for item in report.skipped if item.record() is not None}}
    data = IndexData(build_key, list(docs), sentences, chunks, vectors, bm25, make_faiss_index(np.asarray(vectors.vectors), texts=[s.text for s in sentences]),
                     manifest, sources=dict(sources), profiles=profiles, basis=basis)
    report.seconds = time.perf_counter() - started
    return data, report


def _fit_basis(embedder: Embedder, texts: list[str]) -> TokenBasis:
    """A token basis fitted on a seeded sample of :data:`BASIS_SENTENCES` of ``texts`` (all, when fewer)."""
    sample = texts if len(texts) <= BASIS_SENTENCES else random.Random(0).sample(texts, BASIS_SENTENCES)
    tokens = embedder.encode_for_index(sample, "pooled").tokens if sample else np.zeros((1, embedder.dimension))
    return TokenBasis.fit(tokens, sentences=len(sample))


def _embed(embedder: Embedder, texts: list[str], progress: bool, documents: int, windows: str,
           basis: TokenBasis) -> IndexVectors:
    """Embed ``texts`` in groups of :data:`EMBED_GROUP`, each group compacted as soon as it is embedded (token
    vectors in ``basis``, windows as int8 with a scale) and spooled to a temporary file, so memory holds the
    compact rows once, with a progress bar when asked."""
    if not texts:
        return _empty(embedder.dimension, basis)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), unit="sentence", desc=f"embedding {documents:,} document(s)", smoothing=0.1)
    dim = embedder.dimension
    vectors, vector_scales = np.empty((len(texts), dim), np.int8), np.empty(len(texts), np.float16)
    tokens, rows, scales = _Spool(len(basis.components), np.int8), _Spool(dim, np.int8), _Spool(None, np.float16)
    token_lengths, window_lengths = [], []
    try:
        for first in range(0, len(texts), EMBED_GROUP):
            group = texts[first : first + EMBED_GROUP]
            part = _compact(embedder.encode_for_index(group, windows), basis)
            vectors[first : first + len(group)] = part.vectors.rows
            vector_scales[first : first + len(group)] = part.vectors.scales
            tokens.append(part.tokens)
            rows.append(part.windows.rows)
            scales.append(part.windows.scales)
            token_lengths += np.diff(part.token_offsets).tolist()
            window_lengths += np.diff(part.window_offsets).tolist()
            del part
            _release_freed_memory()
            if bar is not None:
                bar.update(len(group))
    finally:
        if bar is not None:
            bar.close()
    return IndexVectors(CompactRows(vectors, vector_scales), tokens.take(), row_offsets(token_lengths),
                        CompactRows(rows.take(), scales.take()), row_offsets(window_lengths))


#: Allocations from this size up are mapped from the system and returned to it when freed (glibc's
#: ``M_MMAP_THRESHOLD``, set for the process by a large build): otherwise glibc raises the threshold as the
#: model frees its big activation buffers and keeps them on the heap. Measured embedding 2,048 Python-docs
#: sentences (the 1,024 longest among them): 483 MB above the loaded model without, 285 MB with it.
MMAP_THRESHOLD_BYTES = 4 * 2**20


def _map_large_allocations() -> None:
    """Set :data:`MMAP_THRESHOLD_BYTES` (glibc's ``mallopt``; nothing elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, MMAP_THRESHOLD_BYTES)     # -3: M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _release_freed_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``; nothing elsewhere): the
    model's variable-length batches leave freed blocks the allocator would otherwise keep resident."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass

