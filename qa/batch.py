"""Batch answering: read a file of questions (.txt, .csv, .jsonl or stdin), answer it in chunks, write .jsonl, .csv or .md atomically."""
from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import os
import re
import secrets
import sys
import time
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, TextIO
from urllib.parse import quote

from .config import DEFAULT_TOP_K, MAX_TOP_K
from .question import QuestionError, clean_question

if TYPE_CHECKING:
    import argparse

    from .answer import Answer, Citation
    from .engine import Engine

logger = logging.getLogger(__name__)

INPUT_FORMATS = (".txt", ".csv", ".jsonl")
OUTPUT_FORMATS = (".jsonl", ".csv", ".md")
#: ``-`` as the questions path reads .txt-style lines from stdin; as the output path writes JSON Lines to stdout.
STDIO = "-"
#: Questions answered per ``Engine.ask_many`` call and written per step: memory stays flat whatever the file size.
CHUNK_SIZE = 512
#: A longer line is skipped (reported as a bad row) without being held in memory; questions are cut at 2,000 anyway.
MAX_LINE_CHARS = 1_000_000
#: The progress bar shows for more questions than this.
PROGRESS_MIN = 20
#: Separator of earlier questions in a CSV ``history`` cell.
HISTORY_SEPARATOR = "||"
ENV_BASE_URL = "QA_BASE_URL"
#: Bad rows logged one by one; the rest are only counted (each is in the output anyway).
LOGGED_ERRORS = 10

_ACCEPTED_INPUT = ("accepted: UTF-8 .txt (one question per line), .csv (with a 'question' column) or "
                   ".jsonl (objects with \"question\"), or - for lines on standard input")
_ACCEPTED_OUTPUT = "accepted: .jsonl, .csv or .md, or - for JSON Lines on standard output"
_RESERVED_KEYS = ("question", "id", "history")
#: Fields of an answer or error entry; carried-through keys with these names are renamed ``input_<name>``.
_OUTPUT_KEYS = frozenset({"id", "question", "answerable", "answer", "answer_spans", "citations", "latency_ms",
                          "notes", "error"})
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#])")
_BASE_URL = re.compile(r"https?://[^\s<>()\[\]\"'`\\]+")


class BatchError(ValueError):
    """The batch cannot run: a bad setting, an unusable output path, or too many questions."""


class BatchInputError(BatchError):
    """The questions cannot be read at all: missing file, unknown extension, not UTF-8, no 'question' column."""


class BatchLimitError(BatchError):
    """The file holds more questions than ``max_questions`` allows."""


