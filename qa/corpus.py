"""Corpus loading: find the documents in a folder tree, read each one, keep its title, text and paragraph spans.

``.txt`` and ``.md`` files are kept verbatim (web-page debris lines are not paragraphs);
``.html``/``.htm`` pages become their main text (see :mod:`qa.html_text`). A document's id
is its path relative to the corpus folder, in POSIX form with its suffix
(``notes.md``, ``library/functions.html``), so ``x.txt`` and ``x.md`` are two documents.
Files that cannot be used are skipped with a warning and a reason (:class:`SkippedFile`).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

#: File name endings that count as documents (matched without regard to case).
DOCUMENT_SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
#: Files larger than this are skipped with a reason rather than read. Defaults to 32 MiB:
#: far above a wiki page (the largest Python documentation page is 2.5 MB) and a bound on
#: the memory and time one file can take.
MAX_FILE_BYTES = 32 * 1024 * 1024

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
class SkippedFile:
    """A file of the corpus folder that is not a document, and why (for the build summary).

    ``size`` and ``mtime_ns`` are the file's when it was read and found to hold no text (None otherwise): an
    index records them, so the next load skips the file unread while they do not change.
    """

    path: str
    reason: str
    size: int | None = None
    mtime_ns: int | None = None

    def record(self) -> dict | None:
        """``{"size", "mtime_ns", "reason"}`` for an index's manifest, or None for a file not read."""
        if self.size is None:
            return None
        return {"size": self.size, "mtime_ns": self.mtime_ns, "reason": self.reason}


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


def keeps_line_breaks(doc_id: str) -> bool:
    """Whether the line breaks in document ``doc_id``'s text are meant to be shown: an HTML page's text has them only
    in its ``<pre>`` blocks (code, console sessions; :mod:`qa.html_text` makes every other block one line), while a
    ``.txt`` or ``.md`` file's lines may be prose wrapped at a fixed width.

    Example:
        >>> keeps_line_breaks("library/json.html"), keeps_line_breaks("notes.md")
        (True, False)
    """
    return Path(doc_id).suffix.lower() in HTML_SUFFIXES


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


class _Unusable(Exception):
    """Why one file cannot be a document (the message names no path)."""


def _read_text(path: Path, max_bytes: int) -> tuple[str, bool]:
    """The decoded text of ``path`` and whether it is an HTML page.

    Raises:
        _Unusable: not a regular file, too large, unreadable, or not text.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise _Unusable("not a regular file")
        if info.st_size > max_bytes:
            raise _Unusable(f"{info.st_size:,} bytes, over the limit of {max_bytes:,} bytes for one document")
        data = path.read_bytes()
    except OSError as exc:
        raise _Unusable(f"cannot read it: {exc.strerror or exc}") from exc
    if path.suffix.lower() in HTML_SUFFIXES:
        from .html_text import HtmlDecodeError, decode_html

        try:
            return decode_html(data), True
        except HtmlDecodeError as exc:
            raise _Unusable(str(exc)) from exc
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError as exc:
        raise _Unusable(f"not UTF-8 text (byte {exc.start})") from exc


def _html_document(doc_id: str, page, fallback_title: str) -> Document:
    """A Document whose text is the page's blocks, separated by blank lines.

    Headings are in the text but are not paragraphs, as Markdown headings are not.
    """
    parts: list[str] = []
    spans: list[Span] = []
    offset = 0
    for text, heading in page.blocks:
        if parts:
            parts.append("\n\n")
            offset += 2
        parts.append(text)
        if not heading:
            spans.append(Span(offset, offset + len(text)))
        offset += len(text)
    return Document(id=doc_id, title=page.title or fallback_title, text="".join(parts), paragraphs=spans)


def load_document(path: Path, doc_id: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read one ``.txt``, ``.md``, ``.html`` or ``.htm`` file as a :class:`Document`.

    A ``.txt``/``.md`` text is kept exactly as decoded from UTF-8 (line endings
    included), so offsets index the file's characters; a leading byte-order mark is
    dropped. An HTML page's text is its extracted main text (blocks separated by blank
    lines), decoded with its declared character set, else UTF-8; its title is
    ``<title>`` (without a site name when the first heading is the rest), else the
    first heading. A page without main text has no paragraphs.

    Args:
        path: the file.
        doc_id: the document's id. Defaults to the file name (``path.name``).
        max_bytes: larger files are refused. Defaults to :data:`MAX_FILE_BYTES`.

    Raises:
        CorpusError: the file is not a regular file, too large, unreadable or not text.
    """
    try:
        return _load(path, doc_id or path.name, max_bytes)[0]
    except _Unusable as exc:
        raise CorpusError(f"cannot use corpus file {path}: {exc}") from exc


