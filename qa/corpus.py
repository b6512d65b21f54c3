"""Corpus loading: read each document verbatim, find its title, drop web-page debris, keep paragraph spans."""
from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

#: File name endings that count as documents.
DOCUMENT_SUFFIXES = (".txt", ".md")

# Lines a scraped news page carries that are not the article: section labels,
# photo credits, sharing widgets. Matched against a whole stripped line.
_BOILERPLATE = re.compile(
    r"^(recent features|related( articles| posts)?|advertisement|share( this( article)?)?|"
    r"(photo |image )?credit:.*|photo:.*|image:.*|read more.*|subscribe.*)$",
    re.IGNORECASE,
)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"[.!…:;\"”']\s*$")


class CorpusError(Exception):
    """The corpus folder is missing, empty or unreadable."""


@dataclass(frozen=True)
class Span:
    """A ``[start, end)`` character range in a document's original text."""

    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """One article: its original text and where its content paragraphs are.

    ``text[p.start:p.end]`` is paragraph ``i + 1`` for ``p = paragraphs[i]``,
    numbered as a reader sees them (debris lines are not paragraphs).
    """

    id: str
    title: str
    text: str
    paragraphs: list[Span] = field(default_factory=list)

    def paragraph_text(self, number: int) -> str:
        """The text of paragraph ``number`` (1-based)."""
        span = self.paragraphs[number - 1]
        return self.text[span.start : span.end]


def _norm(line: str) -> str:
    return " ".join(line.split()).casefold()


def _is_short_label(line: str) -> bool:
    """A heading-like line: few words and no sentence punctuation at the end."""
    words = line.split()
    return 0 < len(words) <= 12 and not _SENTENCE_END.search(line)


def find_title(lines: list[str], suffix: str) -> str:
    """The document's title from its first heading line.

    A Markdown file's first ``#`` heading is its title. A plain-text page saved
    from the web repeats its headline (page title, heading, photo caption), so
    the title is the heading-like line repeated most often, the first one on ties;
    failing that, the first non-empty line.

    Returns:
        The title, or ``""`` for a document without non-empty lines.
    """
    stripped = [line.strip() for line in lines if line.strip()]
    if not stripped:
        return ""
    if suffix == ".md":
        for line in stripped:
            match = _MD_HEADING.match(line)
            if match:
                return match.group(1)
    counts = Counter(_norm(line) for line in stripped if _is_short_label(line))
    repeated = [line for line in stripped if _is_short_label(line) and counts[_norm(line)] > 1]
    if repeated:
        best = max(counts[_norm(line)] for line in repeated)
        return next(line for line in repeated if counts[_norm(line)] == best)
    for line in stripped:
        match = _MD_HEADING.match(line)
        return match.group(1) if match else line
    return ""


def _debris_lines(lines: list[str], title: str) -> set[str]:
    """Normalised lines that are page furniture rather than article text."""
    counts = Counter(_norm(line) for line in lines if line.strip())
    debris = {_norm(title)} if title else set()
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if _MD_HEADING.match(text) or _BOILERPLATE.match(text):
            debris.add(_norm(text))
        elif _is_short_label(text) and counts[_norm(text)] > 1:
            debris.add(_norm(text))
    return debris


def split_paragraphs(text: str, title: str) -> list[Span]:
    """Spans of the content paragraphs of ``text``.

    Paragraphs are runs of non-blank lines; debris lines (the title, repeated
    labels, headings, credits) are removed first, so a block that mixes them
    with text keeps only its text. Spans are trimmed of surrounding whitespace.
    """
    lines = text.splitlines(keepends=True)
    debris = _debris_lines(lines, title)
    spans: list[Span] = []
    run_start = run_end = None
    offset = 0
    for line in lines:
        content = line.strip()
        keep = bool(content) and _norm(content) not in debris
        if keep:
            lead = len(line) - len(line.lstrip())
            end = offset + len(line.rstrip())
            if run_start is None:
                run_start = offset + lead
            run_end = end
        elif run_start is not None:
            spans.append(Span(run_start, run_end))
            run_start = None
        offset += len(line)
    if run_start is not None:
        spans.append(Span(run_start, run_end))
    return spans


