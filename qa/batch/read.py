"""Batch input: check a questions file (.txt, .csv, .jsonl or stdin) and parse it lazily into rows."""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, TextIO

logger = logging.getLogger(__name__)

INPUT_FORMATS = (".txt", ".csv", ".jsonl")
#: ``-`` as the questions path reads .txt-style lines from stdin; as the output path writes JSON Lines to stdout.
STDIO = "-"
#: A longer line is skipped (reported as a bad row) without being held in memory; questions are cut at 2,000 anyway.
MAX_LINE_CHARS = 1_000_000
#: Separator of earlier questions in a CSV ``history`` cell, and of document ids in a ``doc`` cell.
HISTORY_SEPARATOR = "||"
_ACCEPTED_INPUT = ("accepted: UTF-8 .txt (one question per line), .csv (with a 'question' column) or "
                   ".jsonl (objects with \"question\"), or - for lines on standard input")
_RESERVED_KEYS = ("question", "id", "history")


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
    is the text as written; ``doc`` the document id(s) to answer from (a ``doc`` column or key; None:
    any document); ``extra`` holds the carried-through columns or keys (``doc`` among them, so the
    output says which scope was asked); ``error`` is set (``"line 7: empty question"``) when the row
    cannot be answered.
    """

    where: str
    id: str
    question: str
    history: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    error: str | None = None
    doc: str | list[str] | None = None


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


def _object_hook(repeated: list[str]):
    """A ``json.loads`` ``object_pairs_hook`` that builds dicts and records keys written twice in ``repeated``."""
    def build(pairs: list[tuple[str, object]]) -> dict:
        built: dict = {}
        for key, value in pairs:
            if key in built and key not in repeated:
                repeated.append(key)
            built[key] = value
        return built
    return build


def _jsonl_rows(stream: TextIO, name: str) -> Iterator[Row]:
    for number, text in _read_lines(stream, name):
        where = f"line {number}"
        if text is None:
            yield Row(where, str(number), "", error=_too_long(where))
            continue
        if not text.strip():
            continue
        repeated: list[str] = []
        try:
            item = json.loads(text, object_pairs_hook=_object_hook(repeated))
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
        question, history, doc = item.get("question"), item.get("history"), item.get("doc")
        row = Row(where, _id_text(item.get("id"), number), question if isinstance(question, str) else "",
                  extra={k: v for k, v in item.items() if k not in _RESERVED_KEYS})
        if repeated:  # json keeps the last value silently; which one was meant is unknown
            shown = ", ".join(json.dumps(key, ensure_ascii=False) for key in repeated[:5])
            row.error = f"{where}: the JSON object repeats the key{'s' if len(repeated) > 1 else ''} {shown}; " \
                        f"write each key once"
        elif "question" not in item:
            keys = ", ".join(list(item)[:5]) or "none"
            row.error = f"{where}: no \"question\" key (keys: {keys})"
        elif not isinstance(question, str):
            row.error = f"{where}: \"question\" must be a string, got {_json_type(question)}"
        elif history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
            row.error = f"{where}: \"history\" must be a list of earlier questions (strings), got {_json_type(history)}"
        elif doc is not None and not (isinstance(doc, str) or isinstance(doc, list)
                                      and all(isinstance(d, str) for d in doc)):
            row.error = f"{where}: \"doc\" must be a document id or a list of them (strings), got {_json_type(doc)}"
        else:
            row.history = list(history or [])
            row.doc = doc if doc != "" else None
        yield row


@dataclass(frozen=True)
class _CsvColumns:
    question: int
    id: int | None
    history: int | None
    doc: int | None
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
        known = {question, find("id"), find("history")}   # "doc" is carried through too: the output shows it
        extra = tuple((i, cell) for i, cell in enumerate(header) if i not in known)
        return cls(question, find("id"), find("history"), find("doc"), extra, len(header))


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
                  {column: cells[i] for i, column in columns.extra},
                  doc=[d.strip() for d in cell(columns.doc).split(HISTORY_SEPARATOR) if d.strip()] or None)
        if problem is not None:
            row.error = f"{where}: {problem}"
        elif not row.question.strip():
            row.error = f"{where}: no question"
        yield row
