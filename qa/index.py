"""The index on disk: FAISS vectors, sentence/chunk tables and a manifest; atomic builds, checked loads.

Layout of the index folder::

    index/CURRENT              name of the live build folder (replaced atomically)
    index/build-<id>/manifest.json   what it was built from + SHA-256 of every file
    index/build-<id>/units.faiss     vectors of every sentence and of word windows of long ones
    index/build-<id>/arrays.npz      which sentence each unit belongs to; token vectors per sentence
    index/build-<id>/meta.json       sentences and chunks with their offsets
    index/build-<id>/profiles.json   each document's page profile (deck, byline, bios, conclusion, questions)

    index/.lock                held by the process writing a build (the ``filelock`` package)

A build is written to a temporary folder, flushed, renamed, and only then does
``CURRENT`` (a temp file renamed over the old one) point at it: an interrupted
build leaves the previous index in place. Writers take ``index/.lock`` for the
whole write, so two processes saving at once take turns; only the lock holder
removes old builds (all but the live one and the one it replaced) and the
temporary folders of killed builds. Loading checks
that ``CURRENT`` names a build folder inside the index folder, then every file's
hash and the manifest's build key, so a truncated, missing, foreign or stale
file is reported as such, never half-used; a build removed by a concurrent save
while it is read is retried from the new ``CURRENT``.

FAISS index type: exact inner product (``IndexFlatIP``) over unit vectors, i.e.
cosine similarity. An article has a few hundred units; brute force is exact and
takes microseconds. Approximate indexes (IVF, HNSW) only pay off past ~100k vectors.
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
from .structure import ROLES, PageProfile, page_profiles

logger = logging.getLogger(__name__)

#: Bump when the files or the way they are derived from the corpus change.
FORMAT_VERSION = 3
POINTER = "CURRENT"
FILES = ("units.faiss", "arrays.npz", "meta.json", "profiles.json")
LOCK = ".lock"
#: Longest wait for another process's write to finish before giving up (the build then stays in memory).
LOCK_TIMEOUT_SECONDS = 120.0
#: How a build folder is named; ``CURRENT`` must hold exactly such a name.
BUILD_NAME = re.compile(r"build-[A-Za-z0-9_-]{1,100}")
#: A load retries this many times when a concurrent save replaced the build it was reading.
LOAD_ATTEMPTS = 5


class IndexUnusable(Exception):
    """Base class: the index cannot be used as it is (the engine rebuilds it)."""


class IndexMissing(IndexUnusable):
    """No index has been built in this folder yet."""


class IndexCorrupt(IndexUnusable):
    """An index file is missing, truncated or unreadable."""


class IndexStale(IndexUnusable):
    """The index was built from another corpus, model or chunking."""


@dataclass
class IndexData:
    """Everything retrieval needs, in memory.

    Row ``u`` of ``faiss_index`` embeds a unit of sentence ``unit_sentence[u]``;
    ``token_vectors[token_offsets[j]:token_offsets[j + 1]]`` are sentence ``j``'s token vectors.
    """

    build_key: dict
    sentences: list[Sentence]
    chunks: list[Chunk]
    faiss_index: object
    unit_sentence: np.ndarray
    token_vectors: np.ndarray
    token_offsets: np.ndarray
    manifest: dict
    #: Why the index could not be written to disk (it is then served from memory only); None when saved or loaded.
    unsaved: str | None = None
    #: Each document's page parts, found at build time (:func:`qa.structure.page_profiles`); empty when
    #: made by hand without them (retrieval then finds them from the sentences).
    profiles: list[PageProfile] = dataclasses.field(default_factory=list)


def make_faiss_index(vectors: np.ndarray):
    """An exact inner-product FAISS index holding ``vectors`` (shape ``(n, d)``, float32)."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
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
            _fsync_write(tmp / "units.faiss", faiss.serialize_index(data.faiss_index).tobytes())
            with open(tmp / "arrays.npz", "wb") as handle:
                np.savez(handle, unit_sentence=data.unit_sentence, token_vectors=data.token_vectors,
                         token_offsets=data.token_offsets)
                handle.flush()
                os.fsync(handle.fileno())
            meta = {"sentences": [dataclasses.asdict(s) for s in data.sentences],
                    "chunks": [dataclasses.asdict(c) for c in data.chunks]}
            _fsync_write(tmp / "meta.json", json.dumps(meta, ensure_ascii=False).encode("utf-8"))
            _fsync_write(tmp / "profiles.json", json.dumps([p.to_dict() for p in data.profiles],
                                                           ensure_ascii=False).encode("utf-8"))
            manifest = {**data.manifest, "build_key": data.build_key, "versions": _versions(),
                        "files": {name: {"sha256": _sha256(tmp / name), "bytes": (tmp / name).stat().st_size}
                                  for name in FILES}}
            _fsync_write(tmp / "manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))
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


def _read_build(build: Path) -> dict[str, bytes]:
    """The bytes of a build's manifest and files, every file opened before any is read.

    Once open, a file stays readable even if a concurrent save removes the build, so the only
    window for that race is the few microseconds between reading ``CURRENT`` and these opens.

    Raises:
        IndexCorrupt: a file is missing, a folder, or unreadable.
    """
    handles = {}
    try:
        for name in ("manifest.json", *FILES):
            handles[name] = open(build / name, "rb")
        return {name: handle.read() for name, handle in handles.items()}
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        raise IndexCorrupt(f"index file {exc.filename or build} is {'missing' if missing else 'unreadable'} "
                           f"({type(exc).__name__})") from exc
    finally:
        for handle in handles.values():
            handle.close()


def _load_build(build: Path, build_key: dict) -> IndexData:
    """Load and check one build folder (see :func:`load_index`)."""
    try:
        raw = _read_build(build)
    except IndexCorrupt:   # a build of an older format lacks newer files: say it is stale, not corrupt
        try:
            old_key = json.loads((build / "manifest.json").read_text(encoding="utf-8")).get("build_key")
        except (OSError, ValueError, AttributeError):
            old_key = build_key
        if old_key != build_key:
            raise IndexStale(f"index in {build.parent} is stale: {describe_change(old_key, build_key)}") from None
        raise
    try:
        manifest = json.loads(raw["manifest.json"].decode("utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"index manifest in {build} is unreadable ({type(exc).__name__})") from exc
    if manifest.get("build_key") != build_key:
        raise IndexStale(f"index in {build.parent} is stale: {describe_change(manifest.get('build_key'), build_key)}")
    for name in FILES:
        expected = files.get(name)
        if not isinstance(expected, dict) or hashlib.sha256(raw[name]).hexdigest() != expected.get("sha256"):
            raise IndexCorrupt(f"index file {build / name} is truncated or altered (checksum mismatch)")
    try:
        import faiss

        faiss_index = faiss.deserialize_index(np.frombuffer(raw["units.faiss"], dtype=np.uint8))
        with np.load(io.BytesIO(raw["arrays.npz"]), allow_pickle=False) as arrays:
            unit_sentence, token_vectors, token_offsets = (
                arrays["unit_sentence"], arrays["token_vectors"], arrays["token_offsets"])
        meta = json.loads(raw["meta.json"].decode("utf-8"))
        sentences = [Sentence(**s) for s in meta["sentences"]]
        chunks = [Chunk(**{**c, "sentence_ids": tuple(c["sentence_ids"])}) for c in meta["chunks"]]
        profiles = [PageProfile.from_dict(p) for p in json.loads(raw["profiles.json"].decode("utf-8"))]
    except Exception as exc:  # faiss raises RuntimeError, numpy ValueError, json ValueError...
        raise IndexCorrupt(f"index in {build} cannot be read ({type(exc).__name__})") from exc
    if (len(unit_sentence) != faiss_index.ntotal or len(token_offsets) != len(sentences) + 1
            or (len(token_offsets) and int(token_offsets[-1]) != len(token_vectors))):
        raise IndexCorrupt(f"index in {build} is inconsistent (vector and table sizes differ)")
    if any(i >= len(sentences) for p in profiles for role in ROLES
           for i in getattr(p, role)):
        raise IndexCorrupt(f"index in {build} is inconsistent (a page profile names a missing sentence)")
    return IndexData(build_key, sentences, chunks, faiss_index, unit_sentence, token_vectors,
                     token_offsets, manifest, profiles=profiles)


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


def build_index(sentences: list[Sentence], chunks: list[Chunk], embedder, build_key: dict,
                progress: bool = False, profiles: list[PageProfile] | None = None) -> IndexData:
    """Embed the sentences (with their token vectors) and their word windows into an :class:`IndexData`.

    Args:
        sentences: from :func:`qa.chunking.split_sentences`.
        chunks: from :func:`qa.chunking.make_chunks`.
        embedder: a :class:`qa.embedding.Embedder`.
        build_key: what the index is built from (stored in the manifest, compared on load).
        progress: show a progress bar while embedding. Defaults to False.
        profiles: each document's page profile (:func:`qa.structure.page_profiles`). Defaults to those
            found from ``sentences`` alone (no titles).
    """
    from .chunking import sentence_units

    profiles = page_profiles(sentences) if profiles is None else profiles

    units = sentence_units(sentences)
    dim = embedder.dimension
    sentence_vectors, tokens = embedder.encode_with_tokens([s.text for s in sentences], show_progress=progress) \
        if sentences else (np.zeros((0, dim), np.float32), [])
    windows = [(sid, text) for sid, text in units if text != sentences[sid].text]
    window_vectors = embedder.encode([text for _, text in windows], show_progress=progress) if windows \
        else np.zeros((0, dim), np.float32)
    unit_sentence = np.array([s.id for s in sentences] + [sid for sid, _ in windows], dtype=np.int32)
    offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(t) for t in tokens]) if tokens else []
    token_vectors = np.concatenate(tokens) if tokens else np.zeros((0, dim), np.float32)
    manifest = {"format": FORMAT_VERSION, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "counts": {"sentences": len(sentences), "chunks": len(chunks), "units": len(unit_sentence)},
                "profiles": {p.doc: {"title": p.title is not None, "deck": len(p.deck), "byline": len(p.byline),
                                     "bios": len(p.bio), "conclusion": len(p.conclusion), "asked": len(p.asked)}
                             for p in profiles}}
    return IndexData(build_key, sentences, chunks, make_faiss_index(np.concatenate([sentence_vectors, window_vectors])),
                     unit_sentence, token_vectors, offsets, manifest, profiles=profiles)