def load_document(path: Path) -> Document:
    """Read one ``.txt`` or ``.md`` file as a :class:`Document`.

    The text is kept exactly as decoded from UTF-8 (line endings included), so
    offsets index the file's characters. A leading byte-order mark is dropped.

    Raises:
        CorpusError: the file cannot be read or is not UTF-8.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CorpusError(f"corpus file {path} is not UTF-8 text (byte {exc.start})") from exc
    title = find_title(text.splitlines(), path.suffix.lower())
    return Document(id=path.stem, title=title or path.stem, text=text,
                    paragraphs=split_paragraphs(text, title))


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of ``corpus_dir``, sorted by name.

    Raises:
        CorpusError: the folder does not exist or holds no ``.txt``/``.md`` file.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus folder {corpus_dir} not found; pass --corpus DIR or set QA_CORPUS_DIR "
            f"to a folder of .txt/.md files"
        )
    files = sorted(p for p in corpus_dir.iterdir()
                   if p.suffix.lower() in DOCUMENT_SUFFIXES and p.is_file() and not p.name.startswith("."))
    if not files:
        raise CorpusError(f"corpus folder {corpus_dir} has no .txt or .md files; add the article there")
    return files


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Load every document of ``corpus_dir`` (see :func:`corpus_files`).

    Example:
        >>> docs = load_corpus(Path("corpus"))
        >>> docs[0].title
        'How Are US-China Cyber Relations Progressing?'

    Returns:
        Documents sorted by file name; those without content paragraphs are skipped
        with a warning.

    Raises:
        CorpusError: see :func:`corpus_files` and :func:`load_document`.
    """
    docs = []
    for path in corpus_files(corpus_dir):
        doc = load_document(path)
        if doc.paragraphs:
            docs.append(doc)
        else:
            logger.warning("skipping %s: no text paragraphs", path.name)
    if not docs:
        raise CorpusError(f"corpus folder {corpus_dir} has no document with text")
    return docs


def corpus_hash(docs: list[Document]) -> str:
    """SHA-256 over every document's id and text: changes whenever the corpus does."""
    digest = hashlib.sha256()
    for doc in docs:
        for part in (doc.id, doc.text):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


def document_hash(doc: Document) -> str:
    """SHA-256 over the document's id, title and text: changes whenever what is indexed of it does."""
    return corpus_hash([doc]) if not doc.title else hashlib.sha256(
        (corpus_hash([doc]) + doc.title).encode("utf-8", "surrogatepass")).hexdigest()


def read_corpus(corpus_dir: Path, files: list[Path], previous=None) -> tuple[list[Document], dict, list]:
    """Read the documents of ``files``, taking unchanged ones from ``previous`` (an index's data) unread.

    A file whose size and modification time match the previous build's record is not read again.
    A file that cannot be read, or has no text, is skipped with a warning.

    Returns:
        ``(docs, sources, skipped)``: the documents in file order; ``{doc_id: {"path", "size",
        "mtime_ns", "sha256"}}``; ``[(relative path, reason), ...]`` of the skipped files.

    Raises:
        CorpusError: no file gave a document with text.
    """
    known = {}
    if previous is not None:
        by_id = {doc.id: doc for doc in previous.documents}
        known = {src.get("path"): (by_id[doc_id], src) for doc_id, src in previous.sources.items()
                 if isinstance(src, dict) and doc_id in by_id}
    docs, sources, skipped = [], {}, []
    for path in files:
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            stat = path.stat()
        except OSError as exc:
            skipped.append((rel, exc.strerror or str(exc)))
            continue
        record = {"path": rel, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        old = known.get(rel)
        if old is not None and all(old[1].get(key) == value for key, value in record.items()):
            doc, record = old[0], old[1]
        else:
            try:
                doc = load_document(path)
            except CorpusError as exc:
                logger.warning("skipping %s: %s", rel, exc)
                skipped.append((rel, str(exc)))
                continue
            if not doc.paragraphs:
                logger.warning("skipping %s: no text paragraphs", rel)
                skipped.append((rel, "no text paragraphs"))
                continue
            record = {**record, "sha256": document_hash(doc)}
        if doc.id in sources:
            logger.warning("skipping %s: another file already gave document id %r", rel, doc.id)
            skipped.append((rel, f"duplicate document id {doc.id!r}"))
            continue
        docs.append(doc)
        sources[doc.id] = record
    if not docs:
        raise CorpusError(f"corpus folder {corpus_dir} has no document with text")
    return docs, sources, skipped