def _load(path: Path, doc_id: str, max_bytes: int) -> tuple[Document, str]:
    """The document and, when it has no paragraphs, why (``""`` otherwise)."""
    text, is_html = _read_text(path, max_bytes)
    if is_html:
        from .html_text import extract_html

        page = extract_html(text)
        doc = _html_document(doc_id, page, path.stem)
        return doc, "" if doc.paragraphs else f"no text paragraphs ({page.reason or 'no main text'})"
    title = find_title(text.splitlines(), path.suffix.lower())
    doc = Document(id=doc_id, title=title or path.stem, text=text, paragraphs=split_paragraphs(text, title))
    return doc, "" if doc.paragraphs else "no text paragraphs"


def _scan(corpus_dir: Path) -> tuple[list[tuple[str, Path]], list[SkippedFile]]:
    """``(id, path)`` of every document file under ``corpus_dir``, sorted by id, and the skipped names.

    Hidden files and folders (a name starting with ".") are left out; so are symbolic
    links that lead outside the corpus folder (listed as skipped) and folders already
    visited through another link.
    """
    root = corpus_dir.resolve()
    found: list[tuple[str, Path]] = []
    skipped: list[SkippedFile] = []
    seen_dirs: set[Path] = set()

    def inside(path: Path) -> bool:
        try:
            path.resolve().relative_to(root)
            return True
        except (ValueError, OSError, RuntimeError):
            return False

    def visit(folder: Path, rel: str) -> None:
        real = folder.resolve()
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(SkippedFile(rel or ".", f"cannot list folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            rel_path = f"{rel}{entry.name}"
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            wanted = is_dir or path.suffix.lower() in DOCUMENT_SUFFIXES
            if wanted and entry.is_symlink() and not inside(path):
                skipped.append(SkippedFile(rel_path, "a symbolic link to outside the corpus folder"))
                continue
            if is_dir:
                visit(path, rel_path + "/")
            elif wanted:
                found.append((rel_path, path))

    visit(corpus_dir, "")
    found.sort(key=lambda item: item[0])
    return found, skipped


def _check_folder(corpus_dir: Path) -> None:
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus folder {corpus_dir} not found; pass --corpus DIR or set QA_CORPUS_DIR "
            f"to a folder of .txt/.md/.html files"
        )


def _no_files(corpus_dir: Path) -> CorpusError:
    return CorpusError(f"corpus folder {corpus_dir} has no .txt, .md or .html files (sub-folders included); "
                       f"add the documents there")


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files under ``corpus_dir`` and its sub-folders, sorted by document id.

    Raises:
        CorpusError: the folder does not exist or holds no ``.txt``/``.md``/``.html``/``.htm`` file.
    """
    _check_folder(corpus_dir)
    found, _ = _scan(corpus_dir)
    if not found:
        raise _no_files(corpus_dir)
    return [path for _, path in found]


def load_corpus(corpus_dir: Path, skipped: list[SkippedFile] | None = None,
                max_bytes: int = MAX_FILE_BYTES) -> list[Document]:
    """Load every document under ``corpus_dir`` (see :func:`corpus_files`).

    Example:
        >>> docs = load_corpus(Path("corpus"))
        >>> docs[0].id, docs[0].title
        ('us-china-cyber-relations.txt', 'How Are US-China Cyber Relations Progressing?')

    Args:
        corpus_dir: the corpus folder.
        skipped: a list to which every file that was not loaded is appended as a
            :class:`SkippedFile` with its reason (unreadable, not UTF-8, not a regular
            file, too large, no text paragraphs, a link out of the folder), each also
            logged as a warning. Defaults to None (warnings only).
        max_bytes: files larger than this are skipped. Defaults to :data:`MAX_FILE_BYTES`.

    Returns:
        Documents sorted by id (their relative paths).

    Raises:
        CorpusError: the folder is missing, holds no document file, or no file in it is usable.
    """
    docs, _, missed = read_corpus(corpus_dir, max_bytes=max_bytes)
    if skipped is not None:
        skipped.extend(missed)
    return docs

def document_hash(doc: Document) -> str:
    """SHA-256 over a document's id and text: changes when that document does (incremental builds)."""
    digest = hashlib.sha256()
    _feed(digest, doc)
    return digest.hexdigest()


def _feed(digest, doc: Document) -> None:
    for part in (doc.id, doc.text):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)


