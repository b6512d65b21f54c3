"""The index on disk: vectors, token and window vectors, BM25, tables, manifest; atomic builds, mapped loads.

Layout of the index folder::

    index/CURRENT                     name of the live build folder (replaced atomically)
    index/build-<id>/manifest.json    what it was built from, each document's source and content hash,
                                      and a hash of every file
    index/build-<id>/documents.json   each document's id, title, text (as extracted) and paragraph spans
    index/build-<id>/sentences.npy    per sentence: document number, paragraph, index, start, end (int32)
    index/build-<id>/chunks.npy       per chunk: first sentence, number of sentences (int32)
    index/build-<id>/vectors.npy      each sentence's unit vector (int8; vector_scales.npy: each row's scale)
    index/build-<id>/tokens.npy       each sentence's token vectors in the corpus's token basis (int8, 96 numbers
                                      each; token_basis.npy), token_offsets.npy says where
    index/build-<id>/windows.npy      each sentence's word-window vectors (int8, window_scales.npy: each row's
                                      scale), window_offsets.npy says where
    index/build-<id>/bm25.npz         the sparse BM25 term-by-sentence matrix and its vocabulary
    index/build-<id>/profiles.json    each document's page profile (deck, byline, bios, conclusion, questions)
    index/build-<id>/sentences.faiss  the HNSW graph (of distinct sentence texts), only for corpora above FLAT_MAX_SENTENCES

    index/.lock                       held by the process writing a build (the ``filelock`` package)

A build is written to a temporary folder, flushed, renamed, and only then does
``CURRENT`` (a temp file renamed over the old one) point at it: an interrupted
build leaves the previous index in place. Writers take ``index/.lock`` for the
whole write, so two processes saving at once take turns; only the lock holder
removes old builds (all but the live one and the one it replaced) and the
temporary folders of killed builds. Loading checks that ``CURRENT`` names a build
folder inside the index folder, then every file's size and hash (files over
``FULL_HASH_BYTES`` by their size and their first and last megabytes, so a start
never reads gigabytes) and the manifest's build key, so a truncated, missing,
foreign or stale file is reported as such, never half-used; a build removed by a
concurrent save while it is read is retried from the new ``CURRENT``. The big
arrays are memory-mapped: the operating system pages in what a query touches.

FAISS index type, by size (measured in ``bench/scale_synthetic.py``, see ``docs/scale.md``): exact inner
product (``IndexFlatIP``) over the sentences' unit vectors up to ``FLAT_MAX_SENTENCES`` (20,000: a scan
of 20,000 vectors takes a few milliseconds; it is built from ``vectors.npy`` at load in a fraction of a
second). A flat scan grows with the corpus (29 ms at 100,000 sentences here, twice the question's own
encoding), so above that an HNSW graph (approximate, built with the index and saved) answers in about
a millisecond.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import Chunk, Sentence
from .corpus import Document, Span
from .embedding import IndexVectors, TokenBasis
from .lexical import BM25
from .structure import ROLES, PageProfile

logger = logging.getLogger(__name__)

#: Bump when the files or the way they are derived from the corpus change.
FORMAT_VERSION = 6
POINTER = "CURRENT"
FILES = ("documents.json", "sentences.npy", "chunks.npy", "vectors.npy", "vector_scales.npy", "tokens.npy",
         "token_offsets.npy",
         "token_basis.npy", "windows.npy", "window_scales.npy", "window_offsets.npy", "bm25.npz", "profiles.json")
#: The arrays loaded memory-mapped rather than read.
MAPPED = ("vectors.npy", "vector_scales.npy", "tokens.npy", "token_offsets.npy", "windows.npy", "window_scales.npy", "window_offsets.npy")
HNSW_FILE = "sentences.faiss"
LOCK = ".lock"
#: Longest wait for another process's write to finish before giving up (the build then stays in memory).
LOCK_TIMEOUT_SECONDS = 120.0
#: How a build folder is named; ``CURRENT`` must hold exactly such a name.
BUILD_NAME = re.compile(r"build-[A-Za-z0-9_-]{1,100}")
#: A load retries this many times when a concurrent save replaced the build it was reading.
LOAD_ATTEMPTS = 5
#: Files up to this size are hashed whole at load; bigger ones by size, first and last megabytes.
FULL_HASH_BYTES = 64 * 2**20
#: Up to this many sentences the first stage is exact (``IndexFlatIP``); above, HNSW (see ``docs/scale.md``).
FLAT_MAX_SENTENCES = 20_000
#: HNSW parameters: neighbours per node, and candidates explored per search and per insertion. The graph
#: holds one vector per distinct sentence text (the first sentence with it): the Python documentation
#: repeats "Note" 642 times and "See also" 456 (104,155 sentences, 91,813 distinct texts), and such runs of
#: equal vectors trap a search. Measured on those vectors with 466 evaluation questions, each embedded alone
#: as ``ask`` does, against an exact search (the exact nearest found; questions whose best found was over
#: 0.1 below the exact best; one search's time): every sentence, M=16: 85.0%, 30 trapped, 0.82 ms; every
#: sentence, M=32: 91.6%, 12; M=48: 99.4%, 0, 1.79 ms (about 400 bytes of graph per sentence, over the
#: 4 KB budget); distinct texts, M=16: 93.3%, 5; distinct texts, M=32: 98.1%, 1, 0.99 ms, built in 19 s.
HNSW_M, HNSW_EF_SEARCH, HNSW_EF_CONSTRUCTION = 32, 512, 80


class IndexUnusable(Exception):
    """Base class: the index cannot be used as it is (the engine rebuilds it)."""


class IndexMissing(IndexUnusable):
    """No index has been built in this folder yet."""


class IndexCorrupt(IndexUnusable):
    """An index file is missing, truncated or unreadable."""


class IndexStale(IndexUnusable):
    """The index was built with another model, chunking, splitter or format."""


@dataclass
class IndexData:
    """Everything retrieval needs; the big arrays of a loaded index are memory-mapped.

    ``documents`` are the documents as indexed (their extracted text is what citations quote);
    ``sources[doc_id]`` is ``{"path", "size", "mtime_ns", "sha256"}`` of the file each came from, so the
    next build re-embeds only what changed. ``vectors`` holds each sentence's vector, token vectors and
    window vectors (:class:`qa.embedding.IndexVectors`); ``faiss_index`` searches ``vectors.vectors``.
    """

    build_key: dict
    documents: list[Document]
    sentences: list[Sentence]
    chunks: list[Chunk]
    vectors: IndexVectors
    bm25: BM25
    faiss_index: object
    manifest: dict
    sources: dict = dataclasses.field(default_factory=dict)
    #: Why the index could not be written to disk (it is then served from memory only); None when saved or loaded.
    unsaved: str | None = None
    #: Each document's page parts, found at build time (:func:`qa.structure.page_profiles`).
    profiles: list[PageProfile] = dataclasses.field(default_factory=list)
    #: The basis ``vectors.tokens`` are compacted in (None: full float token vectors, as made by hand in tests).
    basis: TokenBasis | None = None


def make_faiss_index(vectors: np.ndarray, flat_max: int | None = None, texts: list[str] | None = None):
    """A FAISS inner-product index over ``vectors`` (shape ``(n, d)``): exact up to ``flat_max`` rows, HNSW
    (over 8-bit copies of the vectors) above. Either returns row numbers as ids.

    Args:
        vectors: unit vectors, float32.
        flat_max: most rows searched exactly. Defaults to :data:`FLAT_MAX_SENTENCES`.
        texts: the sentence of each row. The graph then holds only the first row of each distinct text (see
            :data:`HNSW_M`; a search finds the others with :func:`text_twins`). Defaults to every row.
    """
    import faiss

    flat_max = FLAT_MAX_SENTENCES if flat_max is None else flat_max
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) <= flat_max:
        index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index.add(vectors)
        return index
    # 8-bit vectors in the graph: it only picks candidates, which are then scored exactly
    graph = faiss.IndexHNSWSQ(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    graph.hnsw.efSearch = HNSW_EF_SEARCH
    rows = np.arange(len(vectors), dtype=np.int64)
    if texts is not None:   # the first row of each text: the others of a text are its twins after the first
        later = [members[1:] for members in text_twins(texts).values()]
        rows = np.setdiff1d(rows, np.concatenate(later)) if later else rows
    graph.train(vectors[rows])
    index = faiss.IndexIDMap(graph)
    index.add_with_ids(np.ascontiguousarray(vectors[rows]), rows)
    return index


def hnsw_of(index):
    """The HNSW graph of a FAISS index from :func:`make_faiss_index` (or of an older bare HNSW index), else None."""
    import faiss

    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    return inner.hnsw if hasattr(inner, "hnsw") else None


def text_twins(texts: list[str]) -> dict[int, np.ndarray]:
    """``{first row: every row}`` for each text that several rows share (the rows a graph of distinct texts
    stands for by its first). Grouped by hash with numpy (a Python loop over 100,000 texts takes a
    noticeable part of a load), each group checked for equal texts."""
    hashes = np.fromiter((hash(text) for text in texts), dtype=np.int64, count=len(texts))
    order = np.argsort(hashes, kind="stable")             # equal hashes together, rows ascending
    ordered = hashes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(texts) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(texts)])
    twins: dict[int, np.ndarray] = {}
    for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
        rows = order[start : start + size]
        groups: dict[str, list[int]] = {}
        for row in rows.tolist():                          # different texts with one hash stay apart
            groups.setdefault(texts[row], []).append(row)
        twins.update({members[0]: np.array(members, dtype=np.int64) for members in groups.values() if len(members) > 1})
    return twins


def compact_rows(rows) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` (unit vectors) as int8 and each row's float16 scale: ``rows[i] ~ int8[i] * scale[i]``."""
    if isinstance(rows, CompactRows):
        return np.asarray(rows.rows), np.asarray(rows.scales)
    rows = np.asarray(rows, dtype=np.float32)
    scales = np.maximum(np.abs(rows).max(axis=1), 1e-12) / 127 if len(rows) else np.zeros(0, np.float32)
    scales = scales.astype(np.float16).astype(np.float32)
    return np.clip(np.rint(rows / scales[:, None]), -127, 127).astype(np.int8), scales.astype(np.float16)


