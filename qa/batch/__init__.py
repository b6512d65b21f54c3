"""Batch front end: answer a file of questions (.txt, .csv, .jsonl or stdin) into .jsonl, .csv or .md, atomically.

``read`` parses question files, ``write`` writes answer files, ``run`` answers a file in chunks
(:func:`answer_file`) and runs ``python -m qa batch`` (:func:`run_batch`).
"""
from __future__ import annotations

from .read import INPUT_FORMATS, STDIO, BatchError, BatchInputError, BatchLimitError, QuestionFile, Row, open_questions
from .run import CHUNK_SIZE, BatchStopped, answer_file, run_batch, stop_on_signals
from .write import OUTPUT_FORMATS, BatchSummary, markdown_escape

__all__ = ["answer_file", "run_batch", "open_questions", "QuestionFile", "Row", "BatchSummary", "BatchError",
           "BatchInputError", "BatchLimitError", "BatchStopped", "markdown_escape", "stop_on_signals",
           "INPUT_FORMATS", "OUTPUT_FORMATS", "STDIO", "CHUNK_SIZE"]
