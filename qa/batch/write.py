"""Batch output: answer entries as .jsonl, .csv or .md, streamed to a temp file that replaces the target when done."""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import secrets
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, TextIO
from urllib.parse import quote

from .read import STDIO, BatchError, QuestionFile, Row

if TYPE_CHECKING:
    from ..answer import Answer, Citation

logger = logging.getLogger(__name__)

OUTPUT_FORMATS = (".jsonl", ".csv", ".md")
_ACCEPTED_OUTPUT = "accepted: .jsonl, .csv or .md, or - for JSON Lines on standard output"
#: Fields of an answer or error entry; carried-through keys with these names are renamed ``input_<name>``.
_OUTPUT_KEYS = frozenset({"id", "question", "answerable", "answer", "answer_spans", "citations", "latency_ms",
                          "notes", "error"})
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#])")


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did: rows read, answered, abstained ("not in the article"), bad rows, wall time,
    and rows skipped because a resumed run had already written them."""

    read: int
    answered: int
    abstained: int
    errors: int
    seconds: float
    skipped: int = 0

    @property
    def per_second(self) -> float:
        """Rows handled per second (0.0 for an instant run)."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """The closing summary, e.g. ``read 3 questions: 2 answered, 0 abstained, 1 error in 0.10 s (30.0 questions/s)``."""
        done = f", {self.skipped} already in the answers file" if self.skipped else ""
        return (f"read {self.read} question{'' if self.read == 1 else 's'}: {self.answered} answered, "
                f"{self.abstained} abstained, {self.errors} error{'' if self.errors == 1 else 's'}{done} "
                f"in {self.seconds:.2f} s ({self.per_second:.1f} questions/s)")


def _carry(entry: dict, extra: dict[str, object]) -> dict:
    """``entry`` plus the carried-through keys; a key that names an output field becomes ``input_<key>``."""
    for key, value in extra.items():
        while key in entry or key in _OUTPUT_KEYS:
            key = f"input_{key}"
        entry[key] = value
    return entry


#: Characters that ``json.dumps(ensure_ascii=False)`` leaves raw but ``str.splitlines`` (and JavaScript,
#: for U+2028/U+2029) treat as line ends; escaped so one JSON Lines record stays one line for every reader.
_LINE_BREAKS = {ch: f"\\u{ord(ch):04x}" for ch in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
_LINE_BREAK_TABLE = str.maketrans(_LINE_BREAKS)
_HAS_LINE_BREAK = re.compile(f"[{''.join(_LINE_BREAKS)}]")


def json_line(value: dict) -> str:
    """``value`` as one line of JSON Lines: UTF-8 text kept readable, every line-break character escaped."""
    text = json.dumps(value, ensure_ascii=False)
    # translate() walks every character (~0.1 ms a record, 6% of a batch); most records have none to escape
    return text.translate(_LINE_BREAK_TABLE) if _HAS_LINE_BREAK.search(text) else text


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
        self.stream.write(json_line(entry_dict(row, answer)) + "\n")


class _CsvWriter(_Writer):
    def begin(self) -> None:
        fixed = ["id", "question", "answerable", "answer"]
        for n in range(1, self.top_k + 1):
            fixed += [f"citation_{n}_doc", f"citation_{n}_title", f"citation_{n}_paragraph", f"citation_{n}_passage",
                      f"citation_{n}_score"]
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
                cells.update({f"citation_{c.n}_doc": c.doc, f"citation_{c.n}_title": c.title,
                              f"citation_{c.n}_paragraph": c.paragraph, f"citation_{c.n}_passage": c.text,
                              f"citation_{c.n}_score": c.score})
        for name, value in row.extra.items():
            if name in self.carried:
                cells[self.carried[name]] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        self.writer.writerow([cells.get(column, "") for column in self.columns])


class _MarkdownWriter(_Writer):
    def begin(self) -> None:
        self.position = 0
        self.stream.write(f"# Answers to {markdown_escape(self.source.name)}\n\n")

    def _source(self, c: "Citation", several: bool = False) -> str:
        """Where citation ``c`` is: its paragraph (a link with ``base_url``), after its document's title
        when the answer cites ``several`` documents."""
        from ..answer import HEADLINE_PARAGRAPH

        anchor = f"p{c.paragraph}-s{c.answer_sentence}"  # the sentence that answers
        title = f"*{markdown_escape(c.title)}* " if several else ""
        label = "headline" if c.paragraph == HEADLINE_PARAGRAPH else f"¶{c.paragraph}"
        if self.base_url is None:
            return f"{title}{label} ({anchor})"
        return f"{title}[{label}]({self.base_url}/article/{quote(c.doc, safe='')}#{anchor})"

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
            several = len({c.doc for c in answer.citations}) > 1
            lines += [f"{c.n}. {self._source(c, several)} “{md(c.text)}” (score {c.score:.2f})"
                      for c in answer.citations]
            lines += [f"\n*Note: {md(note)}*" for note in answer.notes]
        self.stream.write("\n".join(lines) + "\n\n")

    def end(self, summary: BatchSummary) -> None:
        self.stream.write(f"---\n\n{summary.line()}\n")


#: The writer class of each output extension.
WRITERS = {".jsonl": _JsonlWriter, ".csv": _CsvWriter, ".md": _MarkdownWriter}


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
    """``base_url`` as :func:`qa.config.check_base_url` reads it, a bad one raised as :class:`BatchError`."""
    from ..config import SettingsError, check_base_url as check

    try:
        return check(base_url)
    except SettingsError as exc:
        raise BatchError(str(exc)) from None


@contextmanager
def atomic_stream(target: Path | None) -> Iterator[TextIO]:
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
        try:
            stream.close()  # flushes: on a full disk this raises too
        except OSError:
            pass
        finally:
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


def answered_ids(target: Path) -> Counter:
    """The ids of the entries already in a JSON Lines answers file (how many times each), for ``--resume``.

    An unfinished last line (the run was killed while writing it) is cut off the file so that
    the resumed run appends after the last whole entry.

    Raises:
        BatchError: a whole line is not an answer entry (not JSON, or without "id"): the file is
            not answers from ``qa batch``, so it is left alone.
    """
    done: Counter = Counter()
    if not target.exists():
        return done
    kept = 0
    with open(target, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                break  # unfinished: cut below
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict) or "id" not in entry:
                raise BatchError(f"cannot resume into {target}: line {number} is not an answer entry with an "
                                 f"\"id\"; give --out a new file or the answers of an earlier run")
            done[str(entry["id"])] += 1
            kept += len(line)
    size = target.stat().st_size
    if kept < size:
        logger.warning("%s: dropping an unfinished last entry (%d bytes) before resuming", target, size - kept)
        with open(target, "r+b") as handle:
            handle.truncate(kept)
    return done


@contextmanager
def append_stream(target: Path) -> Iterator[TextIO]:
    """A text stream appending to ``target`` (``--resume``): what is written stays even if the run is stopped."""
    stream = open(target, "a", encoding="utf-8", errors="backslashreplace", newline="")
    try:
        yield stream
    finally:
        try:
            stream.flush()
            os.fsync(stream.fileno())
        finally:
            stream.close()