class CompactRows:
    """int8 rows with a scale each, read like a float32 array: ``compact[ids]`` gives float32 rows."""

    def __init__(self, rows: np.ndarray, scales: np.ndarray) -> None:
        self.rows, self.scales = rows, scales
        self.shape = rows.shape

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key) -> np.ndarray:
        return np.asarray(self.rows[key], dtype=np.float32) * np.asarray(self.scales[key], dtype=np.float32)[..., None]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[: len(self)]
        return whole if dtype is None else whole.astype(dtype, copy=False)


def _file_digest(path: Path) -> str:
    """SHA-256 of the file, or for a file over :data:`FULL_HASH_BYTES` of its size, first and last MiB."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if size <= FULL_HASH_BYTES:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
        else:
            digest.update(size.to_bytes(8, "little"))
            digest.update(handle.read(2**20))
            handle.seek(size - 2**20)
            digest.update(handle.read(2**20))
    return digest.hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as a ``.npy`` file in 16 MiB pieces (a full disk raises the system's own error)."""
    array = np.ascontiguousarray(array)
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, np.lib.format.header_data_from_array_1_0(array))
        flat = array.reshape(-1).view(np.uint8) if array.size else np.zeros(0, np.uint8)
        for first in range(0, len(flat), 16 * 2**20):
            handle.write(flat[first : first + 16 * 2**20].data)
        handle.flush()
        os.fsync(handle.fileno())