@dataclass
class Row:
    """One question row as read, before answering.

    ``where`` names it for messages ("line 7", or "line 8 (row 7)" in a CSV file); ``question``
    is the text as written; ``extra`` holds the carried-through columns or keys; ``error`` is
    set (``"line 7: empty question"``) when the row cannot be answered.
    """

    where: str
    id: str
    question: str
    history: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did: rows read, answered, abstained ("not in the article"), bad rows, wall time."""

    read: int
    answered: int
    abstained: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Rows handled per second (0.0 for an instant run)."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """The closing summary, e.g. ``read 3 questions: 2 answered, 0 abstained, 1 error in 0.10 s (30.0 questions/s)``."""
        return (f"read {self.read} question{'' if self.read == 1 else 's'}: {self.answered} answered, "
                f"{self.abstained} abstained, {self.errors} error{'' if self.errors == 1 else 's'} "
                f"in {self.seconds:.2f} s ({self.per_second:.1f} questions/s)")


# -- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuestionFile:
    """A questions source checked by :func:`open_questions`; :meth:`rows` parses it lazily.

    ``path`` is None for standard input; ``kind`` is ``"txt"``, ``"csv"`` or ``"jsonl"``;
    ``count`` is the number of rows :meth:`rows` yields (None for stdin, which is read once);
    ``extra_columns`` are the carried-through column or key names, in first-seen order.
    """

    path: Path | None
    kind: str
    count: int | None = None
    extra_columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return "standard input" if self.path is None else str(self.path)

    def rows(self) -> Iterator[Row]:
        """The rows in file order (blank and ``#`` lines of .txt skipped), each with its error if bad.

        Raises:
            BatchInputError: the text stops being UTF-8, or the CSV header has no 'question' column.
        """
        parse = {"txt": _txt_rows, "csv": _csv_rows, "jsonl": _jsonl_rows}[self.kind]
        with self._open() as stream:
            yield from parse(stream, self.name)

    @contextmanager
    def _open(self) -> Iterator[TextIO]:
        newline = "" if self.kind == "csv" else None  # csv needs the raw line ends for quoted multi-line fields
        if self.path is not None:
            try:
                stream = open(self.path, encoding="utf-8-sig", newline=newline)
            except OSError as exc:
                raise BatchInputError(f"cannot read questions from {self.path}: {exc.strerror or exc}; "
                                      f"{_ACCEPTED_INPUT}") from None
            with stream:
                yield stream
            return
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:  # stdin replaced by a text object
            yield sys.stdin
            return
        stream = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline=newline)
        try:
            yield stream
        finally:
            stream.detach()


def open_questions(path: str | os.PathLike) -> QuestionFile:
    """Check a questions file and count its rows, reading it once without keeping it in memory.

    Args:
        path: a ``.txt``, ``.csv`` or ``.jsonl`` file, or ``-`` for .txt-style lines on stdin
            (stdin is not read here, so its problems surface while answering).

    Returns:
        A :class:`QuestionFile` with ``count`` and ``extra_columns`` filled in.

    Raises:
        BatchInputError: the file is missing, a folder, unreadable, not UTF-8, of an unknown
            extension, or a CSV file without a 'question' column; the message lists the accepted formats.
    """
    if str(path) == STDIO:
        return QuestionFile(None, "txt")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_FORMATS:
        raise BatchInputError(f"cannot read questions from {path}: unknown extension "
                              f"{path.suffix or '(none)'!r}; {_ACCEPTED_INPUT}")
    if not path.exists():
        raise BatchInputError(f"questions file {path} does not exist; {_ACCEPTED_INPUT}")
    if path.is_dir():
        raise BatchInputError(f"questions file {path} is a folder; {_ACCEPTED_INPUT}")
    source = QuestionFile(path, suffix[1:])
    count, extra = 0, {}
    for row in source.rows():
        count += 1
        extra.update(dict.fromkeys(row.extra))
    return replace(source, count=count, extra_columns=tuple(extra))


def _read_lines(stream: TextIO, name: str, limit: int = MAX_LINE_CHARS) -> Iterator[tuple[int, str | None]]:
    """``(line number, line with its line end)`` per line; the text is None for a line over ``limit`` characters."""
    number = 0
    try:
        while text := stream.readline(limit + 1):
            number += 1
            if len(text) > limit and not text.endswith(("\n", "\r")):
                while text and not text.endswith(("\n", "\r")):  # skip the rest without keeping it
                    text = stream.readline(limit + 1)
                yield number, None
            else:
                yield number, text
    except UnicodeDecodeError as exc:
        raise BatchInputError(f"{name} is not UTF-8 text (byte {exc.object[exc.start]:#04x} around line "
                              f"{number + 1}); save it as UTF-8; {_ACCEPTED_INPUT}") from None


def _too_long(where: str) -> str:
    return f"{where}: line longer than {MAX_LINE_CHARS:,} characters; skipped"


def _txt_rows(stream: TextIO, name: str) -> Iterator[Row]:
    for number, text in _read_lines(stream, name):
        where = f"line {number}"
        if text is None:
            yield Row(where, str(number), "", error=_too_long(where))
            continue
        text = text.rstrip("\r\n")
        if text.strip() and not text.lstrip().startswith("#"):
            yield Row(where, str(number), text)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def _id_text(value: object, number: int) -> str:
    if value is None or value == "":
        return str(number)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _jsonl_rows(stream: TextIO, name: str) -> Iterator[Row]:
    for number, text in _read_lines(stream, name):
        where = f"line {number}"
        if text is None:
            yield Row(where, str(number), "", error=_too_long(where))
            continue
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Row(where, str(number), "", error=f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except (ValueError, RecursionError):
            yield Row(where, str(number), "", error=f"{where}: not valid JSON (nested too deeply or malformed)")
            continue
        if not isinstance(item, dict):
            yield Row(where, str(number), "", error=f"{where}: expected a JSON object with \"question\", "
                                                    f"got {_json_type(item)}")
            continue
        question, history = item.get("question"), item.get("history")
        row = Row(where, _id_text(item.get("id"), number), question if isinstance(question, str) else "",
                  extra={k: v for k, v in item.items() if k not in _RESERVED_KEYS})
        if "question" not in item:
            keys = ", ".join(list(item)[:5]) or "none"
            row.error = f"{where}: no \"question\" key (keys: {keys})"
        elif not isinstance(question, str):
            row.error = f"{where}: \"question\" must be a string, got {_json_type(question)}"
        elif history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
            row.error = f"{where}: \"history\" must be a list of earlier questions (strings), got {_json_type(history)}"
        else:
            row.history = list(history or [])
        yield row


@dataclass(frozen=True)
class _CsvColumns:
    question: int
    id: int | None
    history: int | None
    extra: tuple[tuple[int, str], ...]
    width: int

    @classmethod
    def from_header(cls, header: list[str], name: str) -> "_CsvColumns":
        lowered = [cell.strip().lower() for cell in header]

        def find(column: str) -> int | None:
            return lowered.index(column) if column in lowered else None

        question = find("question")
        if question is None:
            shown = ", ".join(repr(cell) for cell in header[:8]) or "none"
            raise BatchInputError(f"{name} has no 'question' column in its header row (columns: {shown}); "
                                  f"{_ACCEPTED_INPUT}")
        known = {question, find("id"), find("history")}
        extra = tuple((i, cell) for i, cell in enumerate(header) if i not in known)
        return cls(question, find("id"), find("history"), extra, len(header))


def _csv_rows(stream: TextIO, name: str) -> Iterator[Row]:
    overlong: set[int] = set()

    def lines() -> Iterator[str]:
        for number, text in _read_lines(stream, name):
            if text is None:
                overlong.add(number)
                text = "\n"  # an empty line keeps the parser in step; the row is reported below
            yield text

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        raise BatchInputError(f"{name} is empty; a CSV file needs a header row with a 'question' column; "
                              f"{_ACCEPTED_INPUT}") from None
    except csv.Error as exc:
        raise BatchInputError(f"{name}: cannot read the CSV header row ({exc}); {_ACCEPTED_INPUT}") from None
    columns = _CsvColumns.from_header(header, name)
    last_line, number = reader.line_num, 0
    while True:
        try:
            cells, problem = next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:
            cells, problem = [], f"cannot parse the CSV row ({exc})"
        first, last_line = last_line + 1, reader.line_num
        if any(first <= n <= last_line for n in overlong):
            problem = f"line longer than {MAX_LINE_CHARS:,} characters; skipped"
            overlong.clear()
        if not cells and problem is None:
            continue  # blank line
        number += 1
        where = f"line {first} (row {number})"
        if len(cells) > columns.width and any(cell.strip() for cell in cells[columns.width:]):
            problem = problem or f"{len(cells)} fields but the header has {columns.width}"
        cells = cells + [""] * (columns.width - len(cells))

        def cell(index: int | None) -> str:
            return cells[index] if index is not None else ""

        row = Row(where, cell(columns.id).strip() or str(number), cell(columns.question),
                  [h.strip() for h in cell(columns.history).split(HISTORY_SEPARATOR) if h.strip()],
                  {column: cells[i] for i, column in columns.extra})
        if problem is not None:
            row.error = f"{where}: {problem}"
        elif not row.question.strip():
            row.error = f"{where}: no question"
        yield row


# -- answering --------------------------------------------------------------------------------

def _answer_chunk(engine: "Engine", rows: list[Row], top_k: int) -> list["Answer | None"]:
    """One answer per row (None for a bad row), from a single ``ask_many`` call."""
    good = []
    for row in rows:
        if row.error is None:
            try:
                clean_question(row.question)
            except QuestionError:
                row.error = f"{row.where}: empty question"
                continue
            good.append(row)
    answers = iter(engine.ask_many([r.question for r in good], [r.history for r in good], top_k=top_k,
                                   ids=[r.id for r in good]) if good else [])
    return [None if row.error else next(answers) for row in rows]


def _carry(entry: dict, extra: dict[str, object]) -> dict:
    """``entry`` plus the carried-through keys; a key that names an output field becomes ``input_<key>``."""
    for key, value in extra.items():
        while key in entry or key in _OUTPUT_KEYS:
            key = f"input_{key}"
        entry[key] = value
    return entry


def entry_dict(row: Row, answer: "Answer | None") -> dict:
    """The JSON Lines object for a row: the answer object, or ``{"id", "question", "error"}``, plus carried keys."""
    entry = answer.to_dict() if answer is not None else {"id": row.id, "question": row.question, "error": row.error}
    return _carry(entry, row.extra)


def markdown_escape(text: str) -> str:
    """``text`` on one line with Markdown and HTML syntax characters backslash-escaped (rendered literally)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


class _Writer:
    """Writes entries in input order to a text stream; one subclass per output format."""

    def __init__(self, stream: TextIO, source: QuestionFile, top_k: int, base_url: str | None) -> None:
        self.stream = stream
        self.source = source
        self.top_k = top_k
        self.base_url = base_url

    def begin(self) -> None:
        pass

    def write(self, row: Row, answer: "Answer | None") -> None:
        raise NotImplementedError

    def end(self, summary: BatchSummary) -> None:
        pass


class _JsonlWriter(_Writer):
    def write(self, row: Row, answer: "Answer | None") -> None:
        self.stream.write(json.dumps(entry_dict(row, answer), ensure_ascii=False) + "\n")


class _CsvWriter(_Writer):
    def begin(self) -> None:
        fixed = ["id", "question", "answerable", "answer"]
        for n in range(1, self.top_k + 1):
            fixed += [f"citation_{n}_paragraph", f"citation_{n}_passage", f"citation_{n}_score"]
        fixed.append("error")
        taken = dict.fromkeys(fixed)
        self.carried = {}
        for name in self.source.extra_columns:
            column = name
            while column in taken:
                column = f"input_{column}"
            taken[column] = None
            self.carried[name] = column
        self.columns = list(taken)
        self.writer = csv.writer(self.stream)
        self.writer.writerow(self.columns)

    def write(self, row: Row, answer: "Answer | None") -> None:
        cells: dict[str, object] = {"id": row.id, "question": row.question, "error": row.error or ""}
        if answer is not None:
            cells.update(id=answer.id, question=answer.question, answer=answer.answer,
                         answerable="true" if answer.answerable else "false")
            for c in answer.citations:
                cells.update({f"citation_{c.n}_paragraph": c.paragraph, f"citation_{c.n}_passage": c.text,
                              f"citation_{c.n}_score": c.score})
        for name, value in row.extra.items():
            if name in self.carried:
                cells[self.carried[name]] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        self.writer.writerow([cells.get(column, "") for column in self.columns])


class _MarkdownWriter(_Writer):
    def begin(self) -> None:
        self.position = 0
        self.stream.write(f"# Answers to {markdown_escape(self.source.name)}\n\n")

    def _source(self, c: "Citation") -> str:
        anchor = f"p{c.paragraph}-s{c.sentence}"
        if self.base_url is None:
            return f"¶{c.paragraph} ({anchor})"
        return f"[¶{c.paragraph}]({self.base_url}/article/{quote(c.doc, safe='')}#{anchor})"

    def write(self, row: Row, answer: "Answer | None") -> None:
        self.position += 1
        md = markdown_escape
        if answer is None:
            lines = [f"## {self.position}. {md(row.question) or '(no question)'}", "", f"*id {md(row.id)}*", "",
                     f"**Error:** {md(row.error or '')}"]
        else:
            lines = [f"## {self.position}. {md(answer.question)}", "", f"*id {md(answer.id)}*", ""]
            if answer.answerable:
                lines += [f"**Answer:** {md(answer.answer)}", "", "Sources:", ""]
            else:
                lines += [f"**Not answered:** {md(answer.answer)}", "", "Closest passages (they do not answer it):", ""]
            lines += [f"{c.n}. {self._source(c)} “{md(c.text)}” (score {c.score:.2f})" for c in answer.citations]
            lines += [f"\n*Note: {md(note)}*" for note in answer.notes]
        self.stream.write("\n".join(lines) + "\n\n")

    def end(self, summary: BatchSummary) -> None:
        self.stream.write(f"---\n\n{summary.line()}\n")


_WRITERS = {".jsonl": _JsonlWriter, ".csv": _CsvWriter, ".md": _MarkdownWriter}


def output_path(out: str | os.PathLike, source: QuestionFile | None = None) -> Path | None:
    """Check where answers go: the path (None for ``-``, stdout).

    Raises:
        BatchError: unknown extension (the message lists the accepted ones), a folder, a missing
            or read-only parent folder, or the questions file itself.
    """
    if str(out) == STDIO:
        return None
    path = Path(out)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise BatchError(f"cannot write answers to {path}: unknown extension {path.suffix or '(none)'!r}; "
                         f"{_ACCEPTED_OUTPUT}")
    if path.is_dir():
        raise BatchError(f"answers path {path} is a folder; give a file such as {path / 'answers.jsonl'}")
    parent = path.parent
    if not parent.is_dir():
        raise BatchError(f"cannot write {path}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise BatchError(f"cannot write {path}: folder {parent} is not writable")
    if source is not None and source.path is not None and path.exists() and path.samefile(source.path):
        raise BatchError(f"answers path {path} is the questions file; choose another --out")
    return path


def check_base_url(base_url: str | None) -> str | None:
    """``base_url`` without a trailing slash (None stays None).

    Raises:
        BatchError: it is not an http(s) URL without spaces, quotes or brackets.
    """
    if base_url is None:
        return None
    if not _BASE_URL.fullmatch(base_url):
        raise BatchError(f"base URL must be an http:// or https:// address without spaces, quotes or "
                         f"brackets, e.g. https://qa.example.org; got {base_url!r}")
    return base_url.rstrip("/")


@contextmanager
def _atomic_stream(target: Path | None) -> Iterator[TextIO]:
    """A text stream that becomes ``target`` only when the block ends without an exception.

    Writes to a temporary file in the same folder, fsyncs it and ``os.replace``\\ s it over
    ``target``; on any exception (including Ctrl-C) the temporary file is removed and an
    existing ``target`` is left as it was. ``target`` None streams to stdout instead.
    """
    if target is None:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            yield sys.stdout
            sys.stdout.flush()
            return
        sys.stdout.flush()
        stream = io.TextIOWrapper(buffer, encoding="utf-8", errors="backslashreplace", newline="")
        try:
            yield stream
        finally:
            stream.detach()  # flushes; stdout itself stays open
        return
    temp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    # backslashreplace: a lone surrogate from JSON input is written as a \udXXX escape, still valid JSON
    stream = open(temp, "x", encoding="utf-8", errors="backslashreplace", newline="")
    try:
        yield stream
        stream.flush()
        os.fsync(stream.fileno())
        stream.close()
        os.replace(temp, target)
    except BaseException:
        stream.close()
        temp.unlink(missing_ok=True)
        raise
    try:
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:  # some filesystems cannot fsync a folder; the replace itself is done
        pass


def _progress_bar(total: int | None, seen: int):
    """A tqdm bar on stderr once more than ``PROGRESS_MIN`` rows are known (``total``, else ``seen`` so far)."""
    if (total if total is not None else seen) <= PROGRESS_MIN:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="q", desc="answering", file=sys.stderr, dynamic_ncols=True)


def answer_file(engine: "Engine", questions: str | Path | QuestionFile, out: str | Path,
                top_k: int = DEFAULT_TOP_K, base_url: str | None = None, max_questions: int | None = None,
                progress: bool = False) -> BatchSummary:
    """Answer every question of a file and write the answers, in input order, atomically.

    Rows are read lazily and answered ``CHUNK_SIZE`` (512) at a time with one
    :meth:`Engine.ask_many` call each, then written, so memory stays flat. A bad row (empty
    question, unparsable JSON line, CSV row without a question, over-long line) becomes an
    error entry in its place, e.g. ``{"id": "7", "question": "", "error": "line 7: empty question"}``.

    Usage example:
        >>> from qa import Engine
        >>> engine = Engine.load()
        >>> answer_file(engine, "questions.txt", "answers.jsonl").line()  # doctest: +SKIP
        'read 3 questions: 2 answered, 1 abstained, 0 errors in 0.05 s (60.0 questions/s)'

    Args:
        engine: the loaded engine.
        questions: ``.txt`` (one question per line; blank and ``#`` lines skipped), ``.csv``
            (a 'question' column, any case; optional 'id' and 'history' joined by ``" || "``),
            ``.jsonl`` (objects with "question", optional "id" and "history" list), ``-`` for
            .txt-style lines on stdin, or a :class:`QuestionFile` from :func:`open_questions`.
            Other CSV columns / JSON keys are carried through to .csv and .jsonl output (renamed
            ``input_<name>`` where they clash with an output field). ``id`` defaults to the line
            number (the row number in a CSV file, 1 = first row after the header).
        out: ``.jsonl`` (one answer object per question, as :meth:`Answer.to_dict`), ``.csv``
            (id, question, answerable, answer, paragraph/passage/score of citations 1..top_k,
            error, carried columns), ``.md`` (a readable report), or ``-`` for JSON Lines on stdout.
        top_k: citations per answer, 1 to 20. Defaults to 3.
        base_url: site serving ``/article/{doc}``; .md citations then link to
            ``{base_url}/article/{doc}#p{paragraph}-s{sentence}``. Defaults to None (plain
            ``¶paragraph (anchor)``).
        max_questions: refuse files with more rows than this. Defaults to None (no limit); a file
            is refused before any answering, stdin when the limit is passed.
        progress: show a tqdm bar on stderr for more than 20 questions. Defaults to False.

    Returns:
        A :class:`BatchSummary` of the run.

    Raises:
        BatchInputError: the questions cannot be read (the message lists the accepted formats).
        BatchLimitError: more rows than ``max_questions``.
        BatchError: bad ``top_k``, ``max_questions``, ``base_url`` or output path.
        OSError: the answers cannot be written (an existing answers file is then left untouched).
    """
    started = time.perf_counter()
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise BatchError(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}")
    if max_questions is not None and (isinstance(max_questions, bool) or not isinstance(max_questions, int)
                                      or max_questions < 1):
        raise BatchError(f"max_questions must be a positive integer or None, got {max_questions!r}")
    source = questions if isinstance(questions, QuestionFile) else open_questions(questions)
    target = output_path(out, source)
    base_url = check_base_url(base_url)

    def check_limit(count: int) -> None:
        if max_questions is not None and count > max_questions:
            raise BatchLimitError(f"{source.name} has {'more than ' if source.count is None else ''}{count:,} "
                                  f"questions; at most {max_questions:,} are allowed per batch")

    if source.count is not None:
        check_limit(source.count)
    read = answered = abstained = errors = 0
    bar = None
    try:
        with ExitStack() as stack:
            stream = stack.enter_context(_atomic_stream(target))
            writer = _WRITERS[".jsonl" if target is None else target.suffix.lower()](stream, source, top_k, base_url)
            writer.begin()
            rows = stack.enter_context(closing(source.rows()))
            while chunk := list(itertools.islice(rows, CHUNK_SIZE)):
                check_limit(read + len(chunk))
                if progress and bar is None:
                    bar = _progress_bar(source.count, read + len(chunk))
                for row, answer in zip(chunk, _answer_chunk(engine, chunk, top_k)):
                    if answer is None:
                        errors += 1
                        if errors <= LOGGED_ERRORS:
                            logger.warning("%s", row.error)
                    elif answer.answerable:
                        answered += 1
                    else:
                        abstained += 1
                    writer.write(row, answer)
                read += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            summary = BatchSummary(read, answered, abstained, errors, round(time.perf_counter() - started, 3))
            writer.end(summary)
    finally:
        if bar is not None:
            bar.close()
    if errors > LOGGED_ERRORS:
        logger.warning("%d more bad rows; each has an \"error\" entry in the answers", errors - LOGGED_ERRORS)
    logger.info("%s -> %s: %s", source.name, "stdout" if target is None else target, summary.line())
    return summary


# -- command line -----------------------------------------------------------------------------

def run_batch(args: "argparse.Namespace", load_engine: Callable[[], "Engine"]) -> int:
    """``python -m qa batch``: check the paths, load the engine, answer, print the summary on stderr.

    The questions file and the output path are checked before the engine loads, so a bad path
    fails in well under a second.

    Returns:
        The exit code: 0 the file was read (bad rows are reported in place), 1 bad rows with
        ``--strict`` or the answers could not be written, 2 the input cannot be read or a bad option.
    """
    from .cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE

    base_url = getattr(args, "base_url", None) or os.environ.get(ENV_BASE_URL) or None
    try:
        source = open_questions(args.questions)
        output_path(args.out, source)
        check_base_url(base_url)
    except BatchError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    engine = load_engine()
    try:
        summary = answer_file(engine, source, args.out, top_k=args.top_k, base_url=base_url,
                              progress=sys.stderr.isatty())
    except BatchError as exc:  # stdin that is not UTF-8
        print(f"qa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `| head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        print(f"qa: error: cannot write answers to {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    print(summary.line() + ("" if args.out == STDIO else f" -> {args.out}"), file=sys.stderr)
    return EXIT_FAILED if args.strict and summary.errors else EXIT_OK