def corpus_hash(docs: list[Document]) -> str:
    """SHA-256 over every document's id and text: changes whenever the corpus does."""
    digest = hashlib.sha256()
    for doc in docs:
        _feed(digest, doc)
    return digest.hexdigest()


def read_corpus(corpus_dir: Path, previous=None, max_bytes: int = MAX_FILE_BYTES
                ) -> tuple[list[Document], dict, list[SkippedFile]]:
    """Read the documents under ``corpus_dir``, taking unchanged ones from ``previous`` (an index's data) unread.

    A file whose size and modification time match the previous build's record is not read again, so an
    unchanged wiki of thousands of pages costs one ``stat`` per file; nor is a file the previous build found
    to hold no text (an index or search page), while its size and time are those recorded in the index's
    manifest (``"skipped"``). Other files are read as by :func:`load_corpus`, with the same skip rules.

    Returns:
        ``(docs, sources, skipped)``: the documents sorted by id; ``{doc_id: {"path", "size", "mtime_ns",
        "sha256"}}``; the :class:`SkippedFile` entries (each also logged as a warning).

    Raises:
        CorpusError: the folder is missing, holds no document file, or no file in it is usable.
    """
    _check_folder(corpus_dir)
    found, missed = _scan(corpus_dir)
    if not found and not missed:
        raise _no_files(corpus_dir)
    known, textless = {}, {}
    if previous is not None:
        textless = previous.manifest.get("skipped") or {}
        by_id = {doc.id: doc for doc in previous.documents}
        known = {doc_id: (by_id[doc_id], src) for doc_id, src in previous.sources.items()
                 if isinstance(src, dict) and doc_id in by_id}
    docs, sources = [], {}
    for doc_id, path in found:
        try:
            stat = path.stat()
        except OSError as exc:
            missed.append(SkippedFile(doc_id, exc.strerror or str(exc)))
            continue
        record = {"path": doc_id, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        old = known.get(doc_id)
        if old is not None and all(old[1].get(key) == value for key, value in record.items()) and old[1].get("sha256"):
            docs.append(old[0])
            sources[doc_id] = old[1]
            continue
        seen = textless.get(doc_id)
        if (isinstance(seen, dict) and seen.get("size") == stat.st_size and seen.get("mtime_ns") == stat.st_mtime_ns
                and seen.get("reason")):
            missed.append(SkippedFile(doc_id, str(seen["reason"]), stat.st_size, stat.st_mtime_ns))
            continue
        try:
            doc, empty = _load(path, doc_id, max_bytes)
        except _Unusable as exc:
            missed.append(SkippedFile(doc_id, str(exc)))
            continue
        if empty:
            missed.append(SkippedFile(doc_id, empty, stat.st_size, stat.st_mtime_ns))
            continue
        docs.append(doc)
        sources[doc_id] = {**record, "sha256": document_hash(doc)}
    for item in missed:
        logger.warning("skipping %s: %s", item.path, item.reason)
    if not docs:
        reasons = "; ".join(f"{item.path}: {item.reason}" for item in missed[:5])
        more = f" (and {len(missed) - 5} more)" if len(missed) > 5 else ""
        raise CorpusError(f"corpus folder {corpus_dir} has no document with text: {reasons}{more}")
    return docs, sources, sorted(missed, key=lambda item: item.path)