def _versions() -> dict:
    import faiss
    import nltk
    import sentence_transformers

    return {"faiss": faiss.__version__, "nltk": nltk.__version__,
            "sentence_transformers": sentence_transformers.__version__}


def index_lock(index_dir: Path):
    """The lock writers hold while they write a build into ``index_dir`` (:class:`filelock.FileLock`)."""
    from filelock import FileLock

    return FileLock(str(index_dir / LOCK), timeout=LOCK_TIMEOUT_SECONDS)


def save_index(data: IndexData, index_dir: Path) -> Path:
    """Write ``data`` to ``index_dir`` atomically and make it the live index.

    Holds :func:`index_lock` for the whole write: first the temporary folders of killed
    builds are removed, then the build is written and switched to, then older builds are
    removed, except the one this build replaces (a process that read ``CURRENT`` just before
    the switch may still be opening it; it goes at the next build). A ``CURRENT`` that is a
    folder is replaced by the file.

    Returns:
        The new build folder.

    Raises:
        OSError: the folder cannot be written, e.g. a full disk (the previous index is untouched and
            nothing of this build is left behind), or another writer held the lock for
            ``LOCK_TIMEOUT_SECONDS`` (``filelock.Timeout``).
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    with index_lock(index_dir):
        _remove_entries(index_dir, lambda name: name.startswith((".tmp-build-", f".{POINTER}.")))
        build_id = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        tmp, final = index_dir / f".tmp-{build_id}", index_dir / build_id
        pointer = index_dir / POINTER
        try:
            previous = _live_build(index_dir)  # kept until the next build: a process may still be opening it
        except IndexUnusable:
            previous = None
        tmp.mkdir()
        try:
            _write_files(data, tmp)
            names = FILES + ((HNSW_FILE,) if (tmp / HNSW_FILE).exists() else ())
            manifest = {**data.manifest, "build_key": data.build_key, "versions": _versions(),
                        "documents": data.sources,
                        "basis_sentences": data.basis.sentences if data.basis is not None else 0,
                        "files": {name: {"sha256": _file_digest(tmp / name), "bytes": (tmp / name).stat().st_size}
                                  for name in names}}
            _fsync_write(tmp / "manifest.json", json.dumps(manifest, indent=1).encode("utf-8"))
            os.rename(tmp, final)
            pointer_tmp = index_dir / f".{POINTER}.{build_id}"
            _fsync_write(pointer_tmp, build_id.encode("ascii"))
            if pointer.is_dir() and not pointer.is_symlink():
                shutil.rmtree(pointer)  # a folder named CURRENT would block the switch forever
            os.replace(pointer_tmp, pointer)
        except BaseException:
            for leftover in (tmp, final):
                shutil.rmtree(leftover, ignore_errors=True)
            (index_dir / f".{POINTER}.{build_id}").unlink(missing_ok=True)
            raise
        data.manifest = manifest
        data.unsaved = None
        _remove_entries(index_dir, lambda name: name not in (build_id, previous) and name.startswith(
            ("build-", ".tmp-build-", f".{POINTER}.")))
    return final


def _write_files(data: IndexData, folder: Path) -> None:
    """Write every file of ``data`` but the manifest into ``folder``, each flushed to disk."""
    import faiss

    numbers = {doc.id: n for n, doc in enumerate(data.documents)}
    docs = [{"id": d.id, "title": d.title, "text": d.text, "paragraphs": [[p.start, p.end] for p in d.paragraphs]}
            for d in data.documents]
    _fsync_write(folder / "documents.json", json.dumps(docs, ensure_ascii=False).encode("utf-8"))
    _fsync_npy(folder / "sentences.npy", np.array(
        [(numbers[s.doc], s.paragraph, s.index, s.start, s.end) for s in data.sentences], dtype=np.int32
    ).reshape(-1, 5))
    _fsync_npy(folder / "chunks.npy", np.array(
        [(c.sentence_ids[0], len(c.sentence_ids)) for c in data.chunks], dtype=np.int32).reshape(-1, 2))
    v = data.vectors
    basis = data.basis.to_array() if data.basis is not None else np.zeros((0, v.vectors.shape[1]), np.float32)
    windows, scales = compact_rows(v.windows)
    rows, row_scales = compact_rows(v.vectors)
    for name, array in (("vectors.npy", rows), ("vector_scales.npy", row_scales), ("tokens.npy", v.tokens),
                        ("token_offsets.npy", v.token_offsets), ("token_basis.npy", basis),
                        ("windows.npy", windows), ("window_scales.npy", scales),
                        ("window_offsets.npy", v.window_offsets)):
        _fsync_npy(folder / name, array)
    with open(folder / "bm25.npz", "wb") as handle:
        np.savez(handle, **data.bm25.to_arrays())
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_write(folder / "profiles.json", json.dumps([p.to_dict() for p in data.profiles],
                                                      ensure_ascii=False).encode("utf-8"))
    if not isinstance(data.faiss_index, faiss.IndexFlat):
        _fsync_write(folder / HNSW_FILE, faiss.serialize_index(data.faiss_index).tobytes())


def _remove_entries(index_dir: Path, chosen) -> None:
    """Remove the files and folders of ``index_dir`` whose name ``chosen(name)`` accepts (lock holder only)."""
    for entry in index_dir.iterdir():
        if chosen(entry.name):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _live_build(index_dir: Path) -> str:
    """The build folder name that ``index_dir/CURRENT`` holds, checked to be a build inside ``index_dir``.

    Raises:
        IndexMissing: there is no ``CURRENT``.
        IndexCorrupt: ``CURRENT`` is a folder, unreadable, or names anything but a ``build-*`` folder
            directly inside ``index_dir`` (e.g. ``../elsewhere`` or an absolute path).
    """
    pointer = index_dir / POINTER
    if not pointer.exists() and not pointer.is_symlink():
        raise IndexMissing(f"no index in {index_dir}")
    if pointer.is_dir():
        raise IndexCorrupt(f"{pointer} is a folder, not the file naming the live build")
    try:
        name = pointer.read_bytes()[:200].decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{pointer} is unreadable ({type(exc).__name__})") from None
    if not BUILD_NAME.fullmatch(name):
        raise IndexCorrupt(f"{pointer} names {name[:80]!r}, which is not a build folder inside {index_dir}")
    build = index_dir / name
    try:
        inside = build.resolve().parent == index_dir.resolve()
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise IndexCorrupt(f"{pointer} names {name!r}, which leads outside {index_dir}")
    return name


def load_index(index_dir: Path, build_key: dict) -> IndexData:
    """Load the live index of ``index_dir`` and check it matches ``build_key``.

    A build that disappears while it is read (another process saved a newer one and removed it)
    is retried from the new ``CURRENT``, up to ``LOAD_ATTEMPTS`` times.

    Returns:
        The loaded :class:`IndexData`.

    Raises:
        IndexMissing: nothing built yet.
        IndexCorrupt: ``CURRENT`` does not name a build inside ``index_dir``, or a file is missing,
            altered or unreadable (message names it). No other error escapes for a file problem.
        IndexStale: built from something else (message says what changed).
    """
    name = _live_build(index_dir)
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        try:
            return _load_build(index_dir / name, build_key)
        except IndexCorrupt as exc:
            newer = _live_build(index_dir)
            if newer == name or attempt == LOAD_ATTEMPTS:
                if attempt > 1:
                    raise IndexCorrupt(f"{exc} (attempt {attempt}: the build was replaced while loading)") from exc
                raise
            logger.info("index build %s was replaced by %s while loading; loading that", name, newer)
            name = newer
    raise AssertionError("unreachable")  # pragma: no cover


def _open_build(build: Path) -> dict[str, object]:
    """Open every file of a build before reading any: small files as bytes, big arrays memory-mapped.

    Once open (or mapped), a file stays readable even if a concurrent save removes the build, so the
    only window for that race is the few microseconds between reading ``CURRENT`` and these opens.

    Raises:
        IndexCorrupt: a file is missing, a folder, or unreadable.
    """
    raw: dict[str, object] = {}
    try:
        raw["manifest.json"] = (build / "manifest.json").read_bytes()
        for name in FILES:
            path = build / name
            if name in MAPPED:
                handle = open(path, "rb")   # an open handle keeps the file if the build is removed now
                raw[name] = (path, handle)
            else:
                raw[name] = path.read_bytes()
        if (build / HNSW_FILE).exists():
            raw[HNSW_FILE] = (build / HNSW_FILE).read_bytes()
    except OSError as exc:
        for value in raw.values():
            if isinstance(value, tuple):
                value[1].close()
        missing = isinstance(exc, FileNotFoundError)
        raise IndexCorrupt(f"index file {exc.filename or build} is {'missing' if missing else 'unreadable'} "
                           f"({type(exc).__name__})") from exc
    return raw


def _digest(value) -> str:
    if isinstance(value, tuple):
        return _file_digest(value[0])
    if len(value) <= FULL_HASH_BYTES:
        return hashlib.sha256(value).hexdigest()
    digest = hashlib.sha256(len(value).to_bytes(8, "little"))
    digest.update(value[: 2**20])
    digest.update(value[-(2**20):])
    return digest.hexdigest()


def _load_build(build: Path, build_key: dict) -> IndexData:
    """Load and check one build folder (see :func:`load_index`)."""
    try:
        raw = _open_build(build)
    except IndexCorrupt:   # a build of an older format lacks newer files: say it is stale, not corrupt
        try:
            old_key = json.loads((build / "manifest.json").read_text(encoding="utf-8")).get("build_key")
        except (OSError, ValueError, AttributeError):
            old_key = build_key
        if old_key != build_key:
            raise IndexStale(f"index in {build.parent} is stale: {describe_change(old_key, build_key)}") from None
        raise
    try:
        return _parse_build(build, build_key, raw)
    finally:
        for value in raw.values():
            if isinstance(value, tuple):
                value[1].close()


def _parse_build(build: Path, build_key: dict, raw: dict) -> IndexData:
    try:
        manifest = json.loads(raw["manifest.json"].decode("utf-8"))
        files = manifest["files"]
        sources = manifest.get("documents", {})
        if not isinstance(files, dict) or not isinstance(sources, dict):
            raise TypeError("files or documents is not an object")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IndexCorrupt(f"index manifest in {build} is unreadable ({type(exc).__name__})") from exc
    if manifest.get("build_key") != build_key:
        raise IndexStale(f"index in {build.parent} is stale: {describe_change(manifest.get('build_key'), build_key)}")
    for name in (*FILES, *((HNSW_FILE,) if HNSW_FILE in raw else ())):
        expected = files.get(name)
        if not isinstance(expected, dict) or _digest(raw[name]) != expected.get("sha256"):
            raise IndexCorrupt(f"index file {build / name} is truncated or altered (checksum mismatch)")
    try:
        import faiss

        docs = [Document(str(d["id"]), str(d["title"]), str(d["text"]),
                         [Span(int(a), int(b)) for a, b in d["paragraphs"]])
                for d in json.loads(raw["documents.json"].decode("utf-8"))]
        table = np.load(io.BytesIO(raw["sentences.npy"]), allow_pickle=False)
        chunk_table = np.load(io.BytesIO(raw["chunks.npy"]), allow_pickle=False)
        mapped = {name: np.load(raw[name][0], mmap_mode="r", allow_pickle=False) for name in MAPPED}
        with np.load(io.BytesIO(raw["bm25.npz"]), allow_pickle=False) as arrays:
            bm25 = BM25.from_arrays({key: arrays[key] for key in arrays.files})
        profiles = [PageProfile.from_dict(p) for p in json.loads(raw["profiles.json"].decode("utf-8"))]
        basis_array = np.load(io.BytesIO(raw["token_basis.npy"]), allow_pickle=False)
        basis = TokenBasis.from_array(basis_array, manifest.get("basis_sentences", 0)) if len(basis_array) else None
        sentences = [Sentence(i, docs[d].id, int(p), int(x), int(a), int(b), docs[d].text[a:b])
                     for i, (d, p, x, a, b) in enumerate(table.tolist())]
        texts = {doc.id: doc.text for doc in docs}
        chunks = []
        for i, (first, count) in enumerate(chunk_table.tolist()):
            head, tail = sentences[first], sentences[first + count - 1]
            chunks.append(Chunk(i, head.doc, head.paragraph, head.start, tail.end,
                                texts[head.doc][head.start : tail.end], tuple(range(first, first + count))))
        vectors = IndexVectors(CompactRows(mapped["vectors.npy"], mapped["vector_scales.npy"]), mapped["tokens.npy"], np.asarray(mapped["token_offsets.npy"]),
                               CompactRows(mapped["windows.npy"], mapped["window_scales.npy"]),
                               np.asarray(mapped["window_offsets.npy"]))
        if HNSW_FILE in raw:
            faiss_index = faiss.deserialize_index(np.frombuffer(raw[HNSW_FILE], dtype=np.uint8))
            hnsw_of(faiss_index).efSearch = HNSW_EF_SEARCH
        else:
            faiss_index = make_faiss_index(np.asarray(vectors.vectors, dtype=np.float32))
    except Exception as exc:  # faiss raises RuntimeError, numpy ValueError, json ValueError, IndexError...
        raise IndexCorrupt(f"index in {build} cannot be read ({type(exc).__name__})") from exc
    n = len(sentences)
    if (len(vectors.vectors) != n or faiss_index.ntotal > n or len(vectors.token_offsets) != n + 1
            or len(vectors.window_offsets) != n + 1 or int(vectors.token_offsets[-1]) != len(vectors.tokens)
            or int(vectors.window_offsets[-1]) != len(vectors.windows) or bm25.size != n):
        raise IndexCorrupt(f"index in {build} is inconsistent (vector and table sizes differ)")
    if any(i >= n for p in profiles for role in ROLES for i in getattr(p, role)):
        raise IndexCorrupt(f"index in {build} is inconsistent (a page profile names a missing sentence)")
    if basis is not None and len(vectors.tokens) and vectors.tokens.shape[1] != len(basis.components):
        raise IndexCorrupt(f"index in {build} is inconsistent (token vectors and token basis differ)")
    return IndexData(build_key, docs, sentences, chunks, vectors, bm25, faiss_index, manifest,
                     sources=sources, profiles=profiles, basis=basis)


def describe_change(old: dict | None, new: dict) -> str:
    """Human words for what differs between two build keys, e.g. ``"model changed (a -> b)"``."""
    if not isinstance(old, dict):
        return "manifest has no build key"
    changes = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key == "corpus_hash":
                changes.append("corpus changed")
            else:
                changes.append(f"{key} changed ({old.get(key)} -> {new.get(key)})")
    return ", ".join(changes) or "unknown change"
