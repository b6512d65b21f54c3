"""Batch answering: answer a file of questions (read by :mod:`qa.batch.read`) in chunks, written by :mod:`qa.batch.write`."""
from __future__ import annotations

import itertools
import logging
import os
import signal
import sys
import threading
import time
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..config import DEFAULT_TOP_K, MAX_TOP_K
from ..exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ..question import QuestionError
from .read import (INPUT_FORMATS, STDIO, BatchError, BatchInputError, BatchLimitError, QuestionFile, Row,
                   open_questions)
from .write import (OUTPUT_FORMATS, WRITERS, BatchSummary, answered_ids, append_stream, atomic_stream,
                    check_base_url, markdown_escape, output_path)

if TYPE_CHECKING:
    from ..answer import Answer
    from ..engine import Engine

__all__ = ["answer_file", "run_batch", "open_questions", "QuestionFile", "BatchSummary", "BatchError",
           "BatchInputError", "BatchLimitError", "BatchStopped", "markdown_escape", "INPUT_FORMATS",
           "OUTPUT_FORMATS"]

logger = logging.getLogger(__name__)

#: Questions answered per ``Engine.ask_many`` call and written per step: memory stays flat whatever the file size.
CHUNK_SIZE = 512
#: The progress bar shows for more questions than this.
PROGRESS_MIN = 20
#: Bad rows logged one by one; the rest are only counted (each is in the output anyway).
LOGGED_ERRORS = 10


#: Signals that stop a command-line batch like Ctrl-C does (temp files removed, resumable answers kept).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class BatchStopped(BaseException):
    """A stop signal (SIGTERM, SIGHUP) arrived during a batch; like KeyboardInterrupt, not an ``Exception``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


@contextmanager
def stop_on_signals():
    """Within the block, SIGTERM and SIGHUP raise :class:`BatchStopped` (main thread only; else nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise BatchStopped(signum)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# -- answering --------------------------------------------------------------------------------

def _answer_chunk(engine: "Engine", rows: list[Row], top_k: int,
                  doc: str | list[str] | None = None) -> list["Answer | None"]:
    """One answer per row (None for a bad row, whose ``error`` is then set), from a single ``ask_many`` call;
    a row without its own ``doc`` is scoped to ``doc``."""
    from ..engine import QuestionFailure   # loaded already: the engine answering is its

    good = [row for row in rows if row.error is None]
    results = iter(engine.ask_many([r.question for r in good], [r.history for r in good], top_k=top_k,
                                   ids=[r.id for r in good], docs=[r.doc or doc for r in good]) if good else [])
    out = []
    for row in rows:
        result = None if row.error else next(results)
        if isinstance(result, QuestionFailure):
            row.error, result = f"{row.where}: {result.error}", None
        out.append(result)
    return out


def _progress_bar(total: int | None, seen: int):
    """A tqdm bar on stderr once more than ``PROGRESS_MIN`` rows are known (``total``, else ``seen`` so far)."""
    if (total if total is not None else seen) <= PROGRESS_MIN:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="q", desc="answering", file=sys.stderr, dynamic_ncols=True)


def answer_file(engine: "Engine", questions: str | Path | QuestionFile, out: str | Path,
                top_k: int = DEFAULT_TOP_K, base_url: str | None = None, max_questions: int | None = None,
                progress: bool = False, resume: bool = False, doc: str | list[str] | None = None) -> BatchSummary:
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
            An optional "doc" column or key scopes a row to a document id (JSON Lines: or a list of
            ids; CSV: ids joined by ``" || "``); an id not in the corpus makes that row an error entry.
            Other CSV columns / JSON keys are carried through to .csv and .jsonl output (renamed
            ``input_<name>`` where they clash with an output field). ``id`` defaults to the line
            number (the row number in a CSV file, 1 = first row after the header).
        out: ``.jsonl`` (one answer object per question, as :meth:`Answer.to_dict`), ``.csv``
            (id, question, answerable, answer, doc/title/paragraph/passage/score of citations 1..top_k,
            error, carried columns), ``.md`` (a readable report), or ``-`` for JSON Lines on stdout.
        top_k: citations per answer, 1 to 20. Defaults to 3.
        base_url: site serving ``/article/{doc}``; .md citations then link to
            ``{base_url}/article/{doc}#p{paragraph}-s{sentence}``. Defaults to None (plain
            ``¶paragraph (anchor)``).
        max_questions: refuse files with more rows than this. Defaults to None (no limit); a file
            is refused before any answering, stdin when the limit is passed.
        progress: show a tqdm bar on stderr for more than 20 questions. Defaults to False.
        resume: append to ``out`` (a ``.jsonl`` file) as answers are made, skipping the rows whose
            id is already in it, so a run stopped for any reason continues where it stopped when
            started again with the same arguments (ids are matched, duplicates by count). Defaults
            to False: ``out`` is replaced only once the whole run is done.
        doc: the document id(s) every row without its own "doc" is answered from. Defaults to None:
            any document.

    Returns:
        A :class:`BatchSummary` of the run.

    Raises:
        BatchInputError: the questions cannot be read (the message lists the accepted formats).
        BatchLimitError: more rows than ``max_questions``.
        BatchError: bad ``top_k``, ``max_questions``, ``base_url`` or output path; ``resume`` with
            output other than a ``.jsonl`` file, or into a file that holds something else.
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
    if resume and (target is None or target.suffix.lower() != ".jsonl"):
        raise BatchError(f"--resume appends to a .jsonl answers file; got {out}")
    done = answered_ids(target) if resume else None

    def check_limit(count: int) -> None:
        if max_questions is not None and count > max_questions:
            raise BatchLimitError(f"{source.name} has {'more than ' if source.count is None else ''}{count:,} "
                                  f"questions; at most {max_questions:,} are allowed per batch")

    if source.count is not None:
        check_limit(source.count)
    read = answered = abstained = errors = skipped = 0
    bar = None
    try:
        with ExitStack() as stack:
            stream = stack.enter_context(atomic_stream(target) if done is None else append_stream(target))
            writer = WRITERS[".jsonl" if target is None else target.suffix.lower()](stream, source, top_k, base_url)
            writer.begin()
            rows = stack.enter_context(closing(source.rows()))
            while chunk := list(itertools.islice(rows, CHUNK_SIZE)):
                check_limit(read + len(chunk))
                if progress and bar is None:
                    bar = _progress_bar(source.count, read + len(chunk))
                size = len(chunk)
                read += size
                if done:
                    fresh = [row for row in chunk if not _seen(done, row.id)]
                    skipped += size - len(fresh)
                    chunk = fresh
                for row, answer in zip(chunk, _answer_chunk(engine, chunk, top_k, doc)):
                    if answer is None:
                        errors += 1
                        if errors <= LOGGED_ERRORS:
                            logger.warning("%s", row.error)
                    elif answer.answerable:
                        answered += 1
                    else:
                        abstained += 1
                    writer.write(row, answer)
                if done is not None:  # what is written stays, whatever stops the run next
                    stream.flush()
                if bar is not None:
                    bar.update(size)
            summary = BatchSummary(read, answered, abstained, errors, round(time.perf_counter() - started, 3),
                                   skipped)
            writer.end(summary)
    finally:
        if bar is not None:
            bar.close()
    if errors > LOGGED_ERRORS:
        logger.warning("%d more bad rows; each has an \"error\" entry in the answers", errors - LOGGED_ERRORS)
    logger.info("%s -> %s: %s", source.name, "stdout" if target is None else target, summary.line())
    return summary


def _seen(done: "dict[str, int]", row_id: str) -> bool:
    """Whether a resumed run already wrote this id (each earlier entry covers one row with it)."""
    if done.get(row_id, 0) > 0:
        done[row_id] -= 1
        return True
    return False


# -- command line -----------------------------------------------------------------------------

def run_batch(questions: str, out: str, load_engine: Callable[[], "Engine"], *, top_k: int | None = None,
              base_url: str | None = None, resume: bool = False, strict: bool = False, progress: bool = False,
              report: Callable[[str], None] = logger.warning, doc: list[str] | None = None) -> int:
    """``python -m qa batch``: check the paths, load the engine, answer, report the summary.

    The questions file and the output path are checked before the engine loads, so a bad path
    fails in well under a second.

    SIGTERM and SIGHUP stop the run like Ctrl-C: the temporary answers file is removed (the old
    answers stay), or with ``resume`` the answers written so far stay for the next run.

    Args:
        questions: the questions file, or ``-`` for stdin (see :func:`answer_file`).
        out: the answers file, or ``-`` for JSON Lines on stdout.
        load_engine: called once the paths are checked; returns the engine.
        top_k: citations per answer. Defaults to None: the engine's setting (3 unless configured).
        base_url: site for the .md report's links. Defaults to None: no links (the CLI passes ``$QA_BASE_URL``).
        resume: continue an interrupted run (see :func:`answer_file`). Defaults to False.
        strict: a bad row makes the exit code 1. Defaults to False.
        progress: show a progress bar on stderr. Defaults to False.
        report: called with each line for the user (errors, the summary). Defaults to ``logger.warning``;
            the command line prints them on stderr.
        doc: document ids the rows without a "doc" of their own are answered from (``--doc``). Defaults to
            None: any document.

    Returns:
        The exit code: 0 the file was read (bad rows are reported in place), 1 bad rows with
        ``strict`` or the answers could not be written, 2 the input cannot be read or a bad option,
        128 + the signal number when stopped by SIGTERM or SIGHUP.
    """
    try:
        source = open_questions(questions)
        target = output_path(out, source)
        base_url = check_base_url(base_url)
        if resume and (target is None or target.suffix.lower() != ".jsonl"):
            raise BatchError(f"--resume appends to a .jsonl answers file; got --out {out}")
    except BatchError as exc:
        report(f"qa: error: {exc}")
        return EXIT_USAGE
    engine = load_engine()
    try:
        engine.scope(doc)   # a wrong --doc is the command's mistake, not every row's
    except QuestionError as exc:
        report(f"qa: error: --doc: {exc}")
        return EXIT_USAGE
    try:
        with stop_on_signals():
            summary = answer_file(engine, source, out, top_k=top_k or engine.settings.top_k, base_url=base_url,
                                  progress=progress, resume=resume, doc=doc)
    except BatchStopped as stop:
        kept = (f"the answers written so far are in {out}; run the same command to continue" if resume
                else f"{out} was not changed (with --resume, answers are kept as they are written)")
        report(f"qa: stopped by {stop.name}; {kept}")
        return 128 + stop.signum
    except BatchError as exc:  # stdin that is not UTF-8, or --resume into a file of something else
        report(f"qa: error: {exc}")
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `| head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        report(f"qa: error: cannot write answers to {out}: {exc.strerror or exc}")
        return EXIT_FAILED
    report(summary.line() + ("" if out == STDIO else f" -> {out}"))
    return EXIT_FAILED if strict and summary.errors else EXIT_OK
